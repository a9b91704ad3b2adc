"""The task contract: what a task gives the experiment loop, and what a reopened run asks of it.

A task is declared by a :class:`~salesml.experiment.tasks.TaskSpec` and made
of two objects:

- a :class:`Task`, built from the validated config, that prepares and
  validates the data, describes its plan, and fits and evaluates one candidate
  into an :class:`Outcome` holding the candidate's test predictions (a frame
  whose layout the task defines: one row per test row, or per series, step and
  backtest window);
- a :class:`TaskView`, built from the spec alone, that computes any declared
  metric with its bootstrap CI (alone, or paired against another candidate)
  and draws any figure from those predictions, and gives the report and the
  model card their task-specific text. A reopened run
  (:func:`salesml.load_run`) uses only the view: nothing is refitted.

The runner (:mod:`salesml.runner`) does the rest once for every task. Tasks
import this module, never the runner. :class:`TaskBase` gives the optional
parts their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from salesml.experiment.card import ModelCard
from salesml.experiment.results import CandidateResult
from salesml.io.figures import Drawing


@dataclass(frozen=True)
class Resampling:
    """How metrics get their bootstrap CIs: replicates, seed, confidence level, threads."""

    bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95
    n_jobs: int = -1

    @classmethod
    def of(cls, evaluation: Any) -> Resampling:
        """From a config's ``evaluation`` block."""
        return cls(evaluation.bootstrap, evaluation.seed, evaluation.confidence, evaluation.n_jobs)


def finite_metrics(results: dict[str, tuple[float, list[float]]]) -> dict[str, Any]:
    """``{name: point, name_ci: [low, high]}`` from ``{name: (point, ci)}``, NaN left out."""
    import math

    out: dict[str, Any] = {}
    for name, (point, ci) in results.items():
        if math.isfinite(point):
            out[name] = point
            if len(ci) == 2 and all(math.isfinite(v) for v in ci):
                out[f"{name}_ci"] = ci
    return out


@runtime_checkable
class ExportedModel(Protocol):
    """An MLflow model from code, as a task hands it to the tracker."""

    code_path: Path

    def write_artifacts(self, folder: Path) -> dict[str, str]:
        """Store the model's state in ``folder``; return MLflow's artifacts map."""

    def signature(self) -> Any:
        """The MLflow ``ModelSignature``."""

    def metadata(self) -> dict[str, Any]:
        """Plain data for the MLmodel file: ``{"salesml": card}``."""


@dataclass
class Outcome:
    """What a task returns for one fitted and evaluated candidate.

    ``predictions`` are the candidate's test predictions, the frame a reopened
    run recomputes metrics and figures from (the task's view knows its columns).
    ``fitted`` is the task's own record of the fit (what its export and figures
    need); ``model`` is what is exported and ``plots`` the files of the candidate's
    figures, described from the outcome after the fit (:meth:`Task.figures`) and
    drawn by the runner, in a worker process, while it goes on (:meth:`Task.export`).
    """

    name: str
    role: str
    type: str
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    model: ExportedModel | None = None
    input_example: Any = None
    plots: list[Path] = field(default_factory=list)
    predictions: Any = None
    fitted: Any = None
    status: str = "ok"
    error: str | None = None
    mlflow_run_id: str | None = None
    model_uri: str | None = None

    def result(self) -> CandidateResult:
        """The candidate's entry in the summary."""
        return CandidateResult(
            name=self.name,
            role=self.role,
            type=self.type,
            status=self.status,
            metrics=dict(self.metrics),
            fit_seconds=round(self.fit_seconds, 3),
            mlflow_run_id=self.mlflow_run_id,
            model_uri=self.model_uri,
            error=self.error,
        )


@dataclass(frozen=True)
class ParentRecord:
    """What a task logs on the experiment's parent run besides the config.

    ``dicts`` are JSON artifacts by file name (``{"leakage.json": {...}}``),
    ``tags`` and ``params`` MLflow tags and params.
    """

    dicts: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """A task's part of the report: a title, paragraphs, an optional table, a warning flag."""

    title: str
    paragraphs: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    warning: bool = False


class Prepared(Protocol):
    """What a task's ``prepare`` returns: a frozen dataclass with the summary's data block.

    Everything else on it (train and test rows, series, backtest origins) is the
    task's own; its fits read only that.
    """

    @property
    def info(self) -> Any:
        """The summary's data block (a :class:`~salesml.experiment.results.DataInfo`)."""


class Task(Protocol):
    """The task-specific half of an experiment, built with its validated config."""

    def prepare(self) -> Prepared:
        """Load and validate data, split or plan the backtest, into one frozen dataclass."""

    def plan(self, info: Any) -> list[str]:
        """What ``--dry-run`` shows of the prepared data: split or backtest, sizes."""

    def fit_evaluate(self, candidate: Any, role: str, plot_dir: Path) -> Outcome:
        """Fit one candidate on train and evaluate it on test."""

    def export(self, outcome: Outcome, candidate: Any) -> ExportedModel | None:
        """The exported model of a fitted candidate, with its model card."""

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        """The candidate's own figures, from its outcome, to be drawn (maybe in another process)."""

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Primary metric of ``a`` minus ``b`` with a paired bootstrap CI."""

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Drawing]:
        """Figures comparing all successful candidates, to be drawn."""

    def datasets(self) -> dict[str, tuple[Any, str]]:
        """The frames a run was trained and judged on, ``{name: (frame, context)}``."""

    def notes(self) -> list[str]:
        """One-line verdicts on the data for the screen (after ``prepare``, or after the run)."""

    def engine_failure(self, exc: BaseException) -> str | None:
        """A hint when ``exc`` means the task's engine (e.g. Spark) died, else None."""

    def parent_record(self, info: Any) -> ParentRecord:
        """Artifacts, tags and params for the parent run (after ``prepare``)."""


class TaskBase:
    """Defaults for a task's optional parts; subclass it or implement :class:`Task` fully."""

    def export(self, outcome: Outcome, candidate: Any) -> ExportedModel | None:
        return outcome.model

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        return []

    def plan(self, info: Any) -> list[str]:
        return []

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Drawing]:
        return []

    def datasets(self) -> dict[str, tuple[Any, str]]:
        return {}

    def notes(self) -> list[str]:
        return []

    def engine_failure(self, exc: BaseException) -> str | None:
        return None

    def parent_record(self, info: Any) -> ParentRecord:
        return ParentRecord()


class TaskView(Protocol):
    """A task's answers about a finished run, from its stored predictions only."""

    figures: tuple[str, ...]

    def metric(
        self, predictions: Any, name: str, resampling: Resampling
    ) -> tuple[float, list[float]]:
        """Metric ``name`` of one candidate's predictions, with its bootstrap CI."""

    def paired(
        self, a: Any, b: Any, name: str, resampling: Resampling
    ) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus that of ``b`` on the same units, paired CI."""

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """Draw figure ``name`` of a reopened ``run`` (one candidate, or all) to ``path``."""

    def headline(self, summary: Any) -> str:
        """The report's finding in plain words."""

    def sections(self, summary: Any) -> list[Section]:
        """The report's task-specific sections (e.g. the leakage guard's flags)."""

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """Task-specific lines for ``MODEL_CARD.md`` (calibration, tiers, drivers)."""
