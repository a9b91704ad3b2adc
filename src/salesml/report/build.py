"""The content of an experiment report, rendered with Jinja2.

The numbers and words come from the run's summary and its task's view; the
figures are drawn from the reopened run's predictions
(:func:`salesml.experiment.reopen.load_run`), so nothing is refitted and no
figure logged during the fit is needed.
"""

from __future__ import annotations

import base64
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salesml.experiment.results import Summary, champion_verdict


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _view(summary: Summary) -> tuple[Any, Any]:
    """The task spec and view of a summary's task."""
    from salesml.experiment.tasks import task_spec

    spec = task_spec(summary.experiment.task)
    return spec, spec.make_view()


def headline(summary: Summary) -> str:
    """The finding in plain words, from the task's view (e.g. conversions in the top 20 %)."""
    return _view(summary)[1].headline(summary)


def verdict(summary: Summary) -> str:
    """The champion against the best rule, with its CI (empty without a comparison)."""
    return champion_verdict(summary)


def _table(summary: Summary) -> tuple[list[str], list[dict[str, Any]]]:
    """Column titles and one row per candidate, best first by the primary metric, failed last."""
    spec, _ = _view(summary)
    metric = spec.metric(summary.experiment.primary_metric)
    champ = summary.champion.name if summary.champion else None
    ok = [c for c in summary.candidates if c.status == "ok"]
    ok.sort(key=lambda c: c.metrics[metric.name], reverse=not metric.lower_is_better)
    failed = [c for c in summary.candidates if c.status != "ok"]
    shown = [m for m in spec.metrics if m.shown and ok and m.name in ok[0].metrics]
    rows = []
    for c in ok + failed:
        cells = []
        for m in shown if c.status == "ok" else []:
            ci = c.metrics.get(f"{m.name}_ci")
            text = m.format(c.metrics.get(m.name))
            if ci and m.name == metric.name:
                text += f" [{m.format(ci[0])}, {m.format(ci[1])}]"
            cells.append(text)
        rows.append(
            {
                "name": c.name,
                "role": c.role,
                "status": c.status,
                "error": c.error,
                "cells": cells,
                "champion": c.name == champ,
            }
        )
    return [m.label for m in shown], rows


def _sections(summary: Summary) -> list[dict[str, Any]]:
    """The task's own sections for the template (a key for element ids, text, a table)."""
    out = []
    for sec in _view(summary)[1].sections(summary):
        key = "-".join(sec.title.lower().split()[:1]) or "section"
        out.append(
            {
                "key": key,
                "title": sec.title,
                "paragraphs": list(sec.paragraphs),
                "columns": list(sec.columns),
                "rows": [list(r) for r in sec.rows],
                "warning": sec.warning,
            }
        )
    return out


def draw_figures(run: Any, folder: Path) -> list[tuple[str, Path]]:
    """Every figure of a reopened run: the comparison of all candidates, the champion's others.

    Returns ``(caption, png)`` pairs, drawn from the stored predictions (nothing refitted).
    """
    champ = run.summary.champion
    out = []
    for name in run.figures:
        if name == "comparison":
            out.append(("All candidates compared", run.figure(name, path=folder / f"{name}.png")))
        elif champ is not None:
            caption = f"{champ.name}: {name.replace('_', ' ')}"
            out.append((caption, run.figure(name, champ.name, folder / f"{name}.png")))
    return out


def build_context(
    fetched: dict[str, Any], funnel: Any = None, figures: list[tuple[str, Path]] | None = None
) -> dict[str, Any]:
    """Everything the template shows, from :func:`salesml.tracking.fetch_run`'s answer."""
    from salesml import __version__
    from salesml.experiment.results import ci_label
    from salesml.tracking import redact_uri

    summary: Summary = fetched["summary"]
    exp, champ = summary.experiment, summary.champion
    spec, _ = _view(summary)
    columns, rows = _table(summary)
    drawn = [{"caption": caption, "src": _image(p)} for caption, p in figures or []]
    drivers: list[dict[str, Any]] = []
    if champ:
        card = fetched["cards"].get(champ.name)
        drivers = card.facts.get("top_drivers", []) if card is not None else []
    section = None
    if funnel is not None:
        h = funnel.report.headline
        section = {
            "name": funnel.name,
            "facts": [
                ("rows", f"{h['rows']:,}"),
                ("win rate", f"{h['win_rate']:.1%}"),
                (
                    "cycle days, median / p90",
                    f"{h['cycle_days_median']:.0f} / {h['cycle_days_p90']:.0f}",
                ),
                ("pipeline velocity per day", f"{h['velocity_per_day']:,.0f}"),
            ],
            "src": _image(funnel.figure),
        }
    data = summary.data
    return {
        "title": exp.name,
        "task": exp.task,
        "description": exp.description,
        "headline": headline(summary),
        "verdict": verdict(summary),
        # model, rule, tie or insufficient ("" without a comparison): the page's colour
        "verdict_kind": summary.verdict or "",
        "champion_word": "champion" if summary.verdict in (None, "model") else "best model",
        "label": ci_label(exp.confidence),
        "metric": spec.metric(exp.primary_metric).label,
        "columns": columns,
        "rows": rows,
        "figures": drawn,
        "drivers": drivers,
        "funnel": section,
        "sections": _sections(summary),
        "provenance": [
            ("MLflow run", fetched["run"]),
            (
                "champion run",
                next(
                    (c.mlflow_run_id for c in summary.candidates if champ and c.name == champ.name),
                    "-",
                ),
            ),
            ("tracking store", redact_uri(str(exp.tracking_uri or "-"))),
            ("data", data.path),
            ("data sha256", data.sha256),
            ("rows", f"{data.rows:,}"),
            ("git commit", exp.git_commit or "-"),
            ("salesml", __version__),
            ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ],
    }


def write_report(
    experiment: str,
    run_id: str | None = None,
    out: str | Path | None = None,
    tracking_uri: str | None = None,
) -> Path:
    """Render the report of ``experiment`` (latest run, or ``run_id``) to ``out``.

    The page is self-contained (images embedded) and written atomically.
    """
    import jinja2

    from salesml.experiment.reopen import load_run
    from salesml.io.data import atomic_write
    from salesml.io.paths import safe_name
    from salesml.tracking import fetch_run

    out = Path(out or Path("reports") / f"{safe_name(experiment)}.html")
    with tempfile.TemporaryDirectory(prefix="salesml-report-") as tmp:
        fetched = fetch_run(experiment, run_id, tracking_uri)
        run = load_run(fetched["run"], tracking_uri)
        figures = draw_figures(run, Path(tmp) / "figures")
        funnel = None
        funnel_cfg = (fetched["config"].get("report") or {}).get("funnel")
        if funnel_cfg:
            from salesml.funnel.run import run_funnel

            funnel = run_funnel(funnel_cfg, Path(tmp) / "funnel", console=_silent())
        context = build_context(fetched, funnel, figures)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("salesml.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    html = env.get_template("report.html.j2").render(**context)
    return atomic_write(out, lambda tmp: Path(tmp).write_text(html, encoding="utf-8"))


def _silent() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO())
