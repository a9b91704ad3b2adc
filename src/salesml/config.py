"""Experiment config: typed pydantic models per task, YAML loading and ``--set`` overrides.

A config is validated once, here, at the edge. A classification experiment
(``task: lead_conversion`` or ``churn``) and a forecast experiment
(``task: forecast``) are different models, and every candidate type is a model
of its own, generated from its declaration in the wing's registry
(:mod:`salesml.registry`): it accepts exactly its own options, and any key that
does not apply stops the run with one paragraph naming the file and the key.
Downstream code receives an :class:`ExperimentConfig` whose paths are absolute
and whose candidate lists are normalised (``- prior`` becomes ``{type: prior}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from salesml.candidate_config import (
    CandidateConfig,
    _Strict,
    candidate_union,
    normalise_candidates,
)
from salesml.errors import ConfigError
from salesml.overrides import apply_overrides, yaml_problem
from salesml.registry import TASK_FAMILY, spec_for

CLASSIFICATION_TASKS = ("lead_conversion", "churn")
TASKS = (*CLASSIFICATION_TASKS, "forecast")


class LabelFrom(_Strict):
    """Build a binary target: a row is positive when its ``key`` occurs in ``path``.

    Only the key column of that file is read, so none of its other columns can
    leak into the features.
    """

    path: Path
    key: str


class GenerateConfig(_Strict):
    """Create ``data.path`` with a synthetic generator when the file is missing."""

    kind: Literal["leads", "customers", "sales", "opportunities", "weekly_sales"]
    rows: int = Field(ge=1)
    seed: int = 0
    # weekly_sales only: weeks of history, or [shortest, longest] for mixed lengths.
    weeks: int | tuple[int, int] | None = None

    @model_validator(mode="after")
    def _weeks_for_weekly(self) -> GenerateConfig:
        if self.weeks is not None and self.kind != "weekly_sales":
            raise ValueError(f"weeks applies to kind weekly_sales only, not {self.kind}")
        return self


class ReadConfig(_Strict):
    """How to read the file: a CSV's delimiter, decimal mark and encoding when sniffing
    guesses wrong; an Excel workbook's sheet (name or 0-based position)."""

    sep: Literal[",", ";", "\t", "|"] | None = None
    decimal: Literal[".", ","] | None = None
    encoding: str | None = None
    sheet: str | int | None = None


class _DataConfig(_Strict):
    path: Path
    target: str
    date_format: str | None = None
    read: ReadConfig | None = None
    generate: GenerateConfig | None = None

    @property
    def id_columns(self) -> list[str]:
        ids = getattr(self, "id", None)
        if ids is None:
            return []
        return [ids] if isinstance(ids, str) else list(ids)


class ClassificationDataConfig(_DataConfig):
    """Where the rows are and which column is the outcome."""

    positive: str | int | float | bool | None = None
    id: str | list[str] | None = None
    time: str | None = None
    drop: list[str] = Field(default_factory=list)
    label_from: LabelFrom | None = None
    # When a row is scored: date columns later than this leak (default: ``time``).
    label_time: str | None = None


class ForecastDataConfig(_DataConfig):
    """Where the series are: key column(s), date column, target and exogenous columns."""

    id: str | list[str]
    time: str
    freq: str | None = None
    exog: list[str] = Field(default_factory=list)
    # Returns: keep negative values (default), clip them to 0, or refuse the file.
    negative: Literal["keep", "clip", "error"] = "keep"


class LeakageConfig(_Strict):
    """The leakage guard run before training (:mod:`salesml.classify.leakage`).

    ``on_flag``: ``warn`` prints each flag and trains, ``fail`` stops before
    training, ``drop`` removes the flagged columns. ``allow`` lists columns
    known to be fine: their flags are recorded but do nothing.
    """

    on_flag: Literal["warn", "fail", "drop"] = "warn"
    auc_threshold: float = Field(default=0.95, gt=0.5, le=1)
    allow: list[str] = Field(default_factory=list)


class ReportConfig(_Strict):
    """What ``salesml report`` adds to the page: the funnel analysis behind the experiment."""

    funnel: Path | None = None


class SplitConfig(_Strict):
    method: Literal["stratified", "time", "random"] = "stratified"
    test_size: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 42


class BacktestConfig(_Strict):
    windows: int = Field(default=3, ge=1, le=52)
    step: int | None = Field(default=None, ge=1)


class EvaluationConfig(_Strict):
    bootstrap: int = Field(default=1000, ge=50, le=20000)
    seed: int = 0
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    # threads for the bootstrap replicates, the search and calibration fits; -1: every
    # core (results do not depend on it)
    n_jobs: int = -1


class SparkConfig(_Strict):
    """Where ``engine: spark`` runs (:mod:`salesml.forecast.spark`): ``master`` URL (left
    out: ``SALESML_SPARK_MASTER``, else Spark's default), extra ``conf`` settings, and
    ``min_series``: a fit of fewer series runs on the driver (a Spark job costs seconds)."""

    master: str | None = Field(default=None, min_length=1)
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)
    min_series: int = Field(default=50, ge=2)


