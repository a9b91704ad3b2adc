"""``salesml export``: a self-contained folder to hand over, with a model card.

The folder holds ``model/`` (the MLflow model: loads with
``mlflow.pyfunc.load_model("model")`` or serves with ``mlflow models serve``),
``requirements.txt`` (pinned, the model's own) and ``MODEL_CARD.md``: data
fingerprint and training window, test metrics with CIs against the best rule
baseline, calibration, tier cut points with the positive rate in each tier on
the test part, top drivers, intended use, known limits and leakage notes. The
facts come from the model's ``salesml`` metadata and the summary of the run
that trained it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from salesml.errors import DataError

INTENDED = {
    "lead_conversion": (
        "Rank inbound and outbound leads by their chance to convert so sales reps call the "
        "most promising first (tiers A-D), and show each rep why a lead scores as it does."
    ),
    "churn": (
        "Rank customers by their chance to churn so the retention team reaches the most "
        "at-risk accounts first, with the drivers behind each score."
    ),
    "forecast": "Forecast sales per series for the stored horizon, with prediction intervals.",
}


def _fmt(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else str(value)


def _ci(metrics: dict[str, Any], key: str) -> str:
    ci = metrics.get(f"{key}_ci")
    return (
        f"{_fmt(metrics[key])} [{_fmt(ci[0])}, {_fmt(ci[1])}]"
        if ci
        else _fmt(metrics.get(key, "-"))
    )


def _comparison(card: dict[str, Any], summary: dict[str, Any] | None) -> list[str]:
    if summary is None:
        return ["The run that trained this model is not in this tracking store: no comparison."]
    exp, champ = summary["experiment"], summary.get("champion") or {}
    metric, label = exp["primary_metric"], f"{exp['confidence'] * 100:.10g}% CI"
    rows = [f"| candidate | role | {metric} ({label}) |", "|---|---|---|"]
    for c in summary["candidates"]:
        if c["status"] == "ok":
            rows.append(f"| {c['name']} | {c['role']} | {_ci(c['metrics'], metric)} |")
    lines = [f"Test {metric} of every candidate of experiment `{exp['name']}`:", "", *rows, ""]
    if champ.get("baseline"):
        lo, hi = champ["delta_ci"]
        verdict = "beats" if champ["beats_baseline"] else "does not significantly beat"
        lines.append(
            f"The champion `{champ['name']}` {verdict} the best baseline `{champ['baseline']}`: "
            f"{metric} {champ['delta']:+.4f} ({label} {lo:+.4f} to {hi:+.4f})."
        )
    if card.get("candidate") != champ.get("name"):
        lines.append(f"This model is `{card.get('candidate')}`, not the champion.")
    return lines


def _leakage_lines(record: dict[str, Any] | None) -> list[str]:
    """The leakage guard's verdict on the training rows, for the limits section."""
    if not record:
        return []
    flags = record.get("flags") or []
    if not flags:
        return [
            f"- Leakage guard: no column flagged ({record.get('columns_checked')} checked; "
            f"single-feature ROC-AUC threshold {record.get('auc_threshold')})."
        ]
    lines = [f"- Leakage guard (on_flag: {record.get('on_flag')}) flagged:"]
    for f in flags:
        lines.append(f"  - `{f['column']}` {f['kind']}, {f['action']}: {f['evidence']}")
    return lines


