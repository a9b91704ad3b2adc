"""What a run shows on a terminal: progress, the comparison table, the verdict, where to look.

The screen shows what the user needs (tables, one-line verdicts); library
messages go to the run's log file (see :mod:`salesml.runtime.logfile`).
:class:`RichProgress` is the CLI's :class:`~salesml.experiment.progress.Progress`
listener; the experiment loop itself draws nothing.
"""

from __future__ import annotations

from typing import Any

from salesml.experiment.progress import RunFiles
from salesml.experiment.results import Summary, champion_verdict, ci_label
from salesml.experiment.tasks import metric_format


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
            fmt = metric_format(exp.task, k)
            text = "-" if v is None else format(v, fmt)
            if k == exp.primary_metric and ci:
                text += f" [{format(ci[0], fmt)}, {format(ci[1], fmt)}]"
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
    ascending = str(exp.lower_is_better).lower()
    return (
        f"mlflow ui --backend-store-uri {redact_uri(str(exp.tracking_uri))}  then open "
        f"http://127.0.0.1:5000/#/experiments/{exp.experiment_id}/runs"
        f"?orderByKey={order}&orderByAsc={ascending}"
    )


class RichProgress:
    """A transient rich progress bar while candidates run, then the table and verdicts."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self._bar: Any = None
        self._task: Any = None
        self._name = ""

    def plan(self, name: str, candidates: list[tuple[str, str]]) -> None:
        from rich.markup import escape
        from rich.progress import Progress

        self._name = name
        self._bar = Progress(console=self.console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(escape(name), total=len(candidates))

    def candidate(self, name: str, role: str) -> None:
        from rich.markup import escape

        if self._bar is not None:
            self._bar.update(self._task, description=escape(f"{self._name}: {name}"))

    def candidate_done(self, name: str, status: str, seconds: float) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def failed(self, name: str, message: str) -> None:
        from rich.markup import escape

        self.console.print(
            f"[red]candidate {escape(repr(name))} failed:[/] {escape(message)}", highlight=False
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def finished(self, summary: Summary, notes: list[str], where: RunFiles) -> None:
        console = self.console
        print_table(console, summary)
        for line in notes:  # the task's one-line verdicts on its data
            console.print(line, highlight=False, markup=False)
        elapsed = summary.experiment.elapsed_seconds
        console.print(f"summary: {where.summary}  ({elapsed:.1f} s); library messages: {where.log}")
        console.print(f"runs: {mlflow_ui_hint(summary)}", highlight=False)
        if where.offline:
            console.print(
                f"offline: runs kept in {where.output_dir / 'offline'}; log them to the tracking "
                f"store later with: salesml sync {where.output_dir}",
                highlight=False,
            )
