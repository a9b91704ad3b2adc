"""Experiment config: the pydantic schema, YAML loading and ``--set`` overrides.

A config is validated once, here, at the edge. Everything downstream receives
an :class:`ExperimentConfig` whose paths are absolute and whose candidate lists
are normalised (a bare string ``"prior"`` becomes ``{type: prior}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from salesml.errors import ConfigError

CLASSIFICATION_TASKS = ("lead_conversion", "churn")
TASKS = (*CLASSIFICATION_TASKS, "forecast")

CANDIDATE_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "classification": {
        "baselines": ("prior", "scorecard", "control_points"),
        "models": ("logistic", "lightgbm", "hist_gradient_boosting"),
    },
    "forecast": {
        "baselines": ("naive", "seasonal_naive", "moving_average", "last_year_growth"),
        "models": ("auto_ets", "auto_theta", "auto_arima", "lightgbm_global", "ensemble"),
    },
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rule(_Strict):
    """One scorecard rule: ``points`` are earned when every condition holds."""

    column: str
    points: float
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    eq: Any = None
    ne: Any = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    missing: bool | None = None

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        conds = ("in_", "not_in", "eq", "ne", "lt", "le", "gt", "ge", "missing")
        if all(getattr(self, c) is None for c in conds):
            raise ValueError(
                f"rule on column {self.column!r} has no condition; use one of "
                "in, not_in, eq, ne, lt, le, gt, ge, missing"
            )
        return self


class SearchConfig(_Strict):
    """Bounded random hyperparameter search, cross-validated on train only."""

    n_trials: int = Field(default=20, ge=1, le=200)
    cv: int = Field(default=3, ge=2, le=10)


class CandidateConfig(_Strict):
    """A baseline or model: its ``type``, a display ``name`` and its settings."""

    type: str
    name: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    search: SearchConfig | None = None
    calibration: Literal["isotonic", "sigmoid", "none"] = "isotonic"

    @model_validator(mode="after")
    def _default_name(self) -> CandidateConfig:
        if not self.name:
            self.name = self.type
        return self


class LabelFrom(_Strict):
    """Build a binary target: a row is positive when its ``key`` occurs in ``path``.

    Only the key column of that file is read, so none of its other columns can
    leak into the features.
    """

    path: Path
    key: str


class GenerateConfig(_Strict):
    """Create ``data.path`` with a synthetic generator when the file is missing."""

    kind: Literal["leads", "customers", "sales", "opportunities"]
    rows: int = Field(ge=1)
    seed: int = 0


class DataConfig(_Strict):
    path: Path
    target: str
    positive: str | int | float | bool | None = None
    id: str | list[str] | None = None
    time: str | None = None
    drop: list[str] = Field(default_factory=list)
    freq: str | None = None
    exog: list[str] = Field(default_factory=list)
    date_format: str | None = None
    label_from: LabelFrom | None = None
    generate: GenerateConfig | None = None

    @property
    def id_columns(self) -> list[str]:
        if self.id is None:
            return []
        return [self.id] if isinstance(self.id, str) else list(self.id)


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


class ExperimentConfig(_Strict):
    """A validated experiment. ``source`` is the YAML file it came from."""

    name: str = Field(min_length=1)
    task: Literal["lead_conversion", "churn", "forecast"]
    description: str = ""
    data: DataConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    baselines: list[CandidateConfig] = Field(default_factory=list)
    models: list[CandidateConfig] = Field(default_factory=list)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    horizon: int | None = Field(default=None, ge=1)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    levels: list[int] = Field(default_factory=lambda: [80, 95])
    season_length: int | None = Field(default=None, ge=1)
    source: Path | None = None

    @field_validator("baselines", "models", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("must be a list of candidate types or {type: ...} mappings")
        return [{"type": v} if isinstance(v, str) else v for v in value]

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        if any(not 0 < lv < 100 for lv in value):
            raise ValueError("levels are percentages strictly between 0 and 100")
        return sorted(set(value))

    @property
    def is_classification(self) -> bool:
        return self.task in CLASSIFICATION_TASKS

    @property
    def candidates(self) -> list[tuple[str, CandidateConfig]]:
        """All candidates as ``(role, config)``, baselines first."""
        return [("baseline", c) for c in self.baselines] + [("model", c) for c in self.models]

    @model_validator(mode="after")
    def _check_task(self) -> ExperimentConfig:
        family = "classification" if self.is_classification else "forecast"
        allowed = CANDIDATE_TYPES[family]
        for role in ("baselines", "models"):
            for cand in getattr(self, role):
                if cand.type not in allowed[role]:
                    raise ValueError(
                        f"{role}: unknown type {cand.type!r} for task {self.task!r}; "
                        f"choose from {', '.join(allowed[role])}"
                    )
                if cand.type == "scorecard" and not cand.rules:
                    raise ValueError(f"{role}: scorecard {cand.name!r} needs at least one rule")
        names = [c.name for _, c in self.candidates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"candidate names must be unique; repeated: {', '.join(dupes)}")
        if not names:
            raise ValueError("the experiment has no baselines and no models")
        if family == "forecast":
            missing = [k for k in ("id", "time") if getattr(self.data, k) is None]
            if self.horizon is None:
                missing.append("horizon")
            if missing:
                raise ValueError(
                    f"a forecast needs {', '.join(missing)} (data.id, data.time, horizon)"
                )
        if self.split.method == "time" and self.data.time is None:
            raise ValueError("split.method 'time' needs data.time, the timestamp column")
        return self

    def resolved_dict(self) -> dict[str, Any]:
        """The config as plain data, with defaults filled in and paths absolute."""
        return self.model_dump(mode="json", by_alias=True, exclude={"source"})


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: position and problem (PyYAML's text spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: {' '.join(str(problem).split())}"


def _set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node: Any = raw
    for i, key in enumerate(keys[:-1]):
        nxt = keys[i + 1]
        if isinstance(node, list):
            node = node[int(key)]
            continue
        if key not in node or node[key] is None:
            node[key] = [] if nxt.isdigit() else {}
        node = node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides; values are parsed as YAML scalars or lists.

    Parameters
    ----------
    raw : dict
        The config as read from YAML; modified in place and returned.
    overrides : list of str
        Items like ``split.test_size=0.3`` or ``models=[logistic]``.
    """
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key.sub=value")
        try:
            value = yaml.safe_load(text) if text.strip() else None
            _set_path(raw, key.strip(), value)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"--set {item!r}: not a valid YAML value{_yaml_problem(exc)}"
            ) from exc
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            raise ConfigError(f"--set {item!r}: cannot apply ({exc})") from exc
    return raw


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{loc or '(top level)'}: {msg}")
    return "; ".join(parts)


def _resolve(base: Path, p: Path) -> Path:
    return p if p.is_absolute() else (base / p).resolve()


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
    ExperimentConfig

    Raises
    ------
    ConfigError
        Naming the file and the key when anything is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML{_yaml_problem(exc)}") from exc
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
    try:
        config = ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_format_validation(exc)}") from exc
    base = path.resolve().parent
    config.source = path.resolve()
    config.data.path = _resolve(base, config.data.path)
    if config.data.label_from is not None:
        config.data.label_from.path = _resolve(base, config.data.label_from.path)
    return config
