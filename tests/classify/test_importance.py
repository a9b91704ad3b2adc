"""Permutation importance in stacked batches: the measure scikit-learn computes, faster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance as sklearn_importance

from salesml.classify import importance as module
from salesml.classify.importance import permutation_importance
from salesml.classify.models import estimator_pipeline


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    n = 1500
    X = pd.DataFrame(
        {
            "strong": rng.normal(size=n),
            "weak": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "plan": pd.Categorical(rng.choice(["basic", "pro", "team"], size=n)),
            "signed": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
        }
    )
    logit = 2.0 * X["strong"] + 0.5 * X["weak"] + (X["plan"] == "pro") * 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    model = estimator_pipeline(
        0,
        estimator="sklearn.linear_model:LogisticRegression",
        encoding="onehot",
        defaults={"max_iter": 500},
    ).fit(X, y)
    return model, X, y


def test_it_ranks_the_columns_as_scikit_learn_does(fitted):
    model, X, y = fitted
    ours = permutation_importance(model, X, y, n_repeats=5, seed=0)
    theirs = sklearn_importance(
        model, X, y, scoring="roc_auc", n_repeats=5, random_state=0
    ).importances_mean
    assert list(ours.index) == list(X.columns)
    assert list(ours.sort_values().index[-3:]) == ["plan", "weak", "strong"]
    assert list(ours.sort_values().index) == list(X.columns[np.argsort(theirs)])
    np.testing.assert_allclose(ours.to_numpy(), theirs, atol=0.01)  # shuffles' noise only
    assert abs(ours["noise"]) < 0.005 and abs(ours["signed"]) < 0.005


def test_batches_and_seeds(fitted, monkeypatch):
    model, X, y = fitted
    whole = permutation_importance(model, X, y, seed=4)
    monkeypatch.setattr(module, "BATCH_ROWS", len(X))  # one column per batch
    pd.testing.assert_series_equal(permutation_importance(model, X, y, seed=4), whole)
    assert not permutation_importance(model, X, y, seed=5).equals(whole)


def test_the_stacked_frame_keeps_types_and_shuffles_one_column_per_block(fitted):
    _, X, _ = fitted
    X = X.head(4)
    shuffles = {j: [np.array([3, 2, 1, 0])] for j in range(X.shape[1])}
    stacked = module._stacked(X, list(range(X.shape[1])), [1, 3], shuffles)
    assert len(stacked) == 8 and (stacked.dtypes == X.dtypes).all()
    first, second = stacked.iloc[:4], stacked.iloc[4:]
    assert list(first["weak"]) == list(X["weak"][::-1]) and list(first["plan"]) == list(X["plan"])
    assert list(second["plan"]) == list(X["plan"][::-1]) and list(second["weak"]) == list(X["weak"])


class _Opaque:
    """The same model with its pipeline hidden: importance shuffles the raw columns."""

    def __init__(self, model):
        self.model = model

    def predict_proba(self, X):
        return self.model.predict_proba(X)


@pytest.mark.parametrize(
    ("estimator", "encoding", "defaults"),
    [
        ("sklearn.linear_model:LogisticRegression", "onehot", {"max_iter": 500}),
        ("lightgbm:LGBMClassifier", "native", {"n_estimators": 30, "verbose": -1, "n_jobs": 1}),
        ("sklearn.ensemble:RandomForestClassifier", "ordinal", {"n_estimators": 20, "n_jobs": 1}),
    ],
)
def test_encoded_once_equals_shuffling_the_raw_columns(fitted, estimator, encoding, defaults):
    """Shuffling a raw column's encoded columns together (one-hot, dates' calendar parts,
    missing indicators) gives the predictions shuffling the raw column gives."""
    _, X, y = fitted
    X = X.assign(weak=X["weak"].where(np.arange(len(X)) % 7 != 0))  # a missing indicator
    model = estimator_pipeline(0, estimator=estimator, encoding=encoding, defaults=defaults)
    model.fit(X, y)
    encoded = permutation_importance(model, X, y, seed=2)
    raw = permutation_importance(_Opaque(model), X, y, seed=2)
    pd.testing.assert_series_equal(encoded, raw, rtol=1e-12, atol=1e-12)
    assert encoded["strong"] > 0.05  # and it measures something


def test_the_stacked_encoding_moves_a_columns_outputs_together():
    table = np.arange(12, dtype=float).reshape(4, 3)  # columns 0 and 2 come from raw column 1
    shuffles = {0: [np.array([0, 1, 2, 3])], 1: [np.array([3, 2, 1, 0])]}
    stacked = module._stacked(table, [1, 0, 1], [1], shuffles)
    np.testing.assert_array_equal(stacked[:, 0], table[::-1, 0])
    np.testing.assert_array_equal(stacked[:, 2], table[::-1, 2])
    np.testing.assert_array_equal(stacked[:, 1], table[:, 1])


@pytest.mark.parametrize("kind", ["control_points", "scorecard"])
def test_points_baselines_shuffle_their_points_as_the_raw_columns(fitted, kind):
    """A points baseline's points add up column by column: shuffling a column's points
    gives the predictions shuffling the column gives (two rules on one column move together)."""
    from salesml.classify.baselines import ControlPointsClassifier, ScorecardClassifier

    _, X, y = fitted
    if kind == "scorecard":
        rules = [
            {"column": "strong", "gt": 0.5, "points": 30},
            {"column": "strong", "gt": 1.5, "points": 20},
            {"column": "plan", "eq": "pro", "points": 15},
            {"column": "weak", "lt": 0.0, "points": -5},
        ]
        model = ScorecardClassifier(rules=rules, base_points=10).fit(X, y)
    else:
        model = ControlPointsClassifier().fit(X, y)
    staged = permutation_importance(model, X, y, seed=1)
    raw = permutation_importance(_Opaque(model), X, y, seed=1)
    pd.testing.assert_series_equal(staged, raw, rtol=1e-12, atol=1e-12)
    assert staged["strong"] > 0.05