def render_card(card: dict[str, Any], summary: dict[str, Any] | None, model_uri: str) -> str:
    """``MODEL_CARD.md`` for a salesml model's ``card`` metadata and its run's summary."""
    data = card.get("data", {})
    task = card.get("task", "forecast" if card.get("kind") == "forecast" else "")
    lines = [
        f"# Model card: {card.get('candidate', '?')} ({card.get('type', '?')}, {card.get('role', '?')})",
        "",
        f"From experiment `{card.get('experiment', '?')}`, model URI `{model_uri}`. "
        f"{card.get('description', '')}",
        "",
        "## Data",
        "",
        f"- file: `{data.get('path', '?')}`, sha256 `{data.get('sha256', '?')}`",
        f"- rows: {data.get('rows', '?')}"
        + (
            f" (train {data['train_rows']}, test {data['test_rows']}, split: {data.get('split')})"
            if "train_rows" in data
            else ""
        ),
    ]
    if card.get("train_window"):
        lo, hi = card["train_window"]
        lines.append(f"- training window: {lo} to {hi}")
    if "start" in data:
        lines.append(
            f"- history: {data['start']} to {data['end']}, backtest origins {data.get('cutoffs')}"
        )
    metrics = card.get("metrics", {})
    lines += ["", "## Accuracy against the rules", "", *_comparison(card, summary)]
    if "brier" in metrics:
        lines += [
            "",
            "## Calibration",
            "",
            f"Brier score on the test part {_ci(metrics, 'brier')}"
            + (
                f" (before calibration {metrics['brier_uncalibrated']:.4f}, method "
                f"{card.get('params', {}).get('calibration')})"
                if "brier_uncalibrated" in metrics
                else ""
            )
            + f". Score: {card.get('score')}.",
        ]
    if card.get("tiers_test"):
        shares = ", ".join(f"{k} {v:.0%}" for k, v in card.get("tier_shares", {}).items())
        lines += [
            "",
            "## Tiers",
            "",
            f"Cut points fixed on the training scores (shares of training rows: {shares}).",
            "Positive rate in each tier on the test part:",
            "",
            "| tier | score from | test rows | positives | rate |",
            "|---|---|---|---|---|",
        ]
        for t in card["tiers_test"]:
            rate = "-" if t["rate"] is None else f"{t['rate']:.1%}"
            low = "-" if t["min_score"] is None else t["min_score"]
            lines.append(f"| {t['tier']} | {low} | {t['rows']} | {t['positives']} | {rate} |")
    if card.get("top_drivers"):
        lines += [
            "",
            "## Top drivers",
            "",
            f"Mean absolute contribution on test rows ({card.get('reasons')}):",
            "",
        ]
        for d in card["top_drivers"]:
            lines.append(f"- {d['driver']}: {d['mean_abs']:.3f} {d['unit']}")
    excluded = data.get("excluded") or {}
    lines += [
        "",
        "## Intended use",
        "",
        INTENDED.get(task, "See the experiment's README."),
        "",
        "## Known limits and leakage notes",
        "",
        "- Scores are valid for rows like the training data; re-train when the mix of sources, "
        "segments or products shifts, and watch the tier rates.",
        "- Metrics come from one held-out test part; their CIs are bootstrap intervals over its rows.",
    ]
    if excluded:
        lines.append(
            "- Columns left out of the features: "
            + "; ".join(f"`{k}` ({v})" for k, v in excluded.items())
        )
    if card.get("dropped"):
        lines.append(
            "- Dropped by the config (recorded after the outcome or not to be used): "
            + ", ".join(f"`{c}`" for c in card["dropped"])
        )
    lines += _leakage_lines(data.get("leakage"))
    if card.get("kind") == "forecast":
        lines.append(f"- Unknown series: {card.get('unknown_series')}.")
        if card.get("short_series"):
            lines.append(f"- Short series: {card['short_series']}.")
    return "\n".join(lines) + "\n"


def export_model(model_uri: str, to: str | Path, tracking_uri: str | None = None) -> Path:
    """Write ``to/model/``, ``to/requirements.txt`` and ``to/MODEL_CARD.md``.

    The folder is built beside ``to`` and renamed into place: an error leaves
    nothing half-written.
    """
    from salesml.tracking import download_model, experiment_summary, model_card

    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise DataError(f"{to}: the export folder exists and is not empty")
    to.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=to.parent, prefix=f".{to.name}.") as tmp:
        staging = Path(tmp) / "export"
        staging.mkdir()
        model_dir = download_model(model_uri, Path(tmp) / "download", tracking_uri)
        shutil.copytree(model_dir, staging / "model")
        card = model_card(model_dir)
        requirements = model_dir / "requirements.txt"
        if requirements.exists():
            shutil.copy(requirements, staging / "requirements.txt")
        summary = experiment_summary(model_dir, tracking_uri)
        (staging / "MODEL_CARD.md").write_text(
            render_card(card, summary, model_uri), encoding="utf-8"
        )
        if to.exists():
            to.rmdir()
        staging.rename(to)
    return to
