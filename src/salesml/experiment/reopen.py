"""A finished run, reopened: any metric with its CI, paired differences and figures, refitting nothing.

:func:`load_run` reads a run's ``summary.json`` and the test predictions of its
candidates (``predictions.parquet``, written beside the summary and logged on
the MLflow parent run), from its output folder or from MLflow by run id::

    run = salesml.load_run("reports/telco-churn")
    print(run.metric("capture_at_10"))              # the champion, with its CI
    run.metric("roc_auc", "lightgbm", against="retention_scorecard")
    run.metric_table("capture_at_10")               # every candidate
    run.figure("comparison")                        # a PNG path

The numbers come from the task's view (:class:`~salesml.experiment.task.TaskView`)
with the run's own bootstrap settings, so a metric the run computed is
reproduced exactly, CI included.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesml.errors import DataError
from salesml.experiment.results import (
    PREDICTIONS,
    Summary,
    candidates_frame,
    ci_label,
    load_summary,
)
from salesml.experiment.task import Resampling
from salesml.experiment.tasks import TaskSpec, task_spec

SUMMARY = "summary.json"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_FIGURES: list[Path] = []


@dataclass(frozen=True)
class MetricValue:
    """A metric of one candidate (or its difference from ``against``) with its bootstrap CI.

    ``ci`` is NaN when the run had too few units for one (``MIN_UNITS``).
    """

    metric: str
    candidate: str
    against: str | None
    value: float
    ci: tuple[float, float]
    confidence: float

    def __str__(self) -> str:
        who = self.candidate if self.against is None else f"{self.candidate} minus {self.against}"
        lo, hi = self.ci
        if lo != lo or hi != hi:  # NaN: too few units for an interval (evaluation.MIN_UNITS)
            return (
                f"{self.metric} of {who}: {_num(self.value)} "
                f"(no {ci_label(self.confidence)}: not enough data to tell)"
            )
        return (
            f"{self.metric} of {who}: {_num(self.value)} "
            f"({ci_label(self.confidence)} {_num(lo)} to {_num(hi)})"
        )


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


@dataclass
class ReopenedRun:
    """A finished run: its summary, every candidate's test predictions, its task and view.

    Parameters
    ----------
    summary : Summary
    predictions : pandas.DataFrame
        Every successful candidate's test predictions, column ``candidate``.
    spec : TaskSpec
        The run's task.
    view : TaskView
        The task's view: metrics and figures from the predictions.
    source : str
        Where the run was read from (a path, or ``mlflow run <id>``).
    """

    summary: Summary
    predictions: Any
    spec: TaskSpec
    view: Any
    source: str
    _frames: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def candidates(self) -> list[str]:
        """Names of the successful candidates, in the run's order."""
        return [c.name for c in self.summary.candidates if c.status == "ok"]

    @property
    def rules(self) -> list[str]:
        """The successful baselines a sales team would use: every one but a no-skill floor.

        A floor is a baseline whose registry entry is tagged ``floor`` (e.g. the prior).
        """
        from salesml.experiment.registry import spec_for

        family = self.spec.family
        return [
            c.name
            for c in self.summary.candidates
            if c.status == "ok"
            and c.role == "baseline"
            and "floor" not in spec_for(family, c.type).tags
        ]

    @property
    def figures(self) -> tuple[str, ...]:
        """The figures :meth:`figure` draws (the view's)."""
        return tuple(self.view.figures)

    def predictions_of(self, name: str) -> Any:
        """Test predictions of candidate ``name``, without the ``candidate`` column.

        Raises
        ------
        KeyError
            Naming the successful candidates.
        """
        if name not in self.candidates:
            raise KeyError(
                f"no successful candidate {name!r} in {self.summary.experiment.name}; "
                f"choose from {', '.join(self.candidates) or 'none'}"
            )
        if name not in self._frames:
            rows = self.predictions["candidate"] == name
            frame = self.predictions.loc[rows].drop(columns="candidate")
            self._frames[name] = frame.reset_index(drop=True)
        return self._frames[name]

    def metrics_frame(self) -> Any:
        """The summary's metrics, one row per candidate (:func:`~salesml.experiment.results.candidates_frame`)."""
        return candidates_frame(self.summary)

    def resampling(
        self, confidence: float | None = None, bootstrap: int | None = None, seed: int | None = None
    ) -> Resampling:
        """The run's bootstrap settings, any of them overridden; every core."""
        exp = self.summary.experiment
        return Resampling(
            bootstrap=exp.bootstrap if bootstrap is None else int(bootstrap),
            seed=exp.bootstrap_seed if seed is None else int(seed),
            confidence=exp.confidence if confidence is None else float(confidence),
            n_jobs=-1,
        )

    def _default(self) -> str:
        champ = self.summary.champion
        if champ is not None:
            return champ.name
        if not self.candidates:
            raise DataError(f"{self.source}: no candidate of this run succeeded")
        return self.candidates[0]

    def metric(
        self,
        name: str,
        candidate: str | None = None,
        against: str | None = None,
        confidence: float | None = None,
        bootstrap: int | None = None,
        seed: int | None = None,
    ) -> MetricValue:
        """Metric ``name`` of ``candidate`` with its bootstrap CI, or its paired difference.

        Parameters
        ----------
        name : str
            Any metric the task's view computes (``roc_auc``, ``capture_at_10``, ``mase``).
        candidate : str, optional
            Default: the champion, else the first successful candidate.
        against : str, optional
            Give ``candidate`` minus ``against`` on the same test units, paired bootstrap.
        confidence, bootstrap, seed : optional
            Default: the run's (the same seed gives the run's CIs exactly).

        Raises
        ------
        KeyError
            An unknown metric (the message names the choices) or candidate.
        """
        candidate = candidate or self._default()
        rs = self.resampling(confidence, bootstrap, seed)
        frame = self.predictions_of(candidate)
        if against is None:
            value, ci = self.view.metric(frame, name, rs)
        else:
            value, ci = self.view.paired(frame, self.predictions_of(against), name, rs)
        return MetricValue(
            name, candidate, against, float(value), (float(ci[0]), float(ci[1])), rs.confidence
        )

    def metric_table(self, name: str, **resampling: Any) -> Any:
        """Metric ``name`` of every successful candidate: ``value, ci_low, ci_high``.

        Best first when the task declares the metric's direction; otherwise in
        the run's order. ``resampling``: ``confidence``, ``bootstrap``, ``seed``.
        """
        import pandas as pd

        rows = []
        for cand in self.candidates:
            m = self.metric(name, cand, **resampling)
            rows.append(
                {"candidate": cand, "value": m.value, "ci_low": m.ci[0], "ci_high": m.ci[1]}
            )
        frame = pd.DataFrame(rows, columns=["candidate", "value", "ci_low", "ci_high"])
        frame = frame.set_index("candidate")
        declared = {m.name: m for m in self.spec.metrics}
        if name in declared:
            frame = frame.sort_values("value", ascending=declared[name].lower_is_better)
        return frame

    def figure(
        self, name: str, candidate: str | None = None, path: str | Path | None = None
    ) -> Path:
        """Draw figure ``name`` (see :attr:`figures`) to ``path``; return the PNG's path.

        ``candidate`` defaults to the champion for one-candidate figures
        (``comparison`` shows them all). ``path`` defaults to a temporary folder
        kept until the process ends.
        """
        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        if candidate is not None:
            self.predictions_of(candidate)  # a clear KeyError for an unknown one
        elif name != "comparison":
            candidate = self._default()
        if path is None:
            from salesml.io.paths import safe_name

            stem = name if candidate is None or name == "comparison" else f"{name}-{candidate}"
            path = _figure_folder() / f"{safe_name(stem)}.png"
        return Path(self.view.figure(name, self, candidate, Path(path)))


