"""The experiment loop shared by every task: candidates, tracking, champion, summary.

A task (classification or forecast) implements :class:`Task`: it prepares
and validates the data, fits and evaluates one candidate into an
:class:`Outcome`, and computes the paired difference between two outcomes.
This module does the rest once for all tasks: MLflow parent and child runs,
failure isolation, the champion against the best baseline, the model
registry, the comparison table and ``summary.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from salesml.config import CandidateConfig, ExperimentConfig
from salesml.evaluation import LOWER_IS_BETTER


@dataclass
class Outcome:
    """What a task returns for one fitted and evaluated candidate."""

    name: str
    role: str
    type: str
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    model: Any = None
    flavor: str = "sklearn"
    input_example: Any = None
    model_output: Any = None
    plots: list[Path] = field(default_factory=list)
    pairing: Any = None
    status: str = "ok"
    error: str | None = None
    mlflow_run_id: str | None = None
    model_uri: str | None = None

    def to_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            "type": self.type,
            "status": self.status,
            "mlflow_run_id": self.mlflow_run_id,
            "model_uri": self.model_uri,
            "fit_seconds": round(self.fit_seconds, 3),
            "metrics": self.metrics,
        }
        if self.error:
            out["error"] = self.error
        return out


class Task(Protocol):
    """The task-specific half of an experiment."""

    primary_metric: str

    def prepare(self) -> dict[str, Any]:
        """Load and validate data, split; return the ``data`` block of the summary."""

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        """Fit one candidate on train and evaluate it on test."""

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Primary metric of ``a`` minus ``b`` with a paired bootstrap CI."""

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Path]:
        """Figures comparing all successful candidates."""


def make_task(config: ExperimentConfig) -> Task:
    """The task adapter for ``config.task``."""
    if config.is_classification:
        from salesml.classification import ClassificationTask

        return ClassificationTask(config)
    from salesml.forecasting import ForecastTask

    return ForecastTask(config)


def write_json_atomic(data: dict[str, Any], path: Path) -> Path:
    """Write JSON to ``path`` atomically, so readers never see half a file."""
    from salesml.data import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, default=str)
            fh.write("\n")

    return atomic_write(path, write)


