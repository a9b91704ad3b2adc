"""FrameEncoder, the registry's model pipelines, CalibratedModel and tune."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.utils.validation import check_is_fitted

from salesml.classify.models import (
    MISSING,
    CalibratedModel,
    FrameEncoder,
    predict_on_threads,
    prediction_threads,
)
from salesml.classify.search import tune
from salesml.experiment.registry import candidates, spec_for

MODEL_TYPES = [t for t, spec in candidates("classification").items() if spec.role == "model"]


def _pipeline(kind: str, seed: int = 0, **params):
    """The unfitted pipeline of classification model ``kind``, built from its registry entry."""
    return spec_for("classification", kind).make(seed, **params)


def _space(kind: str) -> dict:
    return spec_for("classification", kind).search_space


NON_ASCII = "Zahlungs art é"


def _awkward(n: int, seed: int, unseen: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric, categorical, datetime, 50 %-missing, bool-with-blanks, non-ASCII columns.

    The outcome depends on every kind of column, so a model that loses one of them
    (e.g. by encoding it wrongly) scores visibly worse.
    """
    rng = np.random.default_rng(seed)
    amount = rng.normal(size=n)
    plan = rng.choice(["basic", "pro", "enterprise"], size=n, p=[0.5, 0.3, 0.2])
    pay = rng.choice(["Überweisung", "Karte", "Lastschrift"], size=n)
    half = rng.normal(size=n)
    half_missing = rng.random(n) < 0.5
    flag = rng.random(n) < 0.4
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    logit = (
        1.2 * amount
        + np.select([plan == "pro", plan == "enterprise"], [1.0, 2.0], 0.0)
        + np.where(pay == "Karte", 0.8, 0.0)
        + np.where(half_missing, -0.8, 0.6 * half)
        + np.where(flag, 1.8, 0.0)
        - 1.2
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    if unseen:
        plan[:10] = "startup"  # never seen in train
        pay[5:15] = "Bitcoin"
    frame = pd.DataFrame(
        {
            "amount": amount,
            "plan type": plan,
            NON_ASCII: pay,
            "half missing": np.where(half_missing, np.nan, half),
            # object column of Python bools and NaN, as read_csv gives for True/False/blank
            "flag": pd.Series(flag, dtype=object).where(rng.random(n) > 0.1, np.nan),
            "created": created,
            "empty": np.nan,
        }
    )
    return frame, y


@pytest.fixture(scope="module")
def awkward():
    X_train, y_train = _awkward(1200, seed=0)
    X_test, y_test = _awkward(600, seed=1, unseen=True)
    return X_train, y_train, X_test, y_test


# --------------------------------------------------------------------------- FrameEncoder


def test_datetime_columns_expand_to_month_dow_dom():
    X = pd.DataFrame({"when": pd.to_datetime(["2024-01-15", "2024-03-02", None])})
    out = FrameEncoder().fit_transform(X)
    assert list(out.columns) == ["when__month", "when__dow", "when__dom"]
    # 2024-01-15 is a Monday (0), 2024-03-02 a Saturday (5)
    np.testing.assert_array_equal(out.iloc[0], [1, 0, 15])
    np.testing.assert_array_equal(out.iloc[1], [3, 5, 2])
    assert out.iloc[2].isna().all()
    assert all(dtype == np.float64 for dtype in out.dtypes)


def test_categories_are_fixed_at_fit_and_unseen_values_become_other():
    train = pd.DataFrame({"c": ["a", "b", "a", None, "a", "b", "c"]})
    test = pd.DataFrame({"c": ["a", "zzz", None, "c"]})
    enc = FrameEncoder(categorical="category", max_categories=2).fit(train)
    assert enc.levels_["c"] == ["a", "b", "__other__"]  # most frequent first; 'c' is pooled
    out = enc.transform(test)["c"]
    assert isinstance(out.dtype, pd.CategoricalDtype)
    assert list(out.cat.categories) == ["a", "b", "__other__"]
    assert out.tolist()[:2] == ["a", "__other__"]
    assert pd.isna(out.iloc[2])  # missing stays missing in category mode
    assert out.iloc[3] == "__other__"  # rare in train -> pooled
    # same categories at fit and at scoring time, whatever the test rows hold
    fit_out = enc.transform(train)["c"]
    assert list(fit_out.cat.categories) == list(out.cat.categories)


def test_string_mode_fills_missing_with_marker():
    train = pd.DataFrame({"c": ["a", "b", "a", None]})
    enc = FrameEncoder(categorical="string").fit(train)
    out = enc.transform(pd.DataFrame({"c": ["b", None, "new"]}))["c"]
    assert out.tolist() == ["b", MISSING, "__other__"]
    assert MISSING == "__missing__"


def test_non_string_category_values_keep_their_levels():
    """A True/False column with blanks reads as object bools; its levels must survive."""
    X = pd.DataFrame({"flag": pd.Series([True, False, np.nan, True], dtype=object)})
    for mode in ("category", "string"):
        out = FrameEncoder(categorical=mode).fit(X).transform(X)["flag"]
        assert out.iloc[0] == "True" and out.iloc[1] == "False" and out.iloc[3] == "True", mode
    # and mixed numbers/text in an object column
    Xm = pd.DataFrame({"code": pd.Series([1, "x", 2, 1], dtype=object)})
    out = FrameEncoder().fit(Xm).transform(Xm)["code"]
    assert out.tolist() == ["1", "x", "2", "1"]


def test_numeric_and_boolean_become_float_and_all_nan_columns_are_dropped():
    X = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "b": [True, False, True],
            "gone": [np.nan] * 3,
            "gone too": pd.Series([None] * 3, dtype=object),
        }
    )
    enc = FrameEncoder().fit(X)
    assert enc.dropped_ == ["gone", "gone too"]
    out = enc.transform(X)
    assert list(out.columns) == ["n", "b"]
    assert all(dtype == np.float64 for dtype in out.dtypes)
    np.testing.assert_array_equal(out["b"], [1.0, 0.0, 1.0])
    assert list(enc.get_feature_names_out()) == list(out.columns)


