"""The verdict against the rules: model, rule, tie or not enough data, said the same everywhere.

End to end (marked slow): a band scorecard that logistic regression cannot express
beats it significantly; one short series has too few units for a CI; a handful of
test rows has too few positives; one long series gets a block-bootstrap CI. Each
checks the summary, the MLflow registry, the screen, the report and the model card.
The verdict sentences and summaries written before the verdict field are checked
without running anything.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from salesml.experiment.results import (
    CandidateResult,
    Champion,
    ClassificationData,
    ExperimentInfo,
    Summary,
    champion_verdict,
    decide,
    parse_summary,
)

# ------------------------------------------------------------------------------ helpers


def _run(config: dict[str, Any], folder: Path) -> tuple[Summary, str]:
    """Run ``config`` from ``folder``; the summary and the screen's text (whitespace folded)."""
    from salesml import load_experiment, run_experiment

    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    console = Console(file=io.StringIO(), width=140)
    summary = run_experiment(load_experiment(path), folder / "out", console=console)
    return summary, _fold(console.file.getvalue())


def _fold(text: str) -> str:
    return " ".join(text.split())


def _versions(tracking: str, name: str) -> list[Any]:
    from mlflow import MlflowClient

    return list(MlflowClient(tracking).search_model_versions(f"name='{name}'"))


def _report(summary: Summary, tracking: str, out: Path) -> str:
    from salesml.report.build import write_report

    path = write_report(summary.experiment.name, summary.experiment.mlflow_run_id, out, tracking)
    return _fold(path.read_text(encoding="utf-8"))


def _card(summary: Summary, tracking: str) -> str:
    """``MODEL_CARD.md`` of the champion, as ``salesml export`` writes it."""
    from salesml.scoring.card import render_card
    from salesml.tracking import fetch_run

    fetched = fetch_run(summary.experiment.name, summary.experiment.mlflow_run_id, tracking)
    champ = summary.champion
    return _fold(render_card(fetched["cards"][champ.name], summary, champ.model_uri))


def _everywhere(summary: Summary, screen: str, tracking: str, tmp_path: Path) -> str:
    """The verdict sentence, checked on the screen, in the report and in the model card."""
    import html

    text = champion_verdict(summary)
    assert text
    assert _fold(text) in screen
    assert _fold(html.escape(text)) in _report(summary, tracking, tmp_path / "report.html")
    assert f"Verdict against the best rule: {_fold(text)}." in _card(summary, tracking)
    return text


def band_leads(n: int, seed: int) -> pd.DataFrame:
    """Leads that convert when their scores fall in a middle band (35-65) on four attributes.

    Logistic regression is linear in each score, so a band (up and down again) is
    invisible to it; a scorecard with one band rule per attribute sees it exactly.
    """
    rng = np.random.default_rng(seed)
    x = {f"x{i}": rng.uniform(0, 100, n).round(1) for i in range(1, 5)}
    tenure = rng.uniform(0, 10, n).round(2)
    inside = sum(((v > 35) & (v < 65)).astype(float) for v in x.values())
    logit = -2.6 + 1.4 * inside + 0.1 * tenure
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"lead_id": np.arange(n), **x, "tenure": tenure, "converted": y})


BAND_RULES = [{"column": f"x{i}", "gt": 35, "lt": 65, "points": 25} for i in range(1, 5)]


def _leads_config(name: str, csv: Path) -> dict[str, Any]:
    return {
        "name": name,
        "task": "lead_conversion",
        "data": {"path": str(csv), "target": "converted", "id": "lead_id"},
        "split": {"test_size": 0.25, "seed": 1},
        "baselines": [
            "prior",
            {"name": "band_scorecard", "type": "scorecard", "rules": BAND_RULES},
        ],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 300, "seed": 0},
    }


def _forecast_config(name: str, windows: int) -> dict[str, Any]:
    return {
        "name": name,
        "task": "forecast",
        "data": {
            "path": "sales.csv",
            "generate": {"kind": "sales", "rows": 1, "seed": 5},
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "D",
        },
        "horizon": 7,
        "backtest": {"windows": windows},
        "baselines": ["naive", "seasonal_naive"],
        "models": [{"type": "auto_ets", "params": {"max_history": 120, "damped": False}}],
        "evaluation": {"bootstrap": 200, "seed": 0},
    }


