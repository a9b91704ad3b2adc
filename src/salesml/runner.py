"""The experiment loop shared by every task: candidates, tracking, champion, summary.

A task (classification or forecast) implements :class:`salesml.task.Task`:
it prepares and validates the data, fits and evaluates one candidate into an
:class:`~salesml.task.Outcome`, and computes the paired difference between
two outcomes. This module does the rest once for all tasks: MLflow parent and
child runs, failure isolation, the champion against the best baseline, the
model registry, the comparison table and ``summary.json``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from salesml.config import CandidateConfig, ExperimentConfig
from salesml.errors import EngineError
from salesml.evaluation import LOWER_IS_BETTER
from salesml.results import (
    Champion,
    ExperimentInfo,
    Summary,
    ci_label,
)
from salesml.screen import make_console, mlflow_ui_hint, print_notes, print_table
from salesml.task import Outcome, Task

__all__ = ["dry_run", "make_task", "mlflow_ui_hint", "run_experiment"]


def make_task(config: ExperimentConfig) -> Task:
    """The task adapter for ``config.task``."""
    if config.is_classification:
        from salesml.classify.task import ClassificationTask

        return ClassificationTask(config)
    from salesml.forecast.task import ForecastTask

    return ForecastTask(config)


def _better(metric: str, a: float, b: float) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def _best(outcomes: list[Outcome], role: str, metric: str) -> Outcome | None:
    best = None
    for o in outcomes:
        if o.role != role or o.status != "ok":
            continue
        value = o.metrics.get(metric)
        if value is None or value != value:
            continue
        if best is None or _better(metric, value, best.metrics[metric]):
            best = o
    return best


def _run_candidate(
    task: Task,
    tracker: Any,
    cand: CandidateConfig,
    role: str,
    plot_dir: Path,
    console: Any,
    source: str,
) -> Outcome:
    from rich.markup import escape

    from salesml.tracking import ROLE_TAG, redact_uri

    run_id: list[str] = []
    try:
        with tracker.run(
            cand.name, tags={ROLE_TAG: role, "salesml.type": cand.type}, nested=True
        ) as rid:
            run_id.append(rid)
            tracker.log_datasets(task.datasets(), source)
            outcome = task.fit_evaluate(cand, role, plot_dir)
            outcome.mlflow_run_id = rid
            tracker.log_params({"type": cand.type, **outcome.params})
            tracker.log_metrics({**outcome.metrics, "fit_seconds": outcome.fit_seconds})
            tracker.log_artifacts(outcome.plots)
            outcome.model_uri = tracker.log_code_model(outcome.model, outcome.input_example)
            return outcome
    except EngineError:  # the engine (Spark) failed, not the candidate: stop the run
        raise
    except Exception as exc:  # recorded in MLflow and the summary; the run goes on
        from salesml.spark import DRIVER_LOST_HINT, driver_lost

        if driver_lost():  # whatever failed, it failed because Spark's driver is gone
            raise EngineError(
                f"candidate {cand.name!r} ({type(exc).__name__}: {exc}): {DRIVER_LOST_HINT}"
            ) from exc
        message = redact_uri(f"{type(exc).__name__}: {exc}")
        console.print(
            f"[red]candidate {escape(repr(cand.name))} failed:[/] {escape(message)}",
            highlight=False,
        )
        return Outcome(
            name=cand.name,
            role=role,
            type=cand.type,
            status="failed",
            error=message,
            mlflow_run_id=run_id[0] if run_id else None,
        )


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
    info = task.prepare()
    console.print(f"[bold]{escape(config.name)}[/] ({config.task}): {escape(config.description)}")
    console.print(f"data: {escape(info.path)}  {info.rows:,} rows, sha256 {info.sha256[:12]}")
    if config.is_classification:
        console.print(
            f"split: {info.split}, train {info.train_rows:,} rows, test {info.test_rows:,} rows, "
            f"positive rate {info.positive_rate:.1%}; {len(info.features)} features"
        )
    else:
        console.print(
            f"series: {info.series_used} of {info.series}, freq {info.freq}, season "
            f"{info.season_length}, horizon {info.horizon}; backtest origins "
            f"{', '.join(info.cutoffs)} (calibration {info.calibration_cutoff})"
        )
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


def run_experiment(
    config: ExperimentConfig,
    output_dir: Path | None = None,
    tracking_uri: str | None = None,
    console: Any = None,
    task: Task | None = None,
    offline: bool = False,
) -> Summary:
    """Run every candidate of ``config`` through one evaluation and tracking path.

    Parameters
    ----------
    config : ExperimentConfig
    output_dir : Path, optional
        Default ``reports/<name>/`` under the working directory.
    tracking_uri : str, optional
        Default: ``MLFLOW_TRACKING_URI`` or the project's ``mlflow.db``.
    task : Task, optional
        Default: ``make_task(config)``. Pass one to inspect its state afterwards.
    offline : bool
        Track into a sqlite store inside ``output_dir/offline/`` instead of the
        configured one; ``salesml sync output_dir`` logs it there later.

    Returns
    -------
    Summary
        Also written to ``output_dir/summary.json`` (read it back with ``load_summary``).

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, or :class:`salesml.interrupt.Terminated` on SIGTERM: the open
        MLflow runs are marked KILLED and no summary is written.
    """
    from salesml.interrupt import interruptible
    from salesml.logfile import library_log
    from salesml.paths import safe_name
    from salesml.tracking import load_mlflow, open_store, resolve_tracking_uri

    console = make_console(console)
    output_dir = Path(output_dir or Path("reports") / safe_name(config.name))
    artifact_root = None
    if offline:
        from salesml.tracking import offline_store

        tracking_uri, artifact_root = offline_store(output_dir)
    load_mlflow()
    with interruptible(), library_log(output_dir / "salesml.log") as log:
        open_store(tracking_uri or resolve_tracking_uri())  # unreachable: fail before training
        task = task or make_task(config)
        summary = _run(config, output_dir, tracking_uri, console, task, artifact_root)
    print_table(console, summary)
    print_notes(console, task)  # the task's one-line verdicts on its data
    elapsed = summary.experiment.elapsed_seconds
    console.print(
        f"summary: {output_dir / 'summary.json'}  ({elapsed:.1f} s); library messages: {log}"
    )
    console.print(f"runs: {mlflow_ui_hint(summary)}", highlight=False)
    if offline:
        console.print(
            f"offline: runs kept in {output_dir / 'offline'}; log them to the tracking "
            f"store later with: salesml sync {output_dir}",
            highlight=False,
        )
    return summary


def _run(
    config: ExperimentConfig,
    output_dir: Path,
    tracking_uri: str | None,
    console: Any,
    task: Task,
    artifact_root: Path | None = None,
) -> Summary:
    from rich.markup import escape
    from rich.progress import Progress

    from salesml.paths import safe_names
    from salesml.tracking import ROLE_TAG, Tracker, git_commit, redact_uri

    plot_dir = output_dir / "plots"
    folders = safe_names(c.name for _, c in config.candidates)  # names as given are shown
    started = time.perf_counter()
    data_info = task.prepare()
    tracker = Tracker(config.name, tracking_uri, artifact_root)
    metric = task.primary_metric
    source_dir = config.source.parent if config.source else Path.cwd()
    commit = git_commit(source_dir)
    tags = {
        ROLE_TAG: "experiment",
        "salesml.task": config.task,
        "salesml.data.sha256": data_info.sha256,
        "mlflow.source.git.commit": commit,
    }
    with tracker.run(config.name, tags={k: v for k, v in tags.items() if v}) as parent_id:
        tracker.log_dict(config.resolved_dict(), "config.yaml")
        _log_leakage(tracker, getattr(data_info, "leakage", None))
        tracker.log_params(
            {"task": config.task, "data.rows": data_info.rows, "data.sha256": data_info.sha256}
        )
        tracker.log_datasets(task.datasets(), data_info.path)
        outcomes: list[Outcome] = []
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(escape(config.name), total=len(config.candidates))
            for role, cand in config.candidates:
                progress.update(bar, description=escape(f"{config.name}: {cand.name}"))
                outcomes.append(
                    _run_candidate(
                        task,
                        tracker,
                        cand,
                        role,
                        plot_dir / folders[cand.name],
                        console,
                        data_info.path,
                    )
                )
                progress.advance(bar)
        ok = [o for o in outcomes if o.status == "ok"]
        comparison = task.comparison_plots(ok, plot_dir) if ok else []
        tracker.log_artifacts(comparison)
        confidence = config.evaluation.confidence
        champion = _champion(task, tracker, outcomes, metric, confidence)
        if champion:
            tracker.set_tags({"salesml.champion": champion.name})
            if champion.delta is not None:
                tracker.log_metrics(
                    {f"delta_{metric}": champion.delta, "delta_ci": champion.delta_ci}
                )
        summary = Summary(
            experiment=ExperimentInfo(
                name=config.name,
                task=config.task,
                primary_metric=metric,
                confidence=confidence,
                description=config.description,
                config=str(config.source) if config.source else None,
                mlflow_run_id=parent_id,
                tracking_uri=redact_uri(tracker.uri),
                experiment_id=tracker.experiment_id,
                git_commit=commit,
                elapsed_seconds=round(time.perf_counter() - started, 2),
            ),
            data=data_info,
            candidates=[o.result() for o in outcomes],
            champion=champion,
            plots=[str(p) for p in comparison],
        )
        summary.write(output_dir / "summary.json")
        tracker.log_dict(summary.to_dict(), "summary.json")
    return summary


def _log_leakage(tracker: Any, leakage: dict[str, Any] | None) -> None:
    """The leakage guard's record on the experiment run: ``leakage.json``, a tag, a param."""
    if leakage is None:
        return
    flagged = sorted({f["column"] for f in leakage["flags"] if f["action"] != "allowed"})
    tracker.log_dict(leakage, "leakage.json")
    tracker.set_tags({"salesml.leakage": (", ".join(flagged) or "none")[:5000]})
    tracker.log_params({"leakage.on_flag": leakage["on_flag"], "leakage.flags": len(flagged)})


def _champion(
    task: Task, tracker: Any, outcomes: list[Outcome], metric: str, confidence: float
) -> Champion | None:
    model = _best(outcomes, "model", metric)
    baseline = _best(outcomes, "baseline", metric)
    if model is None:
        return None
    champ = Champion(
        name=model.name,
        type=model.type,
        model_uri=model.model_uri,
        metric=metric,
        confidence=confidence,
    )
    if baseline is None:
        return champ
    delta, ci = task.difference(model, baseline)
    champ.baseline, champ.delta, champ.delta_ci = baseline.name, float(delta), list(ci)
    champ.beats_baseline = bool(ci[1] < 0 if metric in LOWER_IS_BETTER else ci[0] > 0)
    if champ.beats_baseline and model.model_uri:
        champ.registered_version = tracker.register_champion(model.model_uri)
    return champ