def test_column_names_become_ascii_safe_and_unique():
    X = pd.DataFrame(
        {
            NON_ASCII: ["a", "b"],
            "Zahlungs-art": ["x", "y"],
            "Zahlungs art": ["x", "y"],
            "é": [1.0, 2.0],
            "ü": [1.0, 2.0],
            "col": [3.0, 4.0],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "when__month": [5.0, 6.0],  # would collide with the datetime expansion
            "a b [c] {d}": [1.0, 2.0],
        }
    )
    enc = FrameEncoder().fit(X)
    out = enc.transform(X)
    names = list(out.columns)
    assert len(names) == len(set(names)) == 8 + 3  # 8 plain columns + 3 date parts
    assert names == list(enc.get_feature_names_out())
    for name in names:
        assert name.isascii() and name.replace("_", "").isalnum(), name
    # the original columns' values all survive (nothing overwritten by a collision)
    assert sorted(out[enc.names_["when__month"]].tolist()) == [5.0, 6.0]
    assert out[enc.names_["when"] + "__month"].tolist() == [1.0, 2.0]
    assert out[enc.names_[NON_ASCII]].tolist() == ["a", "b"]


def test_columns_missing_at_transform_are_a_clear_error():
    X = pd.DataFrame({"amount": [1.0, 2.0], NON_ASCII: ["a", "b"], "empty": [np.nan] * 2})
    enc = FrameEncoder().fit(X)
    with pytest.raises(ValueError, match=f"missing at scoring time: {NON_ASCII}"):
        enc.transform(X.drop(columns=NON_ASCII))
    # a column dropped at fit (entirely missing) is not required at scoring time
    assert list(enc.transform(X.drop(columns="empty")).columns) == ["amount", "Zahlungs_art"]
    with pytest.raises(NotFittedError):
        FrameEncoder().transform(X)
    with pytest.raises(TypeError, match="DataFrame"):
        FrameEncoder().fit(X.to_numpy())


# --------------------------------------------------------------------------- pipelines


@pytest.mark.parametrize("kind", MODEL_TYPES)
def test_pipeline_fits_awkward_frame_and_scores_unseen_categories(kind, awkward):
    X_train, y_train, X_test, y_test = awkward
    small = {
        "lightgbm": {"n_estimators": 80},
        "hist_gradient_boosting": {"max_iter": 80},
        "random_forest": {"n_estimators": 80},
    }
    pipe = _pipeline(kind, seed=0, **small.get(kind, {})).fit(X_train, y_train)
    enc = pipe.named_steps["encode"]
    assert enc.dropped_ == ["empty"]
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # rows with unseen plan / payment values are scored like any other row
    assert np.isfinite(proba[:15]).all()
    # every kind of column carries signal; losing one costs several AUC points
    assert roc_auc_score(y_test, proba[:, 1]) > 0.78
    # scoring a single row and a frame without the dropped column also works
    one = pipe.predict_proba(X_test.iloc[[3]].drop(columns="empty"))
    np.testing.assert_allclose(one, proba[[3]])


