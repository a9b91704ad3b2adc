"""The report's headline compares the champion with the best rule, the one the verdict uses.

Issue 20, item 5: on Walmart the headline read "34 % below seasonal naive's"
while the verdict beneath was against last_year_growth (10.5 % below).
"""

from __future__ import annotations

from salesml.experiment.results import (
    CandidateResult,
    Champion,
    DataInfo,
    ExperimentInfo,
    Summary,
    champion_verdict,
)
from salesml.report.build import build_context, headline

# Walmart, 45 stores: MASE per candidate (experiments/forecast/README.md)
WALMART = {
    "naive": 1.309,
    "seasonal_naive": 0.968,
    "moving_average": 1.025,
    "last_year_growth": 0.712,
    "auto_ets": 0.654,
    "ensemble": 0.637,
}


def _summary(task: str, metric: str, metrics: dict, models: set[str], champ: Champion) -> Summary:
    cands = [
        CandidateResult(
            name=n,
            role="model" if n in models else "baseline",
            type="scorecard" if "scorecard" in n else n,
            metrics=m,
        )
        for n, m in metrics.items()
    ]
    return Summary(
        experiment=ExperimentInfo(
            name="x",
            task=task,
            primary_metric=metric,
            confidence=0.95,
            lower_is_better=metric == "mase",
        ),
        data=DataInfo(path="x.csv", sha256="0" * 64, rows=10),
        candidates=cands,
        champion=champ,
    )


def _walmart() -> Summary:
    champ = Champion(
        "ensemble",
        "ensemble",
        None,
        "mase",
        0.95,
        baseline="last_year_growth",
        delta=-0.075,
        delta_ci=[-0.105, -0.042],
        verdict="model",
        beats_baseline=True,
    )
    metrics = {n: {"mase": v} for n, v in WALMART.items()}
    return _summary("forecast", "mase", metrics, {"auto_ets", "ensemble"}, champ)


def test_forecast_headline_names_the_best_rule_not_seasonal_naive() -> None:
    summary = _walmart()
    text = headline(summary)
    assert text == (
        "The forecast's error (ensemble) is 11% below last year growth's "
        "(MASE 0.637 against 0.712)."
    ), text
    assert "seasonal naive" not in text and "34%" not in text
    # the verdict beneath names the same rule
    assert champion_verdict(summary).startswith("ensemble beats last_year_growth")


def test_forecast_headline_and_verdict_agree_on_the_page() -> None:
    context = build_context({"summary": _walmart(), "cards": {}, "run": "r"})
    assert "last year growth's" in context["headline"]
    assert "last_year_growth" in context["verdict"]


def test_forecast_headline_says_above_when_the_best_rule_wins() -> None:
    summary = _walmart()
    summary.champion.baseline = "last_year_growth"
    summary.candidate("last_year_growth").metrics["mase"] = 0.600
    assert "6% above last year growth's (MASE 0.637 against 0.600)" in headline(summary)


def test_classify_headline_names_the_verdicts_rule() -> None:
    # the verdict's best rule (by ROC-AUC) is the BANT scorecard; the recency rule
    # finds more positives in the top 20 %, but it is not the rule the verdict uses
    metrics = {
        "lightgbm": {"roc_auc": 0.80, "capture_at_20": 0.61},
        "bant_scorecard": {"roc_auc": 0.70, "capture_at_20": 0.40},
        "recency": {"roc_auc": 0.66, "capture_at_20": 0.45},
    }
    champ = Champion("lightgbm", "lightgbm", None, "roc_auc", 0.95, baseline="bant_scorecard")
    text = headline(_summary("lead_conversion", "roc_auc", metrics, {"lightgbm"}, champ))
    assert text == (
        "The model (lightgbm) finds 61% of conversions in the top 20 % of leads; "
        "the bant scorecard finds 40%."
    ), text
    champ.baseline = "recency"
    text = headline(_summary("lead_conversion", "roc_auc", metrics, {"lightgbm"}, champ))
    assert text.endswith("; the recency rule finds 45%.")
