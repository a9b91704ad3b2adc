"""The report's and the model card's words for the leakage guard's record."""

from __future__ import annotations

from salesml.classify.view import ClassificationView
from salesml.experiment.card import ModelCard
from salesml.experiment.results import ClassificationData, ExperimentInfo, Summary
from salesml.experiment.tasks import task_spec
from salesml.scoring.card import render_card


def leakage_section(record: dict | None) -> dict | None:
    """The classification view's leakage section of a run with ``record``, as plain data."""
    summary = Summary(
        experiment=ExperimentInfo("x", "lead_conversion", "roc_auc", 0.95),
        data=ClassificationData(path="x.csv", sha256="0", rows=10, leakage=record),
        candidates=[],
    )
    sections = ClassificationView(task_spec("lead_conversion")).sections(summary)
    if not sections:
        return None
    (sec,) = sections
    assert sec.title == "Leakage guard"
    return {"text": sec.paragraphs[0], "flags": list(sec.rows), "warning": sec.warning}


def _record(on_flag: str, flags: list[tuple[str, str, str]]) -> dict:
    return {
        "on_flag": on_flag,
        "auc_threshold": 0.95,
        "label_time": "created_at",
        "columns_checked": 12,
        "seconds": 0.01,
        "flags": [
            {"column": c, "kind": k, "value": 1.0, "evidence": "ROC-AUC 1.000 alone", "action": a}
            for c, k, a in flags
        ],
    }


def test_a_run_from_before_the_guard_shows_no_section():
    assert leakage_section(None) is None


def test_no_flags_says_so_with_what_was_checked():
    section = leakage_section(_record("warn", []))
    assert section["text"] == (
        "No leakage flags. 12 feature columns checked on the training rows "
        "(single-feature ROC-AUC threshold 0.95, label time created_at)."
    )
    assert section["flags"] == [] and section["warning"] is False


def test_flags_name_the_columns_and_what_was_done():
    section = leakage_section(
        _record(
            "drop",
            [("stage", "target_derived", "dropped"), ("won_at", "after_label_time", "dropped")],
        )
    )
    assert section["warning"] is True
    assert section["text"].startswith(
        "2 columns look like they leak the outcome (dropped before training): stage, won_at."
    )
    assert len(section["flags"]) == 2


def test_allowed_flags_only_are_no_warning():
    section = leakage_section(_record("fail", [("stage", "id_like", "allowed")]))
    assert section["warning"] is False
    assert section["text"].startswith("No leakage flags (allowed columns only).")


def test_the_model_card_lists_flags_under_known_limits():
    card = ModelCard(candidate="m", type="logistic", role="model", task="lead_conversion")
    card.data = {"path": "x.csv", "sha256": "0", "rows": 10}
    assert "Leakage guard" not in render_card(card, None, "runs:/1/model")
    card.data["leakage"] = _record("warn", [])
    text = render_card(card, None, "runs:/1/model")
    assert "- Leakage guard: no column flagged (12 checked;" in text
    card.data["leakage"] = _record("warn", [("stage", "target_derived", "warned")])
    limits = render_card(card, None, "runs:/1/model").split("## Known limits", 1)[1]
    assert "- Leakage guard (on_flag: warn) flagged:" in limits
    assert "  - `stage` target_derived, warned: ROC-AUC 1.000 alone" in limits
