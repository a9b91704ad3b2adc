"""The config of a sales-forecast experiment: series in long format, a rolling-origin
backtest, intervals, and the engine the candidates are fitted on (local or Spark).

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import DataConfigBase, ExperimentBase


class ForecastDataConfig(DataConfigBase):
    """Where the series are: key column(s), date column, target and exogenous columns."""

    id: str | list[str]
    time: str
    freq: str | None = None
    exog: list[str] = Field(default_factory=list)
    # Returns: keep negative values (default), clip them to 0, or refuse the file.
    negative: Literal["keep", "clip", "error"] = "keep"


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