def test_pipelines_use_the_bool_column_with_blanks(awkward):
    """Encoding the bool column as one level loses its signal: AUC drops without it."""
    X_train, y_train, X_test, y_test = awkward
    full = _pipeline("logistic").fit(X_train, y_train).predict_proba(X_test)[:, 1]
    no_flag = (
        _pipeline("logistic")
        .fit(X_train.drop(columns="flag"), y_train)
        .predict_proba(X_test.drop(columns="flag"))[:, 1]
    )
    assert roc_auc_score(y_test, full) > roc_auc_score(y_test, no_flag) + 0.02


def test_pipelines_are_seeded(awkward):
    X_train, y_train, X_test, _ = awkward
    a = _pipeline("lightgbm", seed=3, n_estimators=40).fit(X_train, y_train)
    b = _pipeline("lightgbm", seed=3, n_estimators=40).fit(X_train, y_train)
    np.testing.assert_array_equal(a.predict_proba(X_test), b.predict_proba(X_test))
    assert a.named_steps["clf"].get_params()["random_state"] == 3


# --------------------------------------------------------------------------- CalibratedModel


@pytest.fixture(scope="module")
def calibrated(awkward):
    X_train, y_train, X_test, _ = awkward
    est = _pipeline("lightgbm", seed=0, n_estimators=40)
    return CalibratedModel(est, method="isotonic", cv=3, seed=0).fit(X_train, y_train)


def test_calibrated_model_keeps_uncalibrated_and_calibrated_fits(calibrated, awkward):
    X_train, _, X_test, _ = awkward
    check_is_fitted(calibrated.uncalibrated_)
    assert isinstance(calibrated.calibrated_, CalibratedClassifierCV)
    assert len(calibrated.calibrated_.calibrated_classifiers_) == 3
    # the wrapped estimator itself stays unfitted (clones are fitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(calibrated.estimator)
    p_cal = calibrated.predict_proba(X_test)
    p_raw = calibrated.predict_proba_uncalibrated(X_test)
    np.testing.assert_array_equal(p_raw, calibrated.uncalibrated_.predict_proba(X_test))
    np.testing.assert_array_equal(p_cal, calibrated.calibrated_.predict_proba(X_test))
    assert not np.allclose(p_cal, p_raw)
    np.testing.assert_allclose(p_cal.sum(1), 1.0)
    np.testing.assert_array_equal(calibrated.classes_, [0, 1])
    assert calibrated.n_features_in_ == X_train.shape[1]
    assert set(calibrated.predict(X_test)) <= {0, 1}


def test_calibrated_model_is_seeded(calibrated, awkward):
    X_train, y_train, X_test, _ = awkward
    again = clone(calibrated).fit(X_train, y_train)
    np.testing.assert_array_equal(again.predict_proba(X_test), calibrated.predict_proba(X_test))
    other_seed = clone(calibrated).set_params(seed=5).fit(X_train, y_train)
    assert not np.array_equal(other_seed.predict_proba(X_test), calibrated.predict_proba(X_test))


def test_boosters_predict_on_every_core_and_give_the_same_probabilities(
    calibrated, awkward, monkeypatch
):
    X_test = awkward[2]
    boosters = [calibrated.uncalibrated_[-1]] + [
        fold.estimator[-1] for fold in calibrated.calibrated_.calibrated_classifiers_
    ]
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert prediction_threads() >= 1
    assert {b.n_jobs for b in boosters} == {prediction_threads()}  # set by fit
    many = calibrated.predict_proba(X_test)
    predict_on_threads(calibrated, 1)
    assert {b.n_jobs for b in boosters} == {1}
    np.testing.assert_array_equal(calibrated.predict_proba(X_test), many)  # to the last bit
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # what Spark sets in its Python workers
    assert prediction_threads() == 3
    predict_on_threads(calibrated, prediction_threads())
    assert {b.n_jobs for b in boosters} == {3}


