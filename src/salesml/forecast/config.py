"""The config of a sales-forecast experiment: series in long format, a rolling-origin
backtest, intervals, and the engine the candidates are fitted on (local or Spark).

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import DataConfigBase, ExperimentBase


class ExogConfig(_Strict):
    """Exogenous columns: ``future`` (known when forecasting) and ``past`` (observed only).

    ``data.exog: [a, b]`` (a plain list) means ``{future: [a, b]}``. ``lags``: the
    lags of the past columns, each at least the horizon (default: the horizon); see
    :mod:`salesml.forecast.covariates`.
    """

    future: list[str] = Field(default_factory=list)
    past: list[str] = Field(default_factory=list)
    lags: list[int] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> ExogConfig:
        seen: set[str] = set()
        for col in [*self.future, *self.past]:
            if col in seen:
                role = (
                    "both future and past" if col in self.future and col in self.past else "twice"
                )
                raise ValueError(f"exog column {col!r} is listed {role}; list it once")
            seen.add(col)
        return self

    @property
    def columns(self) -> list[str]:
        """Every exogenous column, future then past."""
        return [*self.future, *self.past]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        """Every column, as iterating the plain list did (``set(data.exog)``)."""
        return iter(self.columns)

    def __len__(self) -> int:
        """How many columns (an empty ``data.exog`` is false, as the empty list was)."""
        return len(self.columns)


class ForecastDataConfig(DataConfigBase):
    """Where the series are: key column(s), date column, target and exogenous columns."""

    id: str | list[str]
    time: str
    freq: str | None = None
    exog: ExogConfig = Field(default_factory=ExogConfig)
    # Returns: keep negative values (default), clip them to 0, or refuse the file.
    negative: Literal["keep", "clip", "error"] = "keep"

    @field_validator("exog", mode="before")
    @classmethod
    def _exog_list(cls, value: Any) -> Any:
        # a plain list: every column known in advance (the shape before future/past)
        return {"future": value} if isinstance(value, list) else value

    # Periods without a row: no sale (zero, default) or missing (a series ends at its last row);
    # a series silent for discontinued_after periods at the end (default half a year: 26 weeks,
    # 6 months, 181 days; at least half a season) is left out as discontinued.
    fill: Literal["zero", "missing"] = "zero"
    discontinued_after: int | None = Field(default=None, ge=1)


class BacktestConfig(_Strict):
    windows: int = Field(default=3, ge=1, le=52)
    step: int | None = Field(default=None, ge=1)


class SparkConfig(_Strict):
    """Where ``engine: spark`` runs (:mod:`salesml.forecast.spark`): ``master`` URL (left
    out: ``SALESML_SPARK_MASTER``, else Spark's default), extra ``conf`` settings, and
    ``min_series``: a fit of fewer series runs on the driver (a Spark job costs seconds)."""

    master: str | None = Field(default=None, min_length=1)
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    min_series: int = Field(default=50, ge=2)


class ForecastExperiment(ExperimentBase):
    """A sales forecast: series in long format, a rolling-origin backtest, intervals."""

    family: ClassVar[str] = "forecast"
    task: Literal["forecast"]
    data: ForecastDataConfig
    horizon: int = Field(ge=1)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    season_length: int | None = Field(default=None, ge=1)
    # fit seasonal models only on series whose autocorrelation at the season is significant
    # (auto: where the season is long, i.e. weekly data); see salesml.forecast.seasonality
    seasonality_test: Literal["auto", "on", "off"] = "auto"
    engine: Literal["local", "spark"] = "local"  # where candidates are fitted
    spark: SparkConfig = Field(default_factory=SparkConfig)
    baselines: list[candidate_union("forecast", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("forecast", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    @field_validator("seasonality_test", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        # YAML reads a bare on/off as a boolean
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        if any(not 0 < lv < 100 for lv in value):
            bad = ", ".join(str(lv) for lv in value if not 0 < lv < 100)
            raise ValueError(f"levels are percentages strictly between 0 and 100, got {bad}")
        return sorted(set(value))

    @model_validator(mode="after")
    def _past_lags(self) -> ForecastExperiment:
        """A past covariate lagged by less than the horizon would be unknown when forecasting."""
        short = [lag for lag in self.data.exog.lags or [] if lag < self.horizon]
        if short:
            raise ValueError(
                f"data.exog.lags {', '.join(map(str, short))}: a past covariate must be lagged by at "
                f"least the horizon ({self.horizon}), since its later values are not known when "
                "the forecast is made"
            )
        return self

    @model_validator(mode="after")
    def _combined_after_members(self) -> ForecastExperiment:
        """A candidate tagged ``combines`` (the ensemble) comes after every model it may combine.

        It averages their fits, so they must be fitted first; with default members it ranks
        every model, so every model must come first (:mod:`salesml.forecast.ensemble`).
        """
        cands = [c for _, c in self.candidates]
        names = [c.name for c in cands]
        for i, cand in enumerate(cands):
            if "combines" not in cand.spec.tags:
                continue
            named = cand.params.get("members")
            if named is None:
                late = [c.name for c in cands[i + 1 :] if "combines" not in c.spec.tags]
            else:
                unknown = [n for n in named if n not in names]
                if unknown:
                    raise ValueError(
                        f"{cand.name}: members {', '.join(map(repr, unknown))} are not "
                        f"candidates of this config; choose from {', '.join(names[:i]) or 'none'}"
                    )
                late = [n for n in named if n not in names[:i]]
            if late:
                raise ValueError(
                    f"{cand.name} combines the fits of {', '.join(map(repr, late))}: "
                    "list it after them"
                )
        return self
