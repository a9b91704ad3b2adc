"""What a run shows on screen: the comparison table, the verdict, notes and where to look.

The screen shows what the user needs (tables, one-line verdicts); library
messages go to the run's log file (see :mod:`salesml.logfile`).
"""

from __future__ import annotations

from typing import Any

from salesml.evaluation import LOWER_IS_BETTER
from salesml.results import Summary, champion_verdict, ci_label


def make_console(console: Any) -> Any:
    """``console``, or a rich console at least 150 columns wide (tables stay on one line)."""
    from rich.console import Console

    return console or Console(width=max(Console().width, 150))


def print_table(console: Any, summary: Summary) -> None:
    """The comparison table (primary metric with its CI), failures, and the verdict line."""
    from rich.markup import escape
    from rich.table import Table

    exp = summary.experiment
    label = ci_label(exp.confidence)
    first_ok = next((c for c in summary.candidates if c.status == "ok"), None)
    shown = [k for k in (first_ok.metrics if first_ok else {}) if not k.endswith("_ci")][:8]
    table = Table(
        title=f"{escape(exp.name)} ({exp.task}): test metrics, {exp.primary_metric} with {label}"
    )
    for col in ("candidate", "role", *shown, "fit s"):
        table.add_column(col, justify="left" if col in ("candidate", "role") else "right")
    for c in summary.candidates:
        if c.status != "ok":
            table.add_row(escape(c.name), c.role, "[red]failed[/]")
            continue
        cells = []
        for k in shown:
            v = c.metrics.get(k)
            ci = c.metrics.get(f"{k}_ci")
            text = "-" if v is None else f"{v:.3f}"
            if k == exp.primary_metric and ci:
                text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            cells.append(escape(text))
        table.add_row(escape(c.name), c.role, *cells, f"{c.fit_seconds:.2f}")
    console.print(table)
    for c in summary.candidates:
        if c.status != "ok":
            console.print(
                f"[red]{escape(c.name)} failed:[/] {escape(str(c.error))}", highlight=False
            )
    text = champion_verdict(summary)
    if text:
        beats = summary.champion is not None and summary.champion.beats_baseline
        console.print(f"[{'green' if beats else 'yellow'}]{escape(text)}[/]", highlight=False)


def print_notes(console: Any, task: Any) -> None:
    """The task's one-line verdicts on its data (``task.notes()``), e.g. the leakage guard's."""
    for line in task.notes():
        console.print(line, highlight=False, markup=False)


def mlflow_ui_hint(summary: Summary) -> str:
    """The ``mlflow ui`` command for this run's store and the experiment's page, best first."""
    from urllib.parse import quote

    from salesml.tracking import redact_uri

    exp = summary.experiment
    order = quote(f"metrics.`{exp.primary_metric}`")
    ascending = str(exp.primary_metric in LOWER_IS_BETTER).lower()
    return (
        f"mlflow ui --backend-store-uri {redact_uri(str(exp.tracking_uri))}  then open "
        f"http://127.0.0.1:5000/#/experiments/{exp.experiment_id}/runs"
        f"?orderByKey={order}&orderByAsc={ascending}"
    )
