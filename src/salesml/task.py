"""The task contract: what a task (classification, forecast) gives the experiment loop.

A task prepares and validates its data, fits and evaluates one candidate into
an :class:`Outcome`, and computes the paired difference of two outcomes'
primary metric. The runner (:mod:`salesml.runner`) does the rest once for
every task. Tasks import this module, never the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from salesml.config import CandidateConfig
from salesml.results import CandidateResult


@dataclass
class Outcome:
    """What a task returns for one fitted and evaluated candidate.

    ``model`` is what is exported, an MLflow model from code: an object with
    ``code_path`` (the file MLflow runs to build the model), ``write_artifacts(folder)``
    (the state that file loads), ``signature()`` and ``metadata()`` (the model card's facts).
    ``pairing`` is whatever :meth:`Task.difference` needs (test predictions,
    per-series errors).
    """

    name: str
    role: str
    type: str
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    model: Any = None
    input_example: Any = None
    plots: list[Path] = field(default_factory=list)
    pairing: Any = None
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


class Task(Protocol):
    """The task-specific half of an experiment."""

    primary_metric: str

    def prepare(self) -> Any:
        """Load and validate data, split; return the summary's data block (a ``DataInfo``)."""

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        """Fit one candidate on train and evaluate it on test."""

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Primary metric of ``a`` minus ``b`` with a paired bootstrap CI."""

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Path]:
        """Figures comparing all successful candidates."""

    def datasets(self) -> dict[str, tuple[Any, str]]:
        """The frames a run was trained and judged on, ``{name: (frame, context)}``."""

    def notes(self) -> list[str]:
        """One-line verdicts on the data for the screen (after ``prepare``, or after the run)."""
