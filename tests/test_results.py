"""Tests for salesml.experiment.results: the typed summary, its JSON round trip and its labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from salesml.errors import DataError
from salesml.experiment.results import (
    SCHEMA_VERSION,
    CandidateResult,
    Champion,
    ClassificationData,
    ExperimentInfo,
    ForecastData,
    Summary,
    candidates_frame,
    champion_verdict,
    ci_label,
    load_summary,
)


def _summary(task: str = "churn", confidence: float = 0.9, beats: bool = True) -> Summary:
    forecast = task == "forecast"
    metric = "mase" if forecast else "roc_auc"
    data = (
        ForecastData(path="s.csv", sha256="ab", rows=10, series=2, freq="W-FRI", cutoffs=["x"])
        if forecast
        else ClassificationData(path="c.csv", sha256="cd", rows=10, features=["a", "b"])
    )
    lo, hi = (-0.3, -0.1) if forecast else (0.01, 0.05)
    return Summary(
        experiment=ExperimentInfo(
            name="unit",
            task=task,
            primary_metric=metric,
            confidence=confidence,
            lower_is_better=forecast,
        ),
        data=data,
        candidates=[
            CandidateResult("rules", "baseline", "scorecard", metrics={metric: 0.7}),
            CandidateResult(
                "gbm", "model", "lightgbm", metrics={metric: 0.8, f"{metric}_ci": [lo, hi]}
            ),
            CandidateResult("broken", "model", "logistic", status="failed", error="ValueError: x"),
        ],
        champion=Champion(
            name="gbm",
            type="lightgbm",
            model_uri="models:/m/1",
            metric=metric,
            confidence=confidence,
            baseline="rules",
            delta=0.03,
            delta_ci=[lo, hi],
            beats_baseline=beats,
        ),
    )


@pytest.mark.parametrize(
    ("confidence", "label"),
    [(0.95, "95% CI"), (0.9, "90% CI"), (0.975, "97.5% CI"), (0.8, "80% CI")],
)
def test_ci_label(confidence: float, label: str):
    assert ci_label(confidence) == label


@pytest.mark.parametrize("task", ["churn", "forecast"])
def test_summary_round_trips_through_json(task: str, tmp_path: Path):
    summary = _summary(task)
    path = summary.write(tmp_path / "out" / "summary.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert list(raw)[0] == "schema_version" and raw["schema_version"] == SCHEMA_VERSION
    assert set(raw) == {"schema_version", "experiment", "data", "candidates", "champion", "plots"}
    assert raw["champion"]["delta"] == pytest.approx(0.03)
    assert raw["champion"]["metric"] == summary.experiment.primary_metric
    again = load_summary(path)
    assert again == summary
    assert type(again.data) is type(summary.data)
    assert load_summary(tmp_path / "out") == summary  # a run's folder works too


def test_failed_and_candidate_lookup():
    summary = _summary()
    assert summary.failed == ["broken"]
    assert summary.candidate("gbm").type == "lightgbm"
    with pytest.raises(KeyError, match="nope"):
        summary.candidate("nope")


def test_verdict_uses_the_configured_confidence():
    assert "(90% CI +0.0100 to +0.0500)" in champion_verdict(_summary(confidence=0.9))
    text = champion_verdict(_summary(beats=False))
    assert text.startswith("No model beats the rules: gbm vs rules is not significant")
    assert champion_verdict(_summary(task="forecast")).startswith("gbm beats rules: mase +0.0300")


def test_verdict_is_empty_without_a_baseline():
    summary = _summary()
    summary.champion.baseline = None
    assert champion_verdict(summary) == ""
    summary.champion = None
    assert champion_verdict(summary) == ""


def test_candidates_frame_sorts_best_first():
    frame = candidates_frame(_summary())
    assert list(frame.index[:2]) == ["gbm", "rules"]
    assert frame.loc["gbm", "roc_auc_ci_low"] == pytest.approx(0.01)
    mase = candidates_frame(_summary("forecast"))
    assert list(mase.index[:2]) == ["rules", "gbm"]  # lower MASE is better


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "summary not found"),
        ("{not json", "not a salesml summary"),
        (json.dumps({"experiment": "old-style"}), "schema_version None"),
        (json.dumps({"schema_version": 1}), "schema_version 1"),
    ],
)
def test_load_summary_refuses_what_it_cannot_read(tmp_path: Path, content, fragment: str):
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=fragment) as info:
        load_summary(path)
    assert str(path) in str(info.value)
