"""LightGBM's reasons and its prediction from one pass over the trees."""

from __future__ import annotations

import numpy as np
import pytest

from salesml.classify.models import CalibratedModel
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