def test_calibration_method_none_and_sigmoid(awkward):
    X_train, y_train, X_test, _ = awkward
    none = CalibratedModel(_pipeline("logistic"), method="none").fit(X_train, y_train)
    assert none.calibrated_ is none.uncalibrated_
    np.testing.assert_array_equal(
        none.predict_proba(X_test), none.predict_proba_uncalibrated(X_test)
    )
    sig = CalibratedModel(_pipeline("logistic"), method="sigmoid", cv=3).fit(X_train, y_train)
    assert sig.calibrated_.method == "sigmoid"
    # a monotone map per fold keeps the ranking close to the uncalibrated one
    r = np.corrcoef(sig.predict_proba(X_test)[:, 1], none.predict_proba(X_test)[:, 1])[0, 1]
    assert r > 0.98


def test_calibrated_model_is_not_fitted_until_fit(awkward):
    with pytest.raises(NotFittedError):
        CalibratedModel(_pipeline("logistic")).predict_proba(awkward[2])


# --------------------------------------------------------------------------- tune


def test_tune_logistic_returns_params_from_space_and_cv_auc(awkward):
    X_train, y_train = awkward[0], awkward[1]
    found = tune(
        _space("logistic"),
        _pipeline("logistic", seed=0),
        X_train,
        y_train,
        n_trials=3,
        cv=3,
        seed=0,
    )
    best_pipe, best, cv_auc = found.estimator, found.params, found.cv_roc_auc
    assert set(best) == set(_space("logistic"))
    assert isinstance(best["clf__C"], float)
    assert np.isclose(_space("logistic")["clf__C"], best["clf__C"]).any()
    assert best_pipe.get_params()["clf__C"] == best["clf__C"]
    with pytest.raises(NotFittedError):
        check_is_fitted(best_pipe)
    # the reported score is the mean CV ROC-AUC of those params on the same folds
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    expected = cross_val_score(clone(best_pipe), X_train, y_train, cv=folds, scoring="roc_auc")
    assert cv_auc == pytest.approx(expected.mean(), rel=1e-9)
    assert 0.7 < cv_auc <= 1.0


@pytest.mark.parametrize("kind", ["lightgbm", "logistic", "random_forest"])
def test_tune_finds_what_randomized_search_cv_finds(awkward, kind):
    """The same trials, folds and scores as scikit-learn's search, to the last bit, and the
    best trial's out-of-fold probabilities are those of its fold models."""
    X_train, y_train = awkward[0][:700], awkward[1][:700]
    pipe, space = _pipeline(kind, seed=0), _space(kind)
    found = tune(space, pipe, X_train, y_train, n_trials=5, cv=3, seed=7, n_jobs=2)
    folds = StratifiedKFold(3, shuffle=True, random_state=7)
    search = RandomizedSearchCV(
        pipe, space, n_iter=5, scoring="roc_auc", cv=folds, random_state=7, refit=False
    ).fit(X_train, y_train)
    assert found.params == {
        k: getattr(v, "item", lambda v=v: v)() for k, v in search.best_params_.items()
    }
    assert found.cv_roc_auc == pytest.approx(search.best_score_, rel=1e-12, abs=1e-12)
    expected = cross_val_predict(
        clone(found.estimator), X_train, y_train, cv=folds, method="predict_proba"
    )[:, 1]
    np.testing.assert_allclose(found.out_of_fold, expected, rtol=1e-12, atol=1e-12)
    assert found.folds == 3


def test_tune_names_the_trial_that_failed(awkward):
    X_train, y_train = awkward[0][:300], awkward[1][:300]
    with pytest.raises(
        RuntimeError, match=r"search trial \(clf__num_leaves=1\), fold 1: .*num_leaves"
    ):
        tune({"clf__num_leaves": [1]}, _pipeline("lightgbm"), X_train, y_train, 1, 2, 0)


def test_tune_lightgbm_draws_from_the_search_space(awkward):
    X_train, y_train = awkward[0][:600], awkward[1][:600]
    pipe = _pipeline("lightgbm", seed=0)
    found = tune(_space("lightgbm"), pipe, X_train, y_train, n_trials=3, cv=2, seed=1)
    space = _space("lightgbm")
    assert set(found.params) == set(space)
    for key, value in found.params.items():
        assert value in space[key], key
        assert type(value) in (int, float), (key, type(value))  # plain Python, loggable
    assert 0.5 < found.cv_roc_auc <= 1.0