def load_summary(path: str | Path) -> dict[str, Any]:
    """Read a ``summary.json`` written by :func:`run_experiment`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def candidates_frame(summary: dict[str, Any]) -> Any:
    """One row per candidate: role, status, fit seconds and every metric (CIs as low/high).

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate name, best first by the primary metric.
    """
    import pandas as pd

    from salesml.tracking import metric_items

    rows = []
    for c in summary["candidates"]:
        row = {"candidate": c["name"], "role": c["role"], "status": c["status"]}
        row.update(metric_items(c.get("metrics", {})))
        row["fit_seconds"] = c.get("fit_seconds")
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("candidate")
    metric = summary["primary_metric"]
    if metric in frame:
        frame = frame.sort_values(metric, ascending=metric in LOWER_IS_BETTER)
    return frame


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
    task: Task, tracker: Any, cand: CandidateConfig, role: str, plot_dir: Path, console: Any
) -> Outcome:
    from salesml.tracking import ROLE_TAG

    run_id: list[str] = []
    try:
        with tracker.run(
            cand.name, tags={ROLE_TAG: role, "salesml.type": cand.type}, nested=True
        ) as rid:
            run_id.append(rid)
            outcome = task.fit_evaluate(cand, role, plot_dir / cand.name)
            outcome.mlflow_run_id = rid
            tracker.log_params({"type": cand.type, **outcome.params})
            tracker.log_metrics({**outcome.metrics, "fit_seconds": outcome.fit_seconds})
            tracker.log_artifacts(outcome.plots)
            if outcome.flavor == "sklearn":
                outcome.model_uri = tracker.log_sklearn_model(outcome.model, outcome.input_example)
            else:
                outcome.model_uri = tracker.log_pyfunc_model(
                    outcome.model, outcome.input_example, outcome.model_output
                )
            return outcome
    except Exception as exc:  # recorded in MLflow and the summary; the run goes on
        message = f"{type(exc).__name__}: {exc}"
        console.print(f"[red]candidate {cand.name!r} failed:[/] {message}", highlight=False)
        return Outcome(
            name=cand.name,
            role=role,
            type=cand.type,
            status="failed",
            error=message,
            mlflow_run_id=run_id[0] if run_id else None,
        )


def _print_table(console: Any, summary: dict[str, Any]) -> None:
    from rich.table import Table

    metric = summary["primary_metric"]
    first_ok = next((c for c in summary["candidates"] if c["status"] == "ok"), None)
    shown = [k for k in (first_ok or {}).get("metrics", {}) if not k.endswith("_ci")][:8]
    table = Table(title=f"{summary['experiment']} ({summary['task']}): test metrics")
    for col in ("candidate", "role", *shown, "fit s"):
        table.add_column(col, justify="left" if col in ("candidate", "role") else "right")
    for c in summary["candidates"]:
        if c["status"] != "ok":
            table.add_row(c["name"], c["role"], "[red]failed[/]")
            continue
        cells = []
        for k in shown:
            v = c["metrics"].get(k)
            ci = c["metrics"].get(f"{k}_ci")
            text = "-" if v is None else f"{v:.3f}"
            if k == metric and ci:
                text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            cells.append(text)
        table.add_row(c["name"], c["role"], *cells, f"{c['fit_seconds']:.2f}")
    console.print(table)
    for c in summary["candidates"]:
        if c["status"] != "ok":
            console.print(f"[red]{c['name']} failed:[/] {c['error']}", highlight=False)
    text = champion_verdict(summary)
    if text:
        beats = summary["champion"].get("beats_baseline")
        console.print(f"[{'green' if beats else 'yellow'}]{text}[/]", highlight=False)


def champion_verdict(summary: dict[str, Any]) -> str:
    """One sentence: does the champion beat the best baseline, by how much, how sure.

    Empty when no model succeeded or there is no baseline to compare with.
    """
    champ = summary.get("champion")
    if not champ or not champ.get("baseline"):
        return ""
    metric = summary["primary_metric"]
    d, (lo, hi) = champ[f"delta_{metric}"], champ["delta_ci"]
    head = (
        f"{champ['name']} beats {champ['baseline']}"
        if champ["beats_baseline"]
        else f"No model beats the rules: {champ['name']} vs {champ['baseline']} is not significant"
    )
    return f"{head}: {metric} {d:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})"


def run_experiment(
    config: ExperimentConfig,
    output_dir: Path | None = None,
    tracking_uri: str | None = None,
    console: Any = None,
    task: Task | None = None,
) -> dict[str, Any]:
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

    Returns
    -------
    dict
        The summary, also written to ``output_dir/summary.json``.
    """
    from rich.console import Console
    from rich.progress import Progress

    from salesml.tracking import ROLE_TAG, Tracker, git_commit

    console = console or Console(width=max(Console().width, 150))
    output_dir = Path(output_dir or Path("reports") / config.name)
    plot_dir = output_dir / "plots"
    task = task or make_task(config)
    started = time.perf_counter()
    data_info = task.prepare()
    tracker = Tracker(config.name, tracking_uri)
    metric = task.primary_metric
    source_dir = config.source.parent if config.source else Path.cwd()
    tags = {
        ROLE_TAG: "experiment",
        "salesml.task": config.task,
        "salesml.data.sha256": data_info["sha256"],
        "mlflow.source.git.commit": git_commit(source_dir),
    }
    with tracker.run(config.name, tags={k: v for k, v in tags.items() if v}) as parent_id:
        tracker.log_dict(config.resolved_dict(), "config.yaml")
        tracker.log_params(
            {
                "task": config.task,
                "data.rows": data_info["rows"],
                "data.sha256": data_info["sha256"],
            }
        )
        outcomes: list[Outcome] = []
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(config.name, total=len(config.candidates))
            for role, cand in config.candidates:
                progress.update(bar, description=f"{config.name}: {cand.name}")
                outcomes.append(_run_candidate(task, tracker, cand, role, plot_dir, console))
                progress.advance(bar)
        ok = [o for o in outcomes if o.status == "ok"]
        comparison = task.comparison_plots(ok, plot_dir) if ok else []
        tracker.log_artifacts(comparison)
        champion = _champion(task, tracker, outcomes, metric)
        if champion:
            tracker.set_tags({"salesml.champion": champion["name"]})
            tracker.log_metrics({k: v for k, v in champion.items() if k.startswith("delta")})
        summary = {
            "experiment": config.name,
            "task": config.task,
            "primary_metric": metric,
            "mlflow_run_id": parent_id,
            "tracking_uri": tracker.uri,
            "data": data_info,
            "candidates": [o.to_summary() for o in outcomes],
            "champion": champion,
            "plots": [str(p) for p in comparison],
            "elapsed_seconds": round(time.perf_counter() - started, 2),
        }
        write_json_atomic(summary, output_dir / "summary.json")
        tracker.log_dict(summary, "summary.json")
    _print_table(console, summary)
    console.print(f"summary: {output_dir / 'summary.json'}  ({summary['elapsed_seconds']:.1f} s)")
    return summary


def _champion(
    task: Task, tracker: Any, outcomes: list[Outcome], metric: str
) -> dict[str, Any] | None:
    model = _best(outcomes, "model", metric)
    baseline = _best(outcomes, "baseline", metric)
    if model is None:
        return None
    champ: dict[str, Any] = {"name": model.name, "model_uri": model.model_uri, "baseline": None}
    if baseline is None:
        return champ
    delta, ci = task.difference(model, baseline)
    beats = ci[1] < 0 if metric in LOWER_IS_BETTER else ci[0] > 0
    champ.update(
        {
            "baseline": baseline.name,
            f"delta_{metric}": delta,
            "delta_ci": ci,
            "beats_baseline": bool(beats),
            "registered_version": None,
        }
    )
    if beats and model.model_uri:
        champ["registered_version"] = tracker.register_champion(model.model_uri)
    return champ