def _figure_folder() -> Path:
    """One temporary folder for this process's figures, removed when it exits."""
    if not _FIGURES:
        folder = Path(tempfile.mkdtemp(prefix="salesml-figures-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _FIGURES.append(folder)
    return _FIGURES[0]


def _read_predictions(path: Path, where: str) -> Any:
    import pandas as pd

    if not path.is_file():
        raise DataError(
            f"{where}: no {PREDICTIONS}; the run was made before runs kept their "
            "predictions: re-run the experiment to reopen it"
        )
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{where}: {PREDICTIONS} cannot be read ({' '.join(str(exc).split())})"
        ) from exc
    if "candidate" not in frame:
        raise DataError(f"{where}: {PREDICTIONS} has no candidate column; re-run the experiment")
    return frame


def _from_mlflow(run_id: str, tracking_uri: str | None) -> tuple[Summary, Any]:
    from salesml.tracking.models import download_run_files

    where = f"MLflow run {run_id}"
    with tempfile.TemporaryDirectory(prefix="salesml-run-") as tmp:
        folder = Path(tmp)
        files = download_run_files(run_id, [SUMMARY], folder, tracking_uri)
        try:
            summary = load_summary(files[SUMMARY])
        except DataError as exc:  # named by the run, not the temporary file
            raise DataError(str(exc).replace(str(files[SUMMARY]), f"{where}: {SUMMARY}")) from exc
        files = download_run_files(run_id, [PREDICTIONS], folder, tracking_uri, missing_ok=True)
        return summary, _read_predictions(files.get(PREDICTIONS, folder / PREDICTIONS), where)


def load_run(source: str | Path, tracking_uri: str | None = None) -> ReopenedRun:
    """Reopen a finished run from its output folder, its ``summary.json`` or MLflow.

    Parameters
    ----------
    source : str or Path
        The run's output folder, its ``summary.json`` (``predictions.parquet`` is
        read from beside it), or the run id of its MLflow parent run
        (``summary.experiment.mlflow_run_id``; both files are downloaded).
    tracking_uri : str, optional
        The MLflow store of a run id. Default: ``MLFLOW_TRACKING_URI`` or the
        project's ``mlflow.db``.

    Raises
    ------
    DataError
        In one line: no summary, an unknown run id, or a run made before runs
        kept their predictions (re-run it).
    """
    path = Path(source)
    if not path.exists() and _RUN_ID.fullmatch(str(source)):
        summary, predictions = _from_mlflow(str(source), tracking_uri)
        where = f"MLflow run {source}"
    else:
        summary = load_summary(path)
        folder = path if path.is_dir() else path.parent
        predictions = _read_predictions(folder / PREDICTIONS, str(folder))
        where = str(path)
    spec = task_spec(summary.experiment.task)
    predictions["candidate"] = predictions["candidate"].astype(str)
    return ReopenedRun(summary, predictions, spec, spec.make_view(), where)
