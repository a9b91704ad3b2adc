"""LightGBM's reasons and its prediction from one pass over the trees."""

from __future__ import annotations

import numpy as np
import pytest

from salesml.classify.models import CalibratedModel
from salesml.classify.reasons import _show
from salesml.classify.scorer import LeadScorer
from salesml.experiment.registry import spec_for


@pytest.fixture(scope="module")
def scorer(leads_small):
    X = leads_small.drop(columns=["converted", "lead_id", "last_stage_reached", "job_title"])
    y = leads_small["converted"].to_numpy()
    model = spec_for("classification", "lightgbm").make(0, n_estimators=60)
    fitted = CalibratedModel(model, cv=3, seed=0, ensemble=False).fit(X.iloc[:2000], y[:2000])
    return LeadScorer(fitted, X.iloc[:2000]), X.iloc[2000:]


def test_the_leaf_pass_gives_lightgbms_own_log_odds(scorer):
    lead_scorer, X = scorer
    explainer = lead_scorer.explainer
    values, labels, logodds = explainer.explain(X)
    booster = explainer.model
    raw = booster[-1].predict(booster[:-1].transform(X), raw_score=True)
    np.testing.assert_array_equal(logodds, raw)  # to the last bit
    # path attribution: the contributions add up to the log-odds less a constant
    np.testing.assert_allclose(values.sum(axis=1) - raw, (values.sum(axis=1) - raw)[0], atol=1e-9)
    assert labels == list(X.columns)
    assert explainer.explain(X, exact=True)[2] is None  # TreeSHAP gives no prediction


def test_scores_with_reasons_equal_scores_without(scorer):
    lead_scorer, X = scorer
    with_reasons = lead_scorer.score(X)
    without = lead_scorer.score(X, reasons=False)
    np.testing.assert_array_equal(with_reasons["probability"], without["probability"])
    np.testing.assert_array_equal(
        without["probability"], lead_scorer.estimator.predict_proba(X)[:, 1]
    )
    assert (with_reasons["tier"] == without["tier"]).all()
    assert with_reasons["reason_1"].str.contains("log-odds").all()


def test_a_model_exported_before_the_leaf_outputs_still_explains(scorer):
    lead_scorer, X = scorer
    before = lead_scorer.score(X.head(50))
    for name in ("paths_", "offsets_", "leaf_values_"):
        lead_scorer.explainer.__dict__.pop(name)
    pd_equal = lead_scorer.score(X.head(50))
    assert pd_equal.equals(before)


def _reference_texts(X, values, labels, unit=" log-odds"):
    """Row by row: the three largest drivers by size (ties: the earlier column), formatted."""
    out = []
    for i in range(len(X)):
        order = sorted(range(values.shape[1]), key=lambda j: (-abs(values[i, j]), j))[:3]
        row = []
        for j in order:
            c = values[i, j]
            value = X.iloc[i][labels[j]]
            row.append(f"{labels[j]} = {_show(value)} ({c:+.2f}{unit})" if abs(c) > 1e-9 else "")
        out.append(row)
    return out


def test_reason_texts_are_each_rows_three_largest_drivers(scorer):
    lead_scorer, X = scorer
    explainer = lead_scorer.explainer
    X = X.head(300).reset_index(drop=True)
    values, labels, _ = explainer.explain(X)
    texts = explainer.texts(X, values, labels)
    assert [list(t) for t in zip(*texts, strict=True)] == _reference_texts(X, values, labels)
    # ties, signs at a half hundredth, drivers that are zero: built as one row at a time would
    odd = np.zeros_like(values)
    odd[:, 3] = odd[:, 1] = 0.125  # a tie: column 1 comes first
    odd[:, 5] = -0.005  # shows as -0.01 (Python rounds the double below -0.005 away)
    odd[::2, 7] = -1e-12  # too small to be a reason
    odd[1::3, 2] = -2.675
    texts = explainer.texts(X, odd, labels)
    assert [list(t) for t in zip(*texts, strict=True)] == _reference_texts(X, odd, labels)


def test_tier_cuts_of_a_large_training_set_come_from_a_seeded_sample(scorer, monkeypatch):
    import salesml.classify.scorer as scoring
    from salesml.classify.registry import CALIBRATION_FOLDS, LARGE_TRAINING, calibration_folds

    lead_scorer, X = scorer
    train = X.head(1500)
    full = scoring.LeadScorer(lead_scorer.estimator, train).cuts
    monkeypatch.setattr(scoring, "TIER_SAMPLE", 600)
    sampled = scoring.LeadScorer(lead_scorer.estimator, train)
    rows = scoring._tier_rows(train)
    assert len(rows) == 600 and rows.index.is_monotonic_increasing
    assert sampled.cuts == scoring.tier_cuts(sampled._scores(rows)[1])
    assert sampled.cuts != full and np.allclose(sampled.cuts, full, atol=5)  # 0-100 points
    assert scoring.LeadScorer(lead_scorer.estimator, train).cuts == sampled.cuts  # seeded
    # and the calibration: five folds, three above LARGE_TRAINING training rows
    assert calibration_folds(LARGE_TRAINING) == CALIBRATION_FOLDS == 5
    assert calibration_folds(LARGE_TRAINING + 1) == 3
