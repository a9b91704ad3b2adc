"""The content of an experiment report, from what MLflow holds, rendered with Jinja2."""

from __future__ import annotations

import base64
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salesml.evaluation import LOWER_IS_BETTER

SHOWN = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "capture_at_20": "found in top 20 %",
    "lift_at_10": "lift top 10 %",
    "brier": "Brier",
    "mase": "MASE",
    "wape": "WAPE",
    "smape": "sMAPE",
    "bias": "bias",
    "coverage_80": "80 % coverage",
    "coverage_95": "95 % coverage",
}


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def headline(summary: dict[str, Any]) -> str:
    """The finding in plain words, e.g. how many conversions the top 20 % of leads hold."""
    exp, champ = summary["experiment"], summary.get("champion")
    ok = {c["name"]: c for c in summary["candidates"] if c["status"] == "ok"}
    if not champ:
        return "No model could be fitted; see the failed candidates below."
    best = ok[champ["name"]]["metrics"]
    if exp["task"] == "forecast":
        ref = "seasonal_naive" if "seasonal_naive" in ok else champ.get("baseline")
        if not ref:
            return f"The best forecast, {champ['name']}, has a MASE of {best['mase']:.3f}."
        gain = 1 - best["mase"] / ok[ref]["metrics"]["mase"]
        word = "below" if gain >= 0 else "above"
        return (
            f"The forecast's error ({champ['name']}) is {abs(gain):.0%} {word} {ref.replace('_', ' ')}'s "
            f"(MASE {best['mase']:.3f} against {ok[ref]['metrics']['mase']:.3f})."
        )
    rules = [c for c in ok.values() if c["role"] == "baseline" and c["type"] != "prior"]
    rule = max(rules, key=lambda c: c["metrics"]["capture_at_20"], default=None)
    noun = "conversions" if exp["task"] == "lead_conversion" else "churners"
    rows = "leads" if exp["task"] == "lead_conversion" else "customers"
    text = (
        f"The model ({champ['name']}) finds {best['capture_at_20']:.0%} of {noun} in the "
        f"top 20 % of {rows}"
    )
    if rule is not None:
        text += f"; the {_rule_name(rule)} finds {rule['metrics']['capture_at_20']:.0%}"
    return text + "."


def _rule_name(candidate: dict[str, Any]) -> str:
    """``bant_scorecard`` reads as "bant scorecard", ``control_points`` as "control points rule"."""
    name = candidate["name"].replace("_", " ")
    return name if candidate["type"] == "scorecard" else f"{name} rule"


def verdict(summary: dict[str, Any]) -> str:
    from salesml.results import Summary, champion_verdict

    return champion_verdict(Summary.from_dict(summary))


def _table(summary: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Column titles and one row per candidate, best first by the primary metric, failed last."""
    metric = summary["experiment"]["primary_metric"]
    champ = (summary.get("champion") or {}).get("name")
    ok = [c for c in summary["candidates"] if c["status"] == "ok"]
    ok.sort(key=lambda c: c["metrics"][metric], reverse=metric not in LOWER_IS_BETTER)
    failed = [c for c in summary["candidates"] if c["status"] != "ok"]
    keys = [k for k in SHOWN if ok and k in ok[0]["metrics"]]
    rows = []
    for c in ok + failed:
        cells = []
        for k in keys if c["status"] == "ok" else []:
            v, ci = c["metrics"].get(k), c["metrics"].get(f"{k}_ci")
            text = "-" if v is None else f"{v:.3f}"
            if ci and k == metric:
                text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
            cells.append(text)
        rows.append(
            {
                "name": c["name"],
                "role": c["role"],
                "status": c["status"],
                "error": c.get("error"),
                "cells": cells,
                "champion": c["name"] == champ,
            }
        )
    return [SHOWN[k] for k in keys], rows


def leakage_section(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The leakage guard's flags for the page; None for a run from before the guard."""
    if record is None:
        return None
    flags = record.get("flags") or []
    active = sorted({f["column"] for f in flags if f["action"] != "allowed"})
    if active:
        how = {"warn": "trained on anyway", "drop": "dropped before training"}
        many = len(active) > 1
        text = (
            f"{len(active)} column{'s' if many else ''} look{'' if many else 's'} like "
            f"{'they leak' if many else 'it leaks'} the outcome "
            f"({how.get(record['on_flag'], record['on_flag'])}): {', '.join(active)}."
        )
    else:
        text = "No leakage flags"
        text += " (allowed columns only)." if flags else "."
    text += (
        f" {record['columns_checked']} feature columns checked on the training rows"
        f" (single-feature ROC-AUC threshold {record['auc_threshold']}"
        + (f", label time {record['label_time']}" if record.get("label_time") else "")
        + ")."
    )
    return {"text": text, "flags": flags, "warning": bool(active)}


def build_context(fetched: dict[str, Any], funnel: Any = None) -> dict[str, Any]:
    """Everything the template shows, from :func:`salesml.tracking.fetch_run`'s answer."""
    from salesml import __version__
    from salesml.results import ci_label
    from salesml.tracking import redact_uri

    summary = fetched["summary"]
    exp, champ = summary["experiment"], summary.get("champion")
    columns, rows = _table(summary)
    figures = [
        {"caption": "All candidates compared", "src": _image(p)}
        for p in fetched["plots"]["comparison"]
    ]
    drivers: list[dict[str, Any]] = []
    if champ:
        for p in fetched["plots"].get(champ["name"], []):
            figures.append(
                {"caption": f"{champ['name']}: {p.stem.replace('_', ' ')}", "src": _image(p)}
            )
        drivers = fetched["cards"].get(champ["name"], {}).get("top_drivers", [])
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
    data = summary["data"]
    return {
        "title": exp["name"],
        "task": exp["task"],
        "description": exp.get("description", ""),
        "headline": headline(summary),
        "verdict": verdict(summary),
        "label": ci_label(exp["confidence"]),
        "metric": SHOWN.get(exp["primary_metric"], exp["primary_metric"]),
        "columns": columns,
        "rows": rows,
        "figures": figures,
        "drivers": drivers,
        "funnel": section,
        "leakage": leakage_section(data.get("leakage")),
        "provenance": [
            ("MLflow run", fetched["run"]),
            (
                "champion run",
                next(
                    (
                        c["mlflow_run_id"]
                        for c in summary["candidates"]
                        if champ and c["name"] == champ["name"]
                    ),
                    "-",
                ),
            ),
            ("tracking store", redact_uri(str(exp.get("tracking_uri") or "-"))),
            ("data", data["path"]),
            ("data sha256", data["sha256"]),
            ("rows", f"{data['rows']:,}"),
            ("git commit", exp.get("git_commit") or "-"),
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

    from salesml.data import atomic_write
    from salesml.paths import safe_name
    from salesml.tracking import fetch_run

    out = Path(out or Path("reports") / f"{safe_name(experiment)}.html")
    with tempfile.TemporaryDirectory(prefix="salesml-report-") as tmp:
        fetched = fetch_run(experiment, run_id, Path(tmp), tracking_uri)
        funnel = None
        funnel_cfg = (fetched["config"].get("report") or {}).get("funnel")
        if funnel_cfg:
            from salesml.funnel.run import run_funnel

            funnel = run_funnel(funnel_cfg, Path(tmp) / "funnel", console=_silent())
        context = build_context(fetched, funnel)
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
