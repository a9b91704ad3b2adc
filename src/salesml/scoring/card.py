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
from salesml.experiment.card import ModelCard
from salesml.experiment.results import Summary, champion_verdict, ci_label, ci_text


def _comparison(card: ModelCard, summary: Summary | None) -> list[str]:
    if summary is None:
        return ["The run that trained this model is not in this tracking store: no comparison."]
    exp, champ = summary.experiment, summary.champion
    metric, label = exp.primary_metric, ci_label(exp.confidence)
    rows = [f"| candidate | role | {metric} ({label}) |", "|---|---|---|"]
    for c in summary.candidates:
        if c.status == "ok":
            rows.append(f"| {c.name} | {c.role} | {ci_text(c.metrics, metric)} |")
    lines = [f"Test {metric} of every candidate of experiment `{exp.name}`:", "", *rows, ""]
    verdict = champion_verdict(summary)  # the very sentence of the screen and the report
    if verdict:
        lines.append(f"Verdict against the best rule: {verdict}.")
    if card.candidate != (champ.name if champ else None):
        lines.append(f"This model is `{card.candidate}`, not the champion.")
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


def _spec(card: ModelCard) -> Any:
    """The task spec behind a card (None for a task this process does not know)."""
    from salesml.experiment.tasks import task_names, task_spec

    return task_spec(card.task) if card.task in task_names() else None


def render_card(card: ModelCard, summary: Summary | None, model_uri: str) -> str:
    """``MODEL_CARD.md`` for a salesml model's ``card`` metadata and its run's summary.

    The task's view (:class:`~salesml.experiment.task.TaskView`) adds its own
    sections (calibration, tiers and drivers for classifiers; series notes for
    forecasters) and its spec gives the intended use.
    """
    spec = _spec(card)
    view = spec.make_view() if spec is not None else None
    data = card.data
    lines = [
        f"# Model card: {card.candidate or '?'} ({card.type or '?'}, {card.role or '?'})",
        "",
        f"From experiment `{card.experiment or '?'}`, model URI `{model_uri}`. {card.description}",
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
    if data.get("open_rows"):
        shown = ", ".join(f"{k} ({v:,})" for k, v in list(data.get("open_values", {}).items())[:5])
        lines.append(
            f"- left out: {data['open_rows']:,} rows whose outcome is still open "
            f"(neither positive nor negative: {shown})"
        )
    for warning in data.get("warnings") or []:
        lines.append(f"- small data: {warning}")
    if card.facts.get("train_window"):
        lo, hi = card.facts["train_window"]
        lines.append(f"- training window: {lo} to {hi}")
    if "start" in data:
        lines.append(
            f"- history: {data['start']} to {data['end']}, backtest origins {data.get('cutoffs')}"
        )
    lines += ["", "## Accuracy against the rules", "", *_comparison(card, summary)]
    if view is not None:
        lines += view.card_lines(card, summary)
    excluded = data.get("excluded") or {}
    lines += [
        "",
        "## Intended use",
        "",
        (spec.intended_use if spec is not None else "") or "See the experiment's README.",
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
    if card.facts.get("dropped"):
        lines.append(
            "- Dropped by the config (recorded after the outcome or not to be used): "
            + ", ".join(f"`{c}`" for c in card.facts["dropped"])
        )
    lines += _leakage_lines(data.get("leakage"))
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
