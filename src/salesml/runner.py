"""The experiment loop shared by every task: candidates, tracking, champion, summary.

A task (declared by a :class:`~salesml.experiment.tasks.TaskSpec`) implements
:class:`salesml.experiment.task.Task`: it prepares and validates the data,
fits and evaluates one candidate into an :class:`~salesml.experiment.task.Outcome`
holding its test predictions, and computes the paired difference between two
outcomes. This module does the rest once for all tasks, knowing none by name:
MLflow parent and child runs, failure isolation, the champion against the best
baseline, the model registry, the predictions file a run is reopened from
(:func:`salesml.load_run`) and ``summary.json``. It reports progress to a
:class:`~salesml.experiment.progress.Progress` listener and draws nothing itself.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesml.errors import EngineError
from salesml.experiment.candidates import CandidateConfig
from salesml.experiment.champion import pick_champion
from salesml.experiment.config import ExperimentConfig
from salesml.experiment.progress import Progress, RunFiles
from salesml.experiment.results import PREDICTIONS, ExperimentInfo, Summary, ci_label
from salesml.experiment.task import Outcome, Task
from salesml.experiment.tasks import make_task, task_spec
from salesml.screen import make_console, mlflow_ui_hint, print_notes

if TYPE_CHECKING:
    from salesml.runtime.drawer import Drawer

__all__ = ["dry_run", "make_task", "mlflow_ui_hint", "run_experiment"]


def _run_candidate(
    task: Task,
    tracker: Any,
    cand: CandidateConfig,
    role: str,
    plot_dir: Path,
    progress: Progress,
    source: str,
    drawer: Drawer,
) -> tuple[Outcome, Future[Any] | None]:
    """Fit, evaluate, export and track one candidate; its figures are left drawing."""
    from salesml.tracking import ROLE_TAG, redact_uri

    run_id: list[str] = []
    try:
        with tracker.run(
            cand.name, tags={ROLE_TAG: role, "salesml.type": cand.type}, nested=True
        ) as rid:
            run_id.append(rid)
            tracker.log_datasets(task.datasets(), source)
            outcome = task.fit_evaluate(cand, role, plot_dir)
            drawings = task.figures(outcome, plot_dir)
            outcome.plots = [d.path for d in drawings]
            drawn = drawer.submit(drawings)  # logged to this run once drawn (_log_figures)
            outcome.model = task.export(outcome, cand)
            outcome.mlflow_run_id = rid
            tracker.log_params({"type": cand.type, **outcome.params})
            tracker.log_metrics({**outcome.metrics, "fit_seconds": outcome.fit_seconds})
            if outcome.model is not None:  # a task may have nothing to export yet
                outcome.model_uri = tracker.log_code_model(outcome.model, outcome.input_example)
            return outcome, drawn
    except EngineError:  # the task's engine failed, not the candidate: stop the run
        raise
    except Exception as exc:  # recorded in MLflow and the summary; the run goes on
        engine = task.engine_failure(exc)  # whatever failed, it failed because the engine died
        if engine is not None:
            raise EngineError(
                f"candidate {cand.name!r} ({type(exc).__name__}: {exc}): {engine}"
            ) from exc
        message = redact_uri(f"{type(exc).__name__}: {exc}")
        progress.failed(cand.name, message)
        failed = Outcome(
            name=cand.name,
            role=role,
            type=cand.type,
            status="failed",
            error=message,
            mlflow_run_id=run_id[0] if run_id else None,
        )
        return failed, None


def _log_figures(
    drawn: list[tuple[Outcome, Future[Any]]], drawer: Drawer, tracker: Any, progress: Progress
) -> None:
    """Log each candidate's figures to its (finished) MLflow run once drawn.

    A figure that failed to draw fails its candidate, as it did when drawn inside
    the candidate's run: the outcome, the MLflow run and the screen say so.
    """
    from salesml.runtime.drawer import DrawingError
    from salesml.tracking import redact_uri

    for outcome, future in drawn:
        try:
            tracker.log_artifacts(drawer.result(future), run_id=outcome.mlflow_run_id)
        except DrawingError as exc:
            message = redact_uri(str(exc))  # the worker's traceback, its last line the error
            outcome.status, outcome.error = "failed", f"figures: {message.splitlines()[-1]}"
            tracker.fail_run(outcome.mlflow_run_id, message)
            progress.failed(outcome.name, outcome.error)


def dry_run(config: ExperimentConfig, console: Any = None) -> Any:
    """Validate config and data and print the plan, fitting nothing.

    Returns
    -------
    DataInfo
        The data block a real run would write (rows, split or backtest, features).
    """
    from rich.markup import escape
    from rich.table import Table

    console = make_console(console)
    task = make_task(config)
    info = task.prepare().info
    console.print(f"[bold]{escape(config.name)}[/] ({config.task}): {escape(config.description)}")
    console.print(f"data: {escape(info.path)}  {info.rows:,} rows, sha256 {info.sha256[:12]}")
    for line in task.plan(info):
        console.print(line, highlight=False, markup=False)
    for col, why in info.excluded.items():
        console.print(f"  left out: {escape(col)} ({escape(why)})", highlight=False)
    print_notes(console, task)
    table = Table(title="candidates")
    for col in ("name", "role", "type", "options"):
        table.add_column(col)
    for role, cand in config.candidates:
        opts = {k: v for k, v in cand.model_dump(exclude={"type", "name"}).items() if v}
        table.add_row(escape(cand.name), role, cand.type, escape(str(opts or "-")))
    console.print(table)
    console.print(
        f"evaluation: {config.evaluation.bootstrap} bootstrap resamples, "
        f"{ci_label(config.evaluation.confidence)}; nothing was fitted (--dry-run)"
    )
    return info


def _listener(progress: Progress | None, console: Any, quiet: bool) -> Progress:
    """Who is told: ``progress``, nobody (quiet), plain lines in a notebook, else rich."""
    from salesml.experiment.progress import PlainProgress, QuietProgress, in_notebook

    if quiet:
        return QuietProgress()
    if progress is not None:
        return progress
    if console is None and in_notebook():
        return PlainProgress()
    from salesml.screen import RichProgress

    return RichProgress(make_console(console))


def run_experiment(
    config: ExperimentConfig,
    output_dir: Path | None = None,
    tracking_uri: str | None = None,
    console: Any = None,
    task: Task | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    quiet: bool = False,
) -> Summary:
    """Run every candidate of ``config`` through one evaluation and tracking path.

    Parameters
    ----------
    config : ExperimentConfig
    output_dir : Path, optional
        Default ``reports/<name>/`` under the working directory.
    tracking_uri : str, optional
        Default: ``MLFLOW_TRACKING_URI`` or the project's ``mlflow.db``.
    console : rich.console.Console, optional
        Where the default terminal display draws.
    task : Task, optional
        Default: ``make_task(config)``. Pass one to inspect its state afterwards.
    offline : bool
        Track into a sqlite store inside ``output_dir/offline/`` instead of the
        configured one; ``salesml sync output_dir`` logs it there later.
    progress : Progress, optional
        Told of each step (:mod:`salesml.experiment.progress`). Default: rich bars
        and tables on a terminal, a few plain lines in a notebook.
    quiet : bool
        Show nothing.

    Returns
    -------
    Summary
        Also written to ``output_dir/summary.json`` (read it back with
        ``load_summary``, reopen the run with ``load_run``).

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, or :class:`salesml.runtime.interrupt.Terminated` on SIGTERM: the open
        MLflow runs are marked KILLED and no summary is written.
    """
    from salesml.experiment.progress import Checkpointed
    from salesml.io.paths import safe_name
    from salesml.runtime.interrupt import checkpoint, interruptible
    from salesml.runtime.logfile import library_log
    from salesml.tracking import load_mlflow, open_store, resolve_tracking_uri

    listener = Checkpointed(_listener(progress, console, quiet), checkpoint)
    output_dir = Path(output_dir or Path("reports") / safe_name(config.name))
    artifact_root = None
    if offline:
        from salesml.tracking import offline_store

        tracking_uri, artifact_root = offline_store(output_dir)
    load_mlflow()
    with interruptible(), library_log(output_dir / "salesml.log") as log:
        open_store(tracking_uri or resolve_tracking_uri())  # unreachable: fail before training
        task = task or make_task(config)
        summary = _run(config, output_dir, tracking_uri, listener, task, artifact_root)
    listener.finished(summary, task.notes(), RunFiles(output_dir, log, offline))
    return summary


def _run(
    config: ExperimentConfig,
    output_dir: Path,
    tracking_uri: str | None,
    progress: Progress,
    task: Task,
    artifact_root: Path | None = None,
) -> Summary:
    from salesml.experiment.bootstrap import shared_replicates
    from salesml.io.paths import safe_names
    from salesml.runtime.drawer import drawer as figure_drawer
    from salesml.runtime.interrupt import checkpoint
    from salesml.tracking import ROLE_TAG, Tracker, git_commit, redact_uri

    spec = task_spec(config.task)
    plot_dir = output_dir / "plots"
    folders = safe_names(c.name for _, c in config.candidates)  # names as given are shown
    started = time.perf_counter()
    data_info = task.prepare().info
    tracker = Tracker(config.name, tracking_uri, artifact_root)
    drawer = figure_drawer()
    metric = spec.metric(config.evaluation.metric) if config.evaluation.metric else spec.primary
    source_dir = config.source.parent if config.source else Path.cwd()
    commit = git_commit(source_dir)
    tags = {
        ROLE_TAG: "experiment",
        "salesml.task": config.task,
        "salesml.data.sha256": data_info.sha256,
        "mlflow.source.git.commit": commit,
    }
    # every candidate's CIs and the champion's are computed on one set of replicates
    with (
        shared_replicates(),
        tracker.run(config.name, tags={k: v for k, v in tags.items() if v}) as parent_id,
    ):
        tracker.log_dict(config.resolved_dict(), "config.yaml")
        record = task.parent_record(data_info)
        for name, data in record.dicts.items():
            tracker.log_dict(data, name)
        tracker.set_tags(record.tags)
        tracker.log_params(
            {
                "task": config.task,
                "data.rows": data_info.rows,
                "data.sha256": data_info.sha256,
                **record.params,
            }
        )
        tracker.log_datasets(task.datasets(), data_info.path)
        outcomes: list[Outcome] = []
        drawn: list[tuple[Outcome, Future[Any]]] = []
        progress.plan(config.name, [(c.name, role) for role, c in config.candidates])
        try:
            for role, cand in config.candidates:
                progress.candidate(cand.name, role)
                t0 = time.perf_counter()
                outcome, drawing = _run_candidate(
                    task,
                    tracker,
                    cand,
                    role,
                    plot_dir / folders[cand.name],
                    progress,
                    data_info.path,
                    drawer,
                )
                progress.candidate_done(cand.name, outcome.status, time.perf_counter() - t0)
                outcomes.append(outcome)
                if drawing is not None:
                    drawn.append((outcome, drawing))
            _log_figures(drawn, drawer, tracker, progress)
        finally:
            progress.close()
        ok = [o for o in outcomes if o.status == "ok"]
        drawings = task.comparison_plots(ok, plot_dir) if ok else []
        comparison = [d.path for d in drawings]
        comparing = drawer.submit(drawings)
        predictions = _write_predictions(ok, output_dir / PREDICTIONS)
        if predictions is not None:
            tracker.log_artifacts([predictions], folder=None)  # beside summary.json
        confidence = config.evaluation.confidence
        champion = pick_champion(spec, task, tracker, outcomes, metric, config.evaluation)
        tracker.log_artifacts(drawer.result(comparing))
        if champion:
            tracker.set_tags({"salesml.champion": champion.name})
            if champion.verdict:
                tracker.set_tags({"salesml.verdict": champion.verdict})
            if champion.delta is not None:
                ci = {"delta_ci": champion.delta_ci} if champion.delta_ci else {}
                tracker.log_metrics({f"delta_{metric.name}": champion.delta, **ci})
        ev = config.evaluation
        summary = Summary(
            experiment=ExperimentInfo(
                name=config.name,
                task=config.task,
                primary_metric=metric.name,
                confidence=confidence,
                description=config.description,
                config=str(config.source) if config.source else None,
                mlflow_run_id=parent_id,
                tracking_uri=redact_uri(tracker.uri),
                experiment_id=tracker.experiment_id,
                git_commit=commit,
                elapsed_seconds=round(time.perf_counter() - started, 2),
                lower_is_better=metric.lower_is_better,
                bootstrap=ev.bootstrap,
                bootstrap_seed=ev.seed,
            ),
            data=data_info,
            candidates=[o.result() for o in outcomes],
            champion=champion,
            plots=[str(p) for p in comparison],
        )
        checkpoint()  # a stop asked for and swallowed since the last candidate: no summary
        summary.write(output_dir / "summary.json")
        tracker.log_dict(summary.to_dict(), "summary.json")
    return summary


def _write_predictions(outcomes: list[Outcome], path: Path) -> Path | None:
    """Every successful candidate's test predictions in one Parquet file (column ``candidate``)."""
    import pandas as pd

    from salesml.io.data import atomic_write

    frames = [o.predictions.assign(candidate=o.name) for o in outcomes if o.predictions is not None]
    if not frames:
        return None
    frame = pd.concat(frames, ignore_index=True)
    frame["candidate"] = frame["candidate"].astype(str)
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