def test_search_and_calibration_on_threads_equal_the_serial_fit(awkward):
    X_train, y_train = awkward[0][:800], awkward[1][:800]
    pipe = _pipeline("lightgbm", seed=0)
    serial = tune(_space("lightgbm"), pipe, X_train, y_train, n_trials=4, cv=2, seed=3, n_jobs=1)
    threaded = tune(_space("lightgbm"), pipe, X_train, y_train, n_trials=4, cv=2, seed=3, n_jobs=2)
    assert serial.params == threaded.params
    assert serial.cv_roc_auc == threaded.cv_roc_auc  # the same CV ROC-AUC, to the last bit
    np.testing.assert_array_equal(serial.out_of_fold, threaded.out_of_fold)
    one = CalibratedModel(serial.estimator, cv=3, seed=0, n_jobs=1).fit(X_train, y_train)
    two = CalibratedModel(serial.estimator, cv=3, seed=0, n_jobs=2).fit(X_train, y_train)
    np.testing.assert_array_equal(one.predict_proba(awkward[2]), two.predict_proba(awkward[2]))


def test_refit_calibrated_from_a_search_maps_the_refit_by_its_out_of_fold_probabilities(awkward):
    """Given the search's out-of-fold probabilities, the calibrated model is the one
    calibrating on folds of its own would be with the same folds, fitted once."""
    X_train, y_train = awkward[0][:800], awkward[1][:800]
    found = tune(_space("lightgbm"), _pipeline("lightgbm"), X_train, y_train, 3, 3, seed=5)
    given = CalibratedModel(found.estimator, cv=3, seed=5, ensemble=False)
    given.fit(X_train, y_train, out_of_fold=found.out_of_fold)
    own = CalibratedModel(found.estimator, cv=3, seed=5, ensemble=False).fit(X_train, y_train)
    np.testing.assert_allclose(
        given.predict_proba(awkward[2]), own.predict_proba(awkward[2]), rtol=1e-12, atol=1e-12
    )
    with pytest.raises(ValueError, match="out_of_fold needs ensemble=False"):
        CalibratedModel(found.estimator, cv=3).fit(X_train, y_train, out_of_fold=found.out_of_fold)
    with pytest.raises(ValueError, match="one probability per training row, got 10 for 800"):
        given.fit(X_train, y_train, out_of_fold=found.out_of_fold[:10])


def test_text_object_and_categorical_columns_encode_alike():
    """Columns of text skip the conversion to text; the codes stay those of the text."""
    train = pd.DataFrame({"plan": ["a", "b", "b", None, "c", True]})
    enc = FrameEncoder().fit(train)
    rows = pd.Series(["b", None, "zzz", "a", "True"], dtype=object)
    as_object = enc.transform(pd.DataFrame({"plan": rows}))["plan"]
    as_category = enc.transform(pd.DataFrame({"plan": rows.astype("category")}))["plan"]
    as_mixed = enc.transform(pd.DataFrame({"plan": pd.Series(["b", None, "zzz", "a", True])}))
    for out in (as_category, as_mixed["plan"]):
        pd.testing.assert_series_equal(out, as_object)
    assert list(as_object.astype(object)) == ["b", np.nan, "__other__", "a", "True"]


def test_a_large_training_set_fits_one_fold_model_and_calibrates_on_its_held_out_rows(awkward):
    """fold_models=1: the refit on all rows, mapped by the first fold model's held-out
    probabilities: what doing it by hand gives, with two fits instead of cv + 1."""
    from salesml.classify.calibration import ProbabilityMap
    from salesml.classify.registry import LARGE_TRAINING, calibration_fold_models

    X_train, y_train = awkward[0][:900], awkward[1][:900]
    pipe = _pipeline("lightgbm")
    model = CalibratedModel(pipe, cv=3, seed=2, ensemble=False, fold_models=1, n_jobs=2)
    model.fit(X_train, y_train)
    train, held = next(StratifiedKFold(3, shuffle=True, random_state=2).split(X_train, y_train))
    fold = clone(pipe).fit(X_train.iloc[train], y_train[train])
    oof = fold.predict_proba(X_train.iloc[held])[:, 1]
    refit = clone(pipe).fit(X_train, y_train)
    mapping = ProbabilityMap("isotonic").fit(oof, y_train[held] == 1)
    expected = np.clip(mapping.predict(refit.predict_proba(awkward[2])[:, 1]), 0, 1)
    np.testing.assert_allclose(model.predict_proba(awkward[2])[:, 1], expected, rtol=1e-12)
    assert calibration_fold_models(LARGE_TRAINING + 1) == 1
    assert calibration_fold_models(LARGE_TRAINING) is None