# ---------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_band_scorecard_beats_logistic_regression_and_says_so(tmp_path, tracking):
    from salesml import load_run

    csv = tmp_path / "bands.csv"
    band_leads(1200, seed=3).to_csv(csv, index=False)
    summary, screen = _run(_leads_config("verdict-bands", csv), tmp_path)
    champ = summary.champion
    assert (champ.name, champ.baseline) == ("logistic", "band_scorecard")
    # the paired CI, recomputed from the stored predictions, is the summary's
    again = load_run(tmp_path / "out").metric("roc_auc", "logistic", against="band_scorecard")
    assert list(again.ci) == pytest.approx(champ.delta_ci, rel=1e-9)
    assert champ.delta_ci[1] < 0  # entirely in the rule's favour
    assert champ.verdict == "rule" == summary.verdict == decide(champ.delta_ci, False)
    assert not champ.beats_baseline and champ.registered_version is None
    assert _versions(tracking, "verdict-bands") == []
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["champion"]["verdict"] == "rule"
    text = _everywhere(summary, screen, tracking, tmp_path)
    assert text.startswith(
        "No model beats the rules: band_scorecard beats the best model, logistic: roc_auc -"
    )
    assert "is not significant" not in text


@pytest.mark.slow
def test_the_champion_can_be_judged_by_another_metric(tmp_path, tracking):
    """``evaluation.metric: brier``: lower is better, the best rule by Brier is the one
    judged against, and the reopened run reproduces the paired CI."""
    from salesml import load_run

    csv = tmp_path / "bands.csv"
    band_leads(1200, seed=3).to_csv(csv, index=False)
    config = _leads_config("verdict-brier", csv)
    config["evaluation"] = {**config["evaluation"], "metric": "brier"}
    summary, _ = _run(config, tmp_path)
    champ = summary.champion
    brier = {c.name: c.metrics["brier"] for c in summary.candidates}
    rules = [c.name for c in summary.candidates if c.role == "baseline"]
    assert champ.metric == "brier" == summary.experiment.primary_metric
    assert summary.experiment.lower_is_better
    assert champ.baseline == min(rules, key=brier.get)
    assert champ.delta == pytest.approx(brier[champ.name] - brier[champ.baseline])
    again = load_run(tmp_path / "out").metric("brier", champ.name, against=champ.baseline)
    assert list(again.ci) == pytest.approx(champ.delta_ci, rel=1e-9)
    assert champ.verdict == decide(champ.delta_ci, True)


@pytest.mark.slow
def test_a_single_short_series_registers_no_champion_and_says_why(tmp_path, tracking):
    from salesml import load_run

    summary, screen = _run(_forecast_config("verdict-one-series", windows=3), tmp_path)
    assert summary.data.series_used == 1
    for c in summary.candidates:  # no zero-width interval any more
        assert c.status == "ok" and "mase_ci" not in c.metrics, c.name
    champ = summary.champion
    assert champ.verdict == "insufficient" and champ.delta_ci is None
    assert not champ.beats_baseline and champ.registered_version is None
    assert _versions(tracking, "verdict-one-series") == []
    best = summary.candidate(champ.name).metrics["mase"]
    assert champ.delta == pytest.approx(best - summary.candidate(champ.baseline).metrics["mase"])
    assert champ.reason.startswith("1 series and 21 scored periods, 3 blocks of the 7-period")
    text = _everywhere(summary, screen, tracking, tmp_path)
    assert text.startswith(f"Not enough data to tell whether {champ.name} beats {champ.baseline}")
    assert text.endswith("no champion registered")
    reopened = load_run(tmp_path / "out").metric("mase", against=champ.baseline)
    assert np.isnan(reopened.ci).all() and "not enough data to tell" in str(reopened)


@pytest.mark.slow
def test_a_single_long_series_gets_a_block_bootstrap_interval(tmp_path, tracking):
    from salesml import load_run

    summary, screen = _run(_forecast_config("verdict-long-series", windows=12), tmp_path)
    run = load_run(tmp_path / "out")
    for c in summary.candidates:
        lo, hi = c.metrics["mase_ci"]
        assert lo < c.metrics["mase"] < hi, c.name  # a real interval, not a point
        assert list(run.metric("mase", c.name).ci) == pytest.approx([lo, hi], rel=1e-9)
    champ = summary.champion
    assert champ.verdict == decide(champ.delta_ci, lower_is_better=True)
    assert champ.delta_ci[0] < champ.delta_ci[1]
    assert (champ.registered_version is not None) == (champ.verdict == "model")
    assert _fold(champion_verdict(summary)) in screen


