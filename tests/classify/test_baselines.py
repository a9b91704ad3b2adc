"""Rule-based baselines: scikit-learn estimator rules, scorecard rule semantics, control points."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from salesml.classify.baselines import ControlPointsClassifier, ScorecardClassifier, rule_mask
from salesml.classify.task import build_candidate
from salesml.errors import DataError
from salesml.experiment.config import parse_experiment

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def lead_frames(leads_small):
    """Train/test feature frames of the synthetic leads, split by row position."""
    X = leads_small.drop(columns=["lead_id", "converted", "last_stage_reached", "job_title"])
    y = leads_small["converted"].to_numpy()
    return X.iloc[:2000], y[:2000], X.iloc[2000:], y[2000:]


BANT = [
    {"column": "budget_band", "in": ["100k+"], "points": 25},
    {"column": "budget_band", "in": ["50k-100k"], "points": 18},
    {"column": "seniority", "in": ["c_level", "vp"], "points": 25},
    {"column": "need", "not_in": ["none_stated"], "points": 20},
    {"column": "timeline", "in": ["0-3 months"], "points": 30},
]


def _estimators():
    return [
        ScorecardClassifier(rules=copy.deepcopy(BANT), base_points=5.0),
        ControlPointsClassifier(n_bins=4, smoothing=10.0, max_levels=30),
    ]


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "budget": ["100k+", "10k-50k", None, "50k-100k", "100k+", "unknown"],
            "seniority": ["vp", "manager", "c_level", None, "director", "vp"],
            "visits": [0.0, 3.0, np.nan, 10.0, 5.0, 7.0],
            "code": [1.0, 2.0, 3.0, np.nan, 1.0, 2.0],  # integer codes, floats after prepare
            "plan": ["1", "2", "3", "2", None, "1"],  # codes stored as text
        }
    )


def _mask(frame: pd.DataFrame, **rule) -> list[bool]:
    if "in_" in rule:
        rule["in"] = rule.pop("in_")
    return rule_mask(frame, {"points": 1, **rule}).tolist()


# --------------------------------------------------------------------------- sklearn rules


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_init_only_stores_params_and_clone_round_trips(est):
    params = est.get_params()
    assert set(vars(est)) == set(params)  # __init__ stores params and nothing else
    rebuilt = type(est)(**params)
    assert rebuilt.get_params() == params
    twin = clone(est)
    assert type(twin) is type(est) and twin.get_params() == params
    assert twin.get_params()["n_bins" if "n_bins" in params else "rules"] is not None
    # __init__ does not validate or coerce
    odd = type(est)(**{k: "anything" for k in params})
    assert all(v == "anything" for v in odd.get_params().values())


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_fit_returns_self_fitted_attributes_end_in_underscore(est, lead_frames):
    X_train, y_train, X_test, _ = lead_frames
    params = set(est.get_params())
    assert est.fit(X_train, y_train) is est
    learned = set(vars(est)) - params
    assert learned, "fit learned nothing"
    assert all(a.endswith("_") and not a.startswith("__") for a in learned), learned
    assert est.n_features_in_ == X_train.shape[1]
    assert list(est.feature_names_in_) == list(X_train.columns)
    np.testing.assert_array_equal(est.classes_, [0, 1])
    proba = est.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(est.predict(X_test))) <= {0, 1}
    # a clone of a fitted estimator is unfitted again
    with pytest.raises(NotFittedError):
        clone(est).predict_proba(X_test)


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_not_fitted_raises_not_fitted_error(est, lead_frames):
    X_test = lead_frames[2]
    with pytest.raises(NotFittedError):
        est.predict_proba(X_test)
    with pytest.raises(NotFittedError):
        est.predict(X_test)


def test_control_points_contributions_need_a_fit(lead_frames):
    with pytest.raises(NotFittedError):
        ControlPointsClassifier().contributions(lead_frames[2])


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_string_labels_and_numpy_input(est, lead_frames):
    X_train, y_train, X_test, _ = lead_frames
    labels = np.where(y_train == 1, "won", "lost")
    est.fit(X_train, labels)
    np.testing.assert_array_equal(est.classes_, ["lost", "won"])
    assert set(est.predict(X_test)) <= {"lost", "won"}
    with pytest.raises(TypeError, match="DataFrame"):
        type(est)(**est.get_params()).fit(X_train.to_numpy(), y_train)


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_one_class_target_is_a_data_error(est, lead_frames):
    X_train = lead_frames[0]
    with pytest.raises(DataError, match="one class"):
        est.fit(X_train, np.zeros(len(X_train), dtype=int))


@pytest.mark.parametrize("est", _estimators(), ids=["scorecard", "control_points"])
def test_isotonic_probabilities_are_monotone_in_points(est, lead_frames):
    X_train, y_train, X_test, y_test = lead_frames
    est.fit(X_train, y_train)
    for X in (X_train, X_test):
        points = est.points(X)
        p1 = est.predict_proba(X)[:, 1]
        order = np.argsort(points, kind="mergesort")
        assert (np.diff(p1[order]) >= -1e-12).all()
        # equal points, equal probability
        frame = pd.DataFrame({"pts": points, "p": p1})
        assert (frame.groupby("pts")["p"].nunique() == 1).all()
    # and the scores carry signal on held-out rows
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y_test, est.predict_proba(X_test)[:, 1]) > 0.6


def test_registry_builders_make_the_baselines_with_their_params():
    from sklearn.dummy import DummyClassifier

    from salesml.experiment.registry import spec_for

    prior = spec_for("classification", "prior").make(0)
    assert isinstance(prior, DummyClassifier) and prior.strategy == "prior"
    card = spec_for("classification", "scorecard").make(7, rules=BANT, base_points=5.0)
    assert isinstance(card, ScorecardClassifier)
    assert card.get_params() == {"rules": BANT, "base_points": 5.0}
    cp = spec_for("classification", "control_points").make(7, n_bins=3, smoothing=1.0)
    assert isinstance(cp, ControlPointsClassifier)
    assert cp.get_params() == {"n_bins": 3, "smoothing": 1.0, "max_levels": 50}


# --------------------------------------------------------------------------- scorecard rules


def test_in_and_not_in(small):
    assert _mask(small, column="budget", in_=["100k+", "50k-100k"]) == [
        True, False, False, True, True, False,
    ]  # fmt: skip
    # not_in: missing budget (row 2) does not satisfy it
    assert _mask(small, column="budget", not_in=["100k+"]) == [
        False, True, False, True, False, True,
    ]  # fmt: skip


def test_eq_and_ne(small):
    assert _mask(small, column="seniority", eq="vp") == [True, False, False, False, False, True]
    # ne: missing seniority (row 3) does not satisfy it
    assert _mask(small, column="seniority", ne="vp") == [False, True, True, False, True, False]


def test_numeric_comparisons_and_missing_never_satisfies_them(small):
    # visits = [0, 3, nan, 10, 5, 7]
    assert _mask(small, column="visits", lt=5) == [True, True, False, False, False, False]
    assert _mask(small, column="visits", le=5) == [True, True, False, False, True, False]
    assert _mask(small, column="visits", gt=5) == [False, False, False, True, False, True]
    assert _mask(small, column="visits", ge=5) == [False, False, False, True, True, True]
    # NaN compares False both ways: neither lt nor ge holds for row 2
    lt = _mask(small, column="visits", lt=1e9)
    ge = _mask(small, column="visits", ge=-1e9)
    assert lt[2] is False and ge[2] is False


def test_missing_condition(small):
    assert _mask(small, column="visits", missing=True) == [False, False, True, False, False, False]
    assert _mask(small, column="visits", missing=False) == [True, True, False, True, True, True]
    assert _mask(small, column="budget", missing=True) == [False, False, True, False, False, False]


def test_conditions_are_anded(small):
    assert _mask(small, column="visits", ge=3, lt=10) == [False, True, False, False, True, True]
    assert _mask(small, column="seniority", in_=["vp", "manager"], ne="manager") == [
        True, False, False, False, False, True,
    ]  # fmt: skip
    assert _mask(small, column="visits", gt=100, lt=0) == [False] * 6


def _scorecard_from_yaml(text: str) -> ScorecardClassifier:
    """Build the scorecard exactly as a YAML config does (pydantic, then build_candidate)."""
    raw = {
        "name": "t",
        "task": "lead_conversion",
        "data": {"path": "leads.csv", "target": "converted"},
        "baselines": [yaml.safe_load(text)],
    }
    cand = parse_experiment(raw).baselines[0]
    return build_candidate(cand, seed=0)


def test_yaml_strings_and_numbers_match_numbers_and_text(small):
    card = _scorecard_from_yaml(
        """
        type: scorecard
        rules:
          - {column: code, in: [1, "2"], points: 10}   # number and quoted number
          - {column: code, eq: "3", points: 1}          # quoted number vs float column
          - {column: plan, eq: 1, points: 100}          # number vs text column
          - {column: plan, in: ["3"], points: 1000}
          - {column: budget, in: ["100k+"], points: 5}
          - {column: code, ne: "1", points: 7}          # quoted number, negated
        """
    )
    c = card.contributions(small)
    # code = [1, 2, 3, nan, 1, 2]
    assert c["0:code"].tolist() == [10, 10, 0, 0, 10, 10]
    assert c["1:code"].tolist() == [0, 0, 1, 0, 0, 0]
    # plan = ["1", "2", "3", "2", None, "1"]
    assert c["2:plan"].tolist() == [100, 0, 0, 0, 0, 100]
    assert c["3:plan"].tolist() == [0, 0, 1000, 0, 0, 0]
    assert c["4:budget"].tolist() == [5, 0, 0, 0, 5, 0]
    assert c["5:code"].tolist() == [0, 7, 7, 0, 0, 7]  # missing code never satisfies ne


def test_points_are_clipped_to_0_100_and_contributions_sum_to_points(small):
    card = ScorecardClassifier(
        rules=[
            {"column": "budget", "in": ["100k+"], "points": 40},
            {"column": "seniority", "eq": "vp", "points": 30},
            {"column": "visits", "ge": 5, "points": 20},
            {"column": "visits", "missing": True, "points": -25},
        ],
        base_points=10,
    )
    contrib = card.contributions(small)
    assert list(contrib.columns) == ["base", "0:budget", "1:seniority", "2:visits", "3:visits"]
    # row 0: 10 + 40 + 30 = 80; row 2: 10 - 25 -> clipped 0; row 5: 10 + 30 + 20 = 60
    expected_raw = [80, 10, -15, 30, 70, 60]
    np.testing.assert_array_equal(contrib.sum(axis=1), expected_raw)
    np.testing.assert_array_equal(card.points(small), np.clip(expected_raw, 0, 100))
    inside = (np.asarray(expected_raw) >= 0) & (np.asarray(expected_raw) <= 100)
    np.testing.assert_array_equal(contrib.sum(axis=1)[inside], card.points(small)[inside])

    high = ScorecardClassifier(rules=[{"column": "visits", "ge": 0, "points": 80}], base_points=50)
    assert high.points(small).max() == 100.0
    low = ScorecardClassifier(rules=[{"column": "visits", "ge": 0, "points": -80}], base_points=5)
    assert low.points(small).min() == 0.0


def test_rule_on_missing_column_is_a_data_error_naming_it(small):
    card = ScorecardClassifier(
        rules=[{"column": "budget", "in": ["100k+"], "points": 10}]
        + [{"column": "Budget Band", "in": ["100k+"], "points": 10}]
    )
    y = np.array([1, 0, 0, 1, 1, 0])
    with pytest.raises(DataError, match="'Budget Band'"):
        card.fit(small, y)
    # scoring a frame without a rule's column is a DataError too, not a KeyError
    fitted = ScorecardClassifier(rules=[{"column": "budget", "eq": "100k+", "points": 10}])
    fitted.fit(small, y)
    with pytest.raises(DataError, match="'budget'"):
        fitted.predict_proba(small.drop(columns="budget"))


def test_no_rules_is_a_data_error(small):
    with pytest.raises(DataError, match="no rules"):
        ScorecardClassifier(rules=[]).fit(small, [1, 0, 0, 1, 1, 0])


def test_numeric_comparison_on_text_column_is_a_data_error_naming_it(small):
    card = ScorecardClassifier(rules=[{"column": "seniority", "ge": 3, "points": 10}])
    with pytest.raises(DataError, match="'seniority'"):
        card.fit(small, [1, 0, 0, 1, 1, 0])
    with pytest.raises(DataError, match="'budget'.*not numeric"):
        rule_mask(small, {"column": "budget", "lt": 50000, "points": 1})
    # dates are not numbers either (they would compare as nanoseconds since 1970)
    dated = small.assign(created=pd.to_datetime(["2024-01-01"] * 6))
    with pytest.raises(DataError, match="'created'.*not numeric"):
        rule_mask(dated, {"column": "created", "ge": 2024, "points": 1})
    # a numeric column that is missing in every scored row is fine: no row matches
    empty = small.assign(visits=np.nan)
    assert not rule_mask(empty, {"column": "visits", "ge": 0, "points": 1}).any()


def test_rules_are_never_evaluated_as_code(tmp_path):
    canary = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(canary)!r}).touch() or 'x'"
    X = pd.DataFrame({"note": [payload, "x", "__import__('os')", None], "n": [1.0, 2.0, 3.0, 4.0]})
    card = ScorecardClassifier(
        rules=[
            {"column": "note", "eq": payload, "points": 40},
            {"column": "note", "in": ["__import__('os')"], "points": 20},
            {"column": "note", "ne": "__import__('os').system('true')", "points": 1},
        ]
    )
    card.fit(X, [1, 0, 1, 0])
    contrib = card.contributions(X)
    # literal string equality only: the payload matches itself, not 'x' (what eval would give)
    assert contrib["0:note"].tolist() == [40, 0, 0, 0]
    assert contrib["1:note"].tolist() == [0, 0, 20, 0]
    assert contrib["2:note"].tolist() == [1, 1, 1, 0]
    assert not canary.exists()
    # a code-like column name is just a missing column
    bad = ScorecardClassifier(rules=[{"column": "__import__('os')", "eq": 1, "points": 1}])
    with pytest.raises(DataError, match="not in the data"):
        bad.fit(X, [1, 0, 1, 0])


def test_scorecard_probability_follows_the_train_rates(small):
    """Isotonic map on train: rows with the same points get the train rate of that group."""
    X = pd.concat([small] * 10, ignore_index=True)
    y = np.tile([1, 0, 0, 1, 1, 0], 10)
    card = ScorecardClassifier(rules=[{"column": "budget", "in": ["100k+"], "points": 50}])
    card.fit(X, y)
    p1 = card.predict_proba(small)[:, 1]
    # 100k+ rows (0 and 4): outcomes 1, 1 -> 1.0; the other rows: 1 of 4 -> 0.25
    np.testing.assert_allclose(p1, [1.0, 0.25, 0.25, 0.25, 1.0, 0.25])


# --------------------------------------------------------------------------- control points


@pytest.fixture
def control_data() -> tuple[pd.DataFrame, np.ndarray]:
    """50 rows, 10 positives (control rate 0.2).

    tier A: 10 rows, 4 positives (rate 0.4 = 2x control)
    tier B: 20 rows, 4 positives (rate 0.2)
    tier C: 15 rows, 1 positive  (rate 1/15)
    tier missing: 5 rows, 1 positive (rate 0.2)
    """
    tier = ["A"] * 10 + ["B"] * 20 + ["C"] * 15 + [None] * 5
    y = np.array([1] * 4 + [0] * 6 + [1] * 4 + [0] * 16 + [1] + [0] * 14 + [1] + [0] * 4)
    size = np.arange(50, dtype=float)
    size[::10] = np.nan  # 5 missing sizes
    return pd.DataFrame({"tier": tier, "size": size}), y


def test_control_rate_is_train_positive_rate_and_2x_rate_earns_one_point(control_data):
    X, y = control_data
    cp = ControlPointsClassifier(n_bins=2, smoothing=0.0).fit(X, y)
    assert cp.control_rate_ == pytest.approx(0.2)
    table = cp.points_table_["tier"]
    assert table["A"] == pytest.approx(1.0)  # 0.4 / 0.2 - 1
    assert table["B"] == pytest.approx(0.0)
    assert table["C"] == pytest.approx((1 / 15) / 0.2 - 1)
    assert table["<missing>"] == pytest.approx(0.0)  # missing is its own bin


def test_smoothing_shrinks_points_toward_zero(control_data):
    X, y = control_data
    cp = ControlPointsClassifier(n_bins=2, smoothing=20.0).fit(X, y)
    # (4 + 20 * 0.2) / (10 + 20) = 8 / 30 -> 8/30 / 0.2 - 1
    assert cp.points_table_["tier"]["A"] == pytest.approx((8 / 30) / 0.2 - 1)
    assert 0 < cp.points_table_["tier"]["A"] < 1.0


def test_numeric_quantile_bins_with_missing_bin(control_data):
    X, y = control_data
    cp = ControlPointsClassifier(n_bins=4, smoothing=0.0).fit(X, y)
    observed = X["size"].dropna().to_numpy()
    np.testing.assert_allclose(cp.bin_edges_["size"], np.quantile(observed, [0.25, 0.5, 0.75]))
    assert "tier" not in cp.bin_edges_
    table = cp.points_table_["size"]
    assert set(table) == {"0", "1", "2", "3", "<missing>"}
    # hand: rates per bin relative to the control rate
    edges = np.quantile(observed, [0.25, 0.5, 0.75])
    bins = np.where(X["size"].isna(), "<missing>", np.searchsorted(edges, X["size"], "right"))
    for key, points in table.items():
        rows = bins == str(key)
        assert points == pytest.approx(y[rows].mean() / 0.2 - 1), key
    # missing size rows are rows 0, 10, 20, 30, 40 -> outcomes 1, 1, 0, 1, 0
    assert table["<missing>"] == pytest.approx((3 / 5) / 0.2 - 1)


def test_unseen_categories_earn_zero_and_scores_are_0_100_on_train(control_data):
    X, y = control_data
    cp = ControlPointsClassifier(n_bins=3, smoothing=5.0).fit(X, y)
    pts = cp.points(X)
    assert pts.min() == pytest.approx(0.0, abs=1e-9)
    assert pts.max() == pytest.approx(100.0, abs=1e-9)
    new = pd.DataFrame({"tier": ["Z", "A"], "size": [np.nan, np.nan]})
    contrib = cp.contributions(new)
    assert contrib.loc[0, "tier"] == 0.0
    assert contrib.loc[1, "tier"] == pytest.approx(cp.points_table_["tier"]["A"])
    # raw sum rescaled with the train range, then clipped
    raw = contrib.to_numpy().sum(1)
    expected = np.clip(100 * (raw - cp.raw_min_) / (cp.raw_max_ - cp.raw_min_), 0, 100)
    np.testing.assert_allclose(cp.points(new), expected)


def test_learned_on_train_only(lead_frames):
    X_train, y_train, X_test, y_test = lead_frames
    cp = ControlPointsClassifier().fit(X_train, y_train)
    assert cp.control_rate_ == pytest.approx(y_train.mean())
    state = copy.deepcopy(
        (cp.points_table_, cp.bin_edges_, cp.control_rate_, cp.raw_min_, cp.raw_max_)
    )
    # scoring test rows (with shifted values) must not touch what was learned
    shifted = X_test.copy()
    shifted["source"] = "brand_new_source"
    shifted["web_visits"] = shifted["web_visits"] * 100
    cp.predict_proba(X_test)
    cp.predict_proba(shifted)
    after = (cp.points_table_, cp.bin_edges_, cp.control_rate_, cp.raw_min_, cp.raw_max_)
    assert repr(after) == repr(state)
    # the test rows would change the table if they were used
    both = ControlPointsClassifier().fit(pd.concat([X_train, X_test]), np.r_[y_train, y_test])
    assert both.control_rate_ != cp.control_rate_
    assert both.points_table_["source"] != cp.points_table_["source"]
    assert "brand_new_source" not in cp.points_table_["source"]
    assert (cp.contributions(shifted)["source"] == 0).all()


def test_control_points_skip_datetime_high_cardinality_and_empty_columns(lead_frames):
    X_train, y_train = lead_frames[0], lead_frames[1]
    X = X_train.copy()
    X["empty"] = np.nan
    X["many"] = [f"v{i}" for i in range(len(X))]
    cp = ControlPointsClassifier(max_levels=50).fit(X, y_train)
    assert "created_at" not in cp.points_table_  # datetime
    assert "many" not in cp.points_table_  # more levels than max_levels
    assert "empty" not in cp.points_table_  # entirely missing
    assert "email_subscribed" in cp.points_table_ and "email_subscribed" not in cp.bin_edges_
    assert set(cp.points_table_["email_subscribed"]) == {"True", "False"}


def test_control_points_looked_up_by_distinct_value_equal_the_row_by_row_lookup():
    """Points are looked up once per distinct value; every row gets what a lookup of its
    own key gives (numbers binned, categories as text, missing, values unseen in train)."""
    from salesml.classify.baselines import ControlPointsClassifier

    rng = np.random.default_rng(4)
    n = 3000
    X = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2, 50, n)),
            "plan": rng.choice(np.array(["basic", "pro", None, "team"], dtype=object), n),
            "flag": rng.choice(np.array([True, False, None], dtype=object), n),
            "count": rng.integers(0, 6, n),
            "tier": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    y = (rng.random(n) < 0.2 + 0.3 * (X["plan"] == "pro")).astype(int)
    model = ControlPointsClassifier().fit(X, y)
    test = X.sample(800, random_state=1).reset_index(drop=True)
    test.loc[:5, "plan"] = "enterprise"  # unseen in train: 0 points
    got = model.contributions(test)
    for col, table in model.points_table_.items():
        expected = model._keys(test, col).map(table).fillna(0.0).to_numpy(dtype=float)
        np.testing.assert_array_equal(got[col].to_numpy(), expected, err_msg=col)
    assert (got["plan"].iloc[:6] == 0.0).all() and got["plan"].nunique() >= 3