class _Experiment(_Strict):
    """Keys every experiment has. ``source`` is the YAML file it came from."""

    family: ClassVar[str]
    name: str = Field(min_length=1)
    description: str = ""
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def is_classification(self) -> bool:
        return self.family == "classification"

    @property
    def candidates(self) -> list[tuple[str, CandidateConfig]]:
        """All candidates as ``(role, config)``, baselines first."""
        baselines = [("baseline", c) for c in self.baselines]  # type: ignore[attr-defined]
        return baselines + [("model", c) for c in self.models]  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _default_candidates(cls, data: Any) -> Any:
        # A config listing no candidates gets its wing's defaults (salesml candidates).
        if isinstance(data, dict) and "baselines" not in data and "models" not in data:
            from salesml.registry import default_candidates

            data = {**data, **default_candidates(cls.family)}
        return data

    @field_validator("baselines", "models", mode="before", check_fields=False)
    @classmethod
    def _normalise(cls, value: Any, info: Any) -> Any:
        role = "baseline" if info.field_name == "baselines" else "model"
        return normalise_candidates(value, cls.family, role, info.data.get("task", cls.family))

    @model_validator(mode="after")
    def _check_names(self) -> _Experiment:
        names = [c.name for _, c in self.candidates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"candidate names must be unique; repeated: {', '.join(dupes)}")
        if not names:
            raise ValueError("the experiment has no baselines and no models")
        return self

    def resolved_dict(self) -> dict[str, Any]:
        """The config as plain data, with defaults filled in and paths absolute."""
        return self.model_dump(mode="json", by_alias=True)


class ClassificationExperiment(_Experiment):
    """A lead-conversion or churn experiment: one row per lead or customer, a binary outcome."""

    family: ClassVar[str] = "classification"
    task: Literal["lead_conversion", "churn"]
    data: ClassificationDataConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    leakage: LeakageConfig = Field(default_factory=LeakageConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    baselines: list[candidate_union("classification", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("classification", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check_split(self) -> ClassificationExperiment:
        if self.split.method == "time" and self.data.time is None:
            raise ValueError("split.method 'time' needs data.time, the timestamp column")
        return self


class ForecastExperiment(_Experiment):
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


ExperimentConfig = ClassificationExperiment | ForecastExperiment
_MODELS: dict[str, type[_Experiment]] = {
    "classification": ClassificationExperiment,
    "forecast": ForecastExperiment,
}


def _format_validation(exc: ValidationError, family: str, task: str) -> str:
    other = next(m for f, m in _MODELS.items() if f != family)
    parts = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not str(p).startswith("function-")]
        kind = None
        if len(loc) > 2 and loc[0] in ("baselines", "models") and isinstance(loc[1], int):
            kind = loc.pop(2)  # the discriminator tag pydantic inserts: the candidate type
        where = ".".join(map(str, loc))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            if len(loc) == 1 and loc[0] in other.model_fields:
                msg = f"unknown key: it applies to {other.family} experiments, not {task}"
            elif kind is not None:
                allowed = ["type", "name", "params", *spec_for(family, str(kind)).options]
                msg = f"unknown key for {kind} (it takes {', '.join(allowed)})"
        elif isinstance(err.get("input"), str | int | float | bool):
            value = err["input"]
            if not (isinstance(value, str) and repr(value) in msg):  # not quoted already
                msg += f" (got {value!r})"
        parts.append(f"{where or '(top level)'}: {msg}")
    return "; ".join(parts)


def _resolve(base: Path, p: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


def parse_experiment(raw: dict[str, Any], where: str = "config") -> ExperimentConfig:
    """Validate a config mapping into the experiment model of its task.

    Raises
    ------
    ConfigError
        Prefixed with ``where`` and naming every key that is wrong.
    """
    task = raw.get("task")
    if task not in TASK_FAMILY:
        shown = "missing" if task is None else f"{task!r} is not a task"
        raise ConfigError(f"{where}: task: {shown}; choose from {', '.join(map(repr, TASKS))}")
    family = TASK_FAMILY[task]
    try:
        return _MODELS[family].model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_format_validation(exc, family, task)}") from exc


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load, override and validate an experiment YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file. Relative data paths inside it are relative to its folder.
    overrides : list of str, optional
        ``key.sub=value`` items applied before validation.

    Returns
    -------
    ClassificationExperiment or ForecastExperiment

    Raises
    ------
    ConfigError
        Naming the file and the key when anything is wrong.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a config file" if path.is_dir() else "config file not found"
        raise ConfigError(f"{path}: {what}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{yaml_problem(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if raw is None:
        raise ConfigError(f"{path}: the config file is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys, got {type(raw).__name__}")
    try:
        apply_overrides(raw, overrides or [])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    config = parse_experiment(raw, str(path))
    base = path.resolve().parent
    config._source = path.resolve()
    config.data.path = _resolve(base, config.data.path)
    label_from = getattr(config.data, "label_from", None)
    if label_from is not None:
        label_from.path = _resolve(base, label_from.path)
    report = getattr(config, "report", None)
    if report is not None and report.funnel is not None:
        report.funnel = _resolve(base, report.funnel)
    return config
