"""Experiment config: the keys every experiment shares, YAML loading and ``--set`` overrides.

A config is validated once, here, at the edge. Each task has its own pydantic
model (a subclass of :class:`ExperimentBase`, declared in its wing and named by
its :class:`~salesml.experiment.tasks.TaskSpec`), and every candidate type is a
model of its own, generated from its declaration in the wing's registry
(:mod:`salesml.experiment.registry`): it accepts exactly its own options, and any key that
does not apply stops the run with one paragraph naming the file and the key.
Downstream code receives a config whose paths are absolute and whose candidate
lists are normalised (``- prior`` becomes ``{type: prior}``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from salesml.errors import ConfigError
from salesml.experiment.candidates import (
    CandidateConfig,
    _Strict,
    normalise_candidates,
)
from salesml.experiment.overrides import apply_overrides, yaml_problem
from salesml.experiment.registry import spec_for
from salesml.experiment.tasks import task_names, task_spec
from salesml.io.paths import LOOP, missing_reason


class GenerateConfig(_Strict):
    """Create ``data.path`` with a synthetic generator when the file is missing."""

    kind: Literal[
        "leads", "customers", "sales", "opportunities", "weekly_sales", "pipeline", "transactions"
    ]
    rows: int = Field(ge=1)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # weekly_sales only: weeks of history, or [shortest, longest] for mixed lengths.
    weeks: int | tuple[int, int] | None = None

    @model_validator(mode="after")
    def _weeks_for_weekly(self) -> GenerateConfig:
        if self.weeks is not None and self.kind != "weekly_sales":
            raise ValueError(f"weeks applies to kind weekly_sales only, not {self.kind}")
        return self


class JoinConfig(_Strict):
    """A second table joined on ``key`` (left join: rows without a match keep blanks)."""

    path: Path
    key: str
    columns: list[str] | None = None


class ReadConfig(_Strict):
    """How to read the file: a CSV's delimiter, decimal mark and encoding when sniffing
    guesses wrong; an Excel workbook's sheet (name or 0-based position)."""

    sep: Literal[",", ";", "\t", "|"] | None = None
    decimal: Literal[".", ","] | None = None
    encoding: str | None = None
    sheet: str | int | None = None


class DataConfigBase(_Strict):
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


class EvaluationConfig(_Strict):
    bootstrap: int = Field(default=1000, ge=50, le=20000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    # threads for the bootstrap replicates, the search and calibration fits; -1: every
    # core (results do not depend on it)
    n_jobs: int = -1
    # the metric the champion is chosen and judged by; default the task's primary metric
    metric: str | None = None


class ExperimentBase(_Strict):
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
    def candidates(self) -> list[tuple[str, CandidateConfig]]:
        """All candidates as ``(role, config)``, baselines first."""
        baselines = [("baseline", c) for c in self.baselines]  # type: ignore[attr-defined]
        return baselines + [("model", c) for c in self.models]  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _default_candidates(cls, data: Any) -> Any:
        # A config listing no candidates gets its wing's defaults (salesml candidates).
        if isinstance(data, dict) and "baselines" not in data and "models" not in data:
            from salesml.experiment.registry import default_candidates

            data = {**data, **default_candidates(cls.family)}
        return data

    @field_validator("baselines", "models", mode="before", check_fields=False)
    @classmethod
    def _normalise(cls, value: Any, info: Any) -> Any:
        role = "baseline" if info.field_name == "baselines" else "model"
        return normalise_candidates(value, cls.family, role, info.data.get("task", cls.family))

    @model_validator(mode="after")
    def _check_names(self) -> ExperimentBase:
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

    def resolve_paths(self, base: Path) -> None:
        """Make the config's file paths absolute, relative to ``base`` (the YAML's folder).

        Subclasses with more paths extend this.
        """
        self.data.path = resolve_path(base, self.data.path)  # type: ignore[attr-defined]


# Every experiment model; kept for type hints (a task's own model subclasses it).
ExperimentConfig = ExperimentBase


def _other_task(key: str, family: str) -> str | None:
    """The first task of another family whose config has top-level ``key``."""
    for name in task_names():
        spec = task_spec(name)
        if spec.family != family and key in spec.config_model().model_fields:
            return spec.family
    return None


def _format_validation(exc: ValidationError, family: str, task: str) -> str:
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
            other = _other_task(str(loc[0]), family) if len(loc) == 1 else None
            if other is not None:
                msg = f"unknown key: it applies to {other} experiments, not {task}"
            elif kind is not None:
                allowed = ["type", "name", "params", *spec_for(family, str(kind)).options]
                msg = f"unknown key for {kind} (it takes {', '.join(allowed)})"
        elif isinstance(err.get("input"), str | int | float | bool):
            value = err["input"]
            if not (isinstance(value, str) and repr(value) in msg):  # not quoted already
                msg += f" (got {value!r})"
        parts.append(f"{where or '(top level)'}: {msg}")
    return "; ".join(parts)


def resolve_path(base: Path, p: Path) -> Path:
    """``p`` as an absolute path, relative to ``base`` when it is relative.

    Raises
    ------
    ConfigError
        When the path is a symbolic link loop.
    """
    if p.is_absolute():
        return p
    try:
        return (base / p).resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        raise ConfigError(f"{base / p}: {LOOP}") from None


def parse_experiment(raw: dict[str, Any], where: str = "config") -> ExperimentConfig:
    """Validate a config mapping into the experiment model of its task.

    Raises
    ------
    ConfigError
        Prefixed with ``where`` and naming every key that is wrong.
    """
    task = raw.get("task")
    names = task_names()
    if not isinstance(task, str) or task not in names:
        shown = "missing" if task is None else f"{task!r} is not a task"
        raise ConfigError(f"{where}: task: {shown}; choose from {', '.join(map(repr, names))}")
    spec = task_spec(task)
    try:
        config = spec.config_model().model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_format_validation(exc, spec.family, task)}") from exc
    chosen = config.evaluation.metric
    ranked = [m.name for m in spec.metrics if m.ranks and m.computed]
    if chosen is not None and chosen not in ranked:
        raise ConfigError(
            f"{where}: evaluation.metric: {chosen!r} cannot choose a {task} champion; "
            f"choose from {', '.join(ranked)}"
        )
    return config  # type: ignore[no-any-return]


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
    ExperimentBase
        The model of the config's task (``task_spec(task).config``).

    Raises
    ------
    ConfigError
        Naming the file and the key when anything is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: {missing_reason(path, 'config file')}")
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
    config.resolve_paths(base)
    return config