@pytest.mark.slow
def test_a_few_test_rows_are_not_enough_data_to_tell(tmp_path, tracking):
    rng = np.random.default_rng(0)
    frame = band_leads(200, seed=4).drop(columns="converted")
    y = np.zeros(len(frame), dtype=int)
    y[rng.choice(len(frame), 24, replace=False)] = 1  # 24 positives: 6 in a 25 % test part
    csv = tmp_path / "few.csv"
    frame.assign(converted=y).to_csv(csv, index=False)
    summary, screen = _run(_leads_config("verdict-few-rows", csv), tmp_path)
    test = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    positives = int(test.loc[test["candidate"] == "logistic", "label"].sum())
    assert positives < 10  # the minimum of each class in the test part
    for c in summary.candidates:
        assert not [k for k in c.metrics if k.endswith("_ci")], c.name
    champ = summary.champion
    assert champ.verdict == "insufficient" and champ.registered_version is None
    assert f"the test part has {positives} positive and" in champ.reason
    assert _versions(tracking, "verdict-few-rows") == []
    text = _everywhere(summary, screen, tracking, tmp_path)
    assert text.startswith("Not enough data to tell whether logistic beats ")


# ---------------------------------------------------------------------------- sentences


def _summary(verdict: str | None, ci: list[float] | None, beats: bool = False) -> Summary:
    return Summary(
        experiment=ExperimentInfo(name="u", task="churn", primary_metric="roc_auc", confidence=0.9),
        data=ClassificationData(path="c.csv", sha256="cd", rows=10),
        candidates=[
            CandidateResult(
                "rules", "baseline", "scorecard", metrics={"roc_auc": 0.7, "capture_at_20": 0.4}
            ),
            CandidateResult(
                "gbm", "model", "lightgbm", metrics={"roc_auc": 0.68, "capture_at_20": 0.38}
            ),
        ],
        champion=Champion(
            "gbm",
            "lightgbm",
            "models:/m/1",
            "roc_auc",
            0.9,
            "rules",
            -0.02,
            ci,
            beats,
            verdict=verdict,  # type: ignore[arg-type]
            reason="the test part has 4 positive and 90 negative rows" if ci is None else None,
        ),
    )


@pytest.mark.parametrize(
    ("verdict", "ci", "start"),
    [
        ("model", [0.01, 0.05], "gbm beats rules: roc_auc -0.0200 (90% CI +0.0100 to +0.0500)"),
        ("rule", [-0.04, -0.01], "No model beats the rules: rules beats the best model, gbm: "),
        ("tie", [-0.04, 0.01], "No model beats the rules: gbm vs rules is not significant: "),
        (
            "insufficient",
            None,
            "Not enough data to tell whether gbm beats rules (roc_auc -0.0200, no 90% CI): "
            "the test part has 4 positive and 90 negative rows; no champion registered",
        ),
    ],
)
def test_each_verdict_has_its_sentence_and_the_card_repeats_it(verdict, ci, start):
    from salesml.experiment.card import ModelCard
    from salesml.scoring.card import render_card

    summary = _summary(verdict, ci, beats=verdict == "model")
    text = champion_verdict(summary)
    assert text.startswith(start), text
    card = render_card(ModelCard(task="churn", candidate="gbm"), summary, "models:/m/1")
    assert f"Verdict against the best rule: {text}." in card


def test_the_report_page_says_which_verdict_and_names_no_champion_without_a_win():
    from salesml.report.build import build_context

    for verdict, ci, word in [
        ("model", [0.01, 0.05], "champion"),
        ("rule", [-0.04, -0.01], "best model"),
    ]:
        summary = _summary(verdict, ci, beats=verdict == "model")
        ctx = build_context({"summary": summary, "cards": {}, "run": "r"})
        assert (ctx["verdict"], ctx["verdict_kind"], ctx["champion_word"]) == (
            champion_verdict(summary),
            verdict,
            word,
        )


@pytest.mark.parametrize(
    ("beats", "ci", "derived"),
    [(True, [0.01, 0.05], "model"), (False, [-0.05, -0.01], "rule"), (False, [-0.02, 0.03], "tie")],
)
def test_a_summary_written_before_the_verdict_field_still_loads(beats, ci, derived):
    raw = _summary("model", ci, beats).to_dict()
    for key in ("verdict", "reason"):
        del raw["champion"][key]
    old = parse_summary(json.dumps(raw), "old/summary.json")
    assert old.champion.verdict is None and old.verdict == derived
    assert champion_verdict(old) == champion_verdict(_summary(derived, ci, beats))
