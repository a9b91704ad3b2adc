"""The task registry: every task an experiment can run, declared once, and how to add one.

A :class:`TaskSpec` holds everything the shared code (runner, report, scoring,
CLI) needs to know about a task without naming it: the pydantic model of its
config, the class that prepares, fits and evaluates, the module declaring its
candidates, its metrics (one :class:`MetricSpec` table, with the primary
metric), the *view* that recomputes metrics and draws figures from a reopened
run, and the kind of model it exports (scoring dispatches on that kind through
:func:`scoring_for`).

Built-in tasks are declared in the wings' registry modules (``TASKS`` in
:mod:`salesml.classify.registry` and :mod:`salesml.forecast.registry`). A new
task is added without touching salesml, either by calling :func:`register_task`
(``salesml.register_task``) before loading its config, or by an installed
package's entry point in the group ``salesml.tasks`` naming its ``TaskSpec``
(or a tuple of them). Classes are named by dotted path (``"package.module:Name"``)
and imported only when used, so validating a config stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

BUILTIN = (
    "salesml.classify.registry",
    "salesml.forecast.registry",
    "salesml.pipeline.registry",
    "salesml.lifecycle.registry",
    "salesml.lifecycle.survival.registry",
)
ENTRY_POINT_GROUP = "salesml.tasks"


@dataclass(frozen=True)
class MetricSpec:
    """One metric a task reports.

    Parameters
    ----------
    name : str
        Key in the metrics dicts, ``summary.json`` and MLflow (``roc_auc``).
    label : str
        How tables and reports title it (``ROC-AUC``).
    lower_is_better : bool
        Direction: True for errors and losses.
    fmt : str
        Format spec for tables (``.3f``, ``.1%``).
    shown : bool
        Whether the report's comparison table has a column for it.
    computed : bool
        Whether every run computes it; False: computed on request from a
        reopened run (:meth:`salesml.experiment.reopen.ReopenedRun.metric`).
    ranks : bool
        Whether one value is simply better than another, so that a champion may
        be chosen by it (``evaluation.metric``); False for a bias or a coverage,
        which are best at a target, not at an end.
    """

    name: str
    label: str
    lower_is_better: bool = False
    fmt: str = ".3f"
    shown: bool = True
    computed: bool = True
    ranks: bool = True

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a < b if self.lower_is_better else a > b

    def format(self, value: Any) -> str:
        """``value`` formatted for a table, ``-`` when missing."""
        if value is None or (isinstance(value, float) and value != value):
            return "-"
        return format(value, self.fmt)


@dataclass(frozen=True)
class ScoringSpec:
    """How ``salesml score`` and ``serve`` feed an exported model of one kind.

    Parameters
    ----------
    kind : str
        The model card's ``kind``.
    streaming : bool
        True: the input file is read, scored and written in chunks of rows
        (row-wise models). False: the whole file is read and passed at once
        (models that answer per group, e.g. one forecast per series).
    prepare : str or None
        ``"module:function"`` called as ``function(frame, card, columns, options, uri)``
        before the model sees a whole-file input (``card`` the model's salesml
        metadata, ``columns`` its input columns, ``options`` the command's, e.g.
        ``{"h": 4}``); it returns the frame to predict on.
    params : tuple of str
        Command options passed to ``predict`` as MLflow params (``reasons``).
    """

    kind: str
    streaming: bool = True
    prepare: str | None = None
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    """A task, declared once.

    Parameters
    ----------
    name : str
        The config's ``task:`` value.
    family : str
        The candidate family: tasks of one family share candidates and code
        (``lead_conversion`` and ``churn`` are both ``classification``).
    description : str
        One line for ``salesml candidates`` and errors.
    config : str
        ``"module:Class"``: the pydantic experiment model (subclass of
        :class:`salesml.experiment.config.ExperimentBase`).
    task : str
        ``"module:Class"`` implementing :class:`salesml.experiment.task.Task`,
        constructed with the validated config.
    candidates : str
        Module declaring ``CANDIDATES`` (and optionally ``DEFAULTS``).
    metrics : tuple of MetricSpec
        Every metric the task reports, in display order.
    primary_metric : str
        The metric that ranks candidates and gates the champion.
    view : str
        ``"module:Class"`` implementing :class:`salesml.experiment.task.TaskView`:
        metrics with CIs and figures from a reopened run's predictions, the
        report's headline and sections, the model card's task lines.
    scoring : ScoringSpec
        The kind of model the task exports and how scoring feeds it.
    intended_use : str
        The model card's "Intended use" paragraph.
    words : mapping
        Nouns for plain-language text: ``rows`` (leads, customers, series) and
        ``positives`` (conversions, churners).
    data : str
        ``"module:Class"`` of the summary's data block (a ``DataInfo`` dataclass).
    """

    name: str
    family: str
    description: str
    config: str
    task: str
    candidates: str
    metrics: tuple[MetricSpec, ...]
    primary_metric: str
    view: str
    scoring: ScoringSpec
    intended_use: str = ""
    words: Mapping[str, str] = field(default_factory=dict)
    data: str = "salesml.experiment.results:DataInfo"

    def __post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        if self.primary_metric not in names:
            raise ValueError(
                f"task {self.name!r}: primary_metric {self.primary_metric!r} is not one of "
                f"its metrics ({', '.join(names)})"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"task {self.name!r}: metric names repeat")

    def metric(self, name: str) -> MetricSpec:
        """The declaration of metric ``name``.

        Raises
        ------
        KeyError
            Naming the task's metrics.
        """
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(
            f"task {self.name!r} has no metric {name!r}; "
            f"it declares {', '.join(m.name for m in self.metrics)}"
        )

    @property
    def primary(self) -> MetricSpec:
        """The primary metric's declaration."""
        return self.metric(self.primary_metric)

    def config_model(self) -> Any:
        """The pydantic experiment model, imported now."""
        return resolve(self.config)

    def task_class(self) -> Any:
        """The task class, imported now."""
        return resolve(self.task)

    def data_class(self) -> Any:
        """The summary's data block type, imported now."""
        return resolve(self.data)

    def make_view(self) -> Any:
        """A :class:`~salesml.experiment.task.TaskView` of this task."""
        return resolve(self.view)(self)


def resolve(dotted: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


_TASKS: dict[str, TaskSpec] = {}
_LOADED: list[bool] = []


def register_task(spec: TaskSpec) -> TaskSpec:
    """Make ``spec`` known to configs, the runner, reports, scoring and the CLI.

    Registering the same spec again is a no-op; another spec under a taken name
    is refused (a built-in task cannot be replaced by accident).

    Returns
    -------
    TaskSpec
        ``spec``, so a module can write ``SPEC = register_task(TaskSpec(...))``.
    """
    _load()
    known = _TASKS.get(spec.name)
    if known is not None and known != spec:
        raise ValueError(f"a task named {spec.name!r} is registered already")
    _TASKS[spec.name] = spec
    return spec


def unregister_task(name: str) -> None:
    """Forget a task added by :func:`register_task` (a built-in task cannot be removed)."""
    _load()
    builtin = {spec.name for module in BUILTIN for spec in importlib.import_module(module).TASKS}
    if name in builtin:
        raise ValueError(f"{name!r} is a built-in task")
    _TASKS.pop(name, None)


def _load() -> None:
    if _LOADED:
        return
    _LOADED.append(True)
    for module in BUILTIN:
        for spec in importlib.import_module(module).TASKS:
            _TASKS[spec.name] = spec
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found = ep.load()
        for spec in found if isinstance(found, tuple | list) else (found,):
            _TASKS.setdefault(spec.name, spec)


def task_names() -> list[str]:
    """Every registered task, built-in ones first."""
    _load()
    return list(_TASKS)


def task_spec(name: str) -> TaskSpec:
    """The declaration of task ``name``.

    Raises
    ------
    KeyError
        Naming the registered tasks.
    """
    _load()
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {', '.join(_TASKS)}")
    return _TASKS[name]


def families() -> dict[str, str]:
    """``{family: candidates module}`` over every registered task, in order."""
    _load()
    out: dict[str, str] = {}
    for spec in _TASKS.values():
        out.setdefault(spec.family, spec.candidates)
    return out


def scoring_for(kind: str | None) -> ScoringSpec:
    """How to score a model of ``kind`` (row-wise streaming for an unknown or foreign kind)."""
    _load()
    for spec in _TASKS.values():
        if spec.scoring.kind == kind:
            return spec.scoring
    return ScoringSpec(kind=str(kind or "model"))


def make_task(config: Any) -> Any:
    """The task object for a validated experiment ``config`` (its ``task`` names the spec)."""
    return task_spec(config.task).task_class()(config)


def metric_format(task: str, name: str) -> str:
    """The format spec ``task`` declares for metric ``name`` (``.3f`` for an unknown one)."""
    _load()
    if task not in _TASKS:
        return ".3f"
    try:
        return _TASKS[task].metric(name).fmt
    except KeyError:
        return ".3f"
