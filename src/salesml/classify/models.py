"""Machine-learning candidates: scikit-learn pipelines from the raw feature frame.

Which estimators exist, with which defaults and search spaces, is declared in
:mod:`salesml.classify.registry`; :func:`estimator_pipeline` builds any of them.
Every model is a scikit-learn pipeline that takes the raw feature frame:
:class:`FrameEncoder` first fixes the columns' types (numbers, dates expanded
to calendar parts, categories frozen at fit time so values unseen in train
are pooled as ``__other__``), then the estimator. :class:`CalibratedModel`
wraps it: the probabilities it returns are calibrated on train folds, and the
uncalibrated fit is kept so the Brier score before and after can be reported.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from salesml.classify.registry import CALIBRATION_FOLDS
from salesml.experiment.evaluation import resolve_jobs

MISSING = "__missing__"


def _safe_name(name: str, taken: set[str], suffixes: tuple[str, ...] = ("",)) -> str:
    """An ASCII-safe name for ``name`` such that no ``name + suffix`` is taken yet."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", str(name)).strip("_") or "col"
    out, i = base, 1
    while any(out + s in taken for s in suffixes):
        i += 1
        out = f"{base}_{i}"
    taken.update(out + s for s in suffixes)
    return out


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Turn a raw frame into model-ready columns with stable types.

    Numeric and boolean columns become floats; datetime columns become month,
    day of week and day of month; other columns become categories fixed at fit
    time (the ``max_categories`` most frequent, the rest pooled as
    ``__other__``, as are values unseen in train). Columns entirely
    missing in train are dropped (listed in ``dropped_``). Output names are
    ASCII-safe, so column names with spaces or accents work with every model.

    Parameters
    ----------
    categorical : {"category", "string"}
        ``"category"`` keeps pandas categoricals (native boosting support);
        ``"string"`` fills missing with ``__missing__`` for one-hot encoding.
    max_categories : int
        Most frequent levels kept per categorical column.
    """

    def __init__(self, categorical: str = "category", max_categories: int = 50) -> None:
        self.categorical = categorical
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameEncoder:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("FrameEncoder needs a pandas DataFrame")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.dropped_ = [c for c in X.columns if X[c].isna().all()]
        self.kinds_: dict[str, str] = {}
        self.levels_: dict[str, list[str]] = {}
        for col in X.columns:
            if col in self.dropped_:
                continue
            values = X[col]
            if pd.api.types.is_datetime64_any_dtype(values):
                self.kinds_[col] = "datetime"
            elif pd.api.types.is_numeric_dtype(values):
                self.kinds_[col] = "numeric"
            else:
                self.kinds_[col] = "categorical"
                counts = values.dropna().astype(str).value_counts()
                self.levels_[col] = list(counts.index[: self.max_categories]) + ["__other__"]
        taken: set[str] = set()
        # A datetime column's outputs (name__month, ...) must not collide with other columns.
        date_suffixes = ("", "__month", "__dow", "__dom")
        self.names_ = {
            col: _safe_name(col, taken, date_suffixes if kind == "datetime" else ("",))
            for col, kind in self.kinds_.items()
        }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "kinds_")
        missing = [c for c in self.kinds_ if c not in X.columns]
        if missing:
            raise ValueError(f"columns missing at scoring time: {', '.join(map(str, missing))}")
        out: dict[str, Any] = {}
        for col, kind in self.kinds_.items():
            name, values = self.names_[col], X[col]
            if kind == "numeric":
                out[name] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
            elif kind == "datetime":
                dated = pd.api.types.is_datetime64_any_dtype(values)  # no parse: 10x faster
                ds = values if dated else pd.to_datetime(values, errors="coerce")
                out[f"{name}__month"] = ds.dt.month.astype(float).to_numpy()
                out[f"{name}__dow"] = ds.dt.dayofweek.astype(float).to_numpy()
                out[f"{name}__dom"] = ds.dt.day.astype(float).to_numpy()
            else:
                out[name] = self._categories(values, self.levels_[col])
        return pd.DataFrame(out, index=X.index)

    def _categories(self, values: pd.Series, levels: list[str]) -> Any:
        # Levels are the text of the train values; object columns may hold non-strings
        # (a True/False column with blanks reads as Python bools), so compare as text.
        # Columns of text already (the usual case) skip the conversion: 3x faster.
        if not _is_text(values):
            values = values.astype(str).where(values.notna(), None)
        codes = pd.Categorical(values, categories=levels[:-1]).codes.copy()
        codes[(codes == -1) & values.notna().to_numpy()] = len(levels) - 1  # unseen -> __other__
        if self.categorical == "string":
            return np.asarray([*levels, MISSING], dtype=object)[codes]  # code -1 -> MISSING
        return pd.Categorical.from_codes(codes, categories=levels)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "names_")
        names = []
        for col, kind in self.kinds_.items():
            n = self.names_[col]
            names += [f"{n}__month", f"{n}__dow", f"{n}__dom"] if kind == "datetime" else [n]
        return np.asarray(names, dtype=object)


def _is_text(values: pd.Series) -> bool:
    """Whether every non-missing value of ``values`` is a ``str`` (object or categorical)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(values.cat.categories) in ("string", "empty")
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    )


def _encoded(encoding: str) -> list[tuple[str, Any]]:
    """The steps that turn the raw frame into what an estimator of ``encoding`` takes."""
    if encoding == "native":  # pandas categoricals: LightGBM, HistGradientBoosting
        return [("encode", FrameEncoder(categorical="category"))]
    if encoding == "onehot":  # imputed, scaled numbers and one-hot categories: linear models
        numeric = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        )
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5)
        prep = ColumnTransformer(
            [
                ("num", numeric, make_column_selector(dtype_include="number")),
                ("cat", onehot, make_column_selector(dtype_exclude="number")),
            ],
            sparse_threshold=0.0,
        )
        return [("encode", FrameEncoder(categorical="string")), ("prep", prep)]
    if encoding == "ordinal":  # integer codes, numbers as they are (NaN kept): tree ensembles
        ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        prep = ColumnTransformer(
            [
                ("num", "passthrough", make_column_selector(dtype_include="number")),
                ("cat", ordinal, make_column_selector(dtype_exclude="number")),
            ],
            sparse_threshold=0.0,
        )
        return [("encode", FrameEncoder(categorical="string")), ("prep", prep)]
    raise ValueError(f"unknown encoding {encoding!r}; use native, onehot or ordinal")


def estimator_pipeline(
    seed: int, *, estimator: str, encoding: str, defaults: dict[str, Any], **params: Any
) -> Pipeline:
    """A model as a pipeline from the raw feature frame: encoding steps, then the estimator.

    Parameters
    ----------
    seed : int
        Passed as ``random_state`` when the estimator takes one.
    estimator : str
        ``"module:Class"`` of a scikit-learn classifier.
    encoding : {"native", "onehot", "ordinal"}
        How columns reach it (see :func:`_encoded`).
    defaults : dict
        salesml's defaults for the estimator; ``params`` override them.
    """
    from salesml.experiment.tasks import resolve

    cls = resolve(estimator)
    seeded = {"random_state": seed} if "random_state" in cls().get_params() else {}
    clf = cls(**{**defaults, **seeded, **params})
    return Pipeline([*_encoded(encoding), ("clf", clf)])


def threaded_fits() -> Any:
    """joblib's threading backend for the search and calibration fits.

    The fits release the GIL (LightGBM, liblinear, numpy) and share the training
    frame, where worker processes would each copy it and pay their start-up.
    """
    from joblib import parallel_backend

    return parallel_backend("threading")


def _serial_prediction(pipeline: Any) -> int | None:
    """Make a forest predict on one thread; return the ``n_jobs`` it had (None if no forest).

    A scikit-learn forest with ``n_jobs > 1`` adds its trees' probabilities in
    whatever order its threads finish, so two predictions of the same rows can
    differ in the last bits, and so can an isotonic calibration fitted on them.
    Its trees are still grown in parallel (each has its own seed) before this is called.
    """
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    clf = pipeline[-1] if isinstance(pipeline, Pipeline) else pipeline
    if not isinstance(clf, RandomForestClassifier | ExtraTreesClassifier):
        return None
    jobs, clf.n_jobs = clf.n_jobs, 1
    return jobs


def prediction_threads() -> int:
    """Threads a booster predicts on: ``OMP_NUM_THREADS`` when set (Spark sets it to each
    task's cores in its Python workers), else every core."""
    import os

    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return max(1, int(value)) if value.isdigit() else resolve_jobs(-1)


def predict_on_threads(model: Any, threads: int) -> None:
    """Make every LightGBM booster inside ``model`` predict on ``threads`` threads.

    Boosters are fitted on one thread each (the folds and trials run side by side);
    a prediction splits the rows between threads, each row summed by one thread in
    tree order, so the probabilities are the same to the last bit on any number of
    threads. A :class:`CalibratedModel`, a pipeline or a bare estimator.
    """
    from sklearn.calibration import CalibratedClassifierCV

    if isinstance(model, CalibratedModel):
        for part in (model.__dict__.get("uncalibrated_"), model.__dict__.get("calibrated_")):
            if part is not None and part is not model:
                predict_on_threads(part, threads)
    elif isinstance(model, CalibratedClassifierCV):
        for fold in getattr(model, "calibrated_classifiers_", []):
            predict_on_threads(fold.estimator, threads)
    elif isinstance(model, Pipeline):
        predict_on_threads(model[-1], threads)
    elif type(model).__module__.startswith("lightgbm"):
        model.n_jobs = threads


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities are calibrated on train folds.

    ``uncalibrated_`` is the model fitted on all train rows (what reasons explain and
    the Brier score before calibration is measured on). With ``ensemble=True`` the
    probabilities are the average of ``cv`` fold models, each calibrated on its
    held-out fold (:class:`~sklearn.calibration.CalibratedClassifierCV`); with
    ``ensemble=False`` they are ``uncalibrated_``'s, mapped by a
    :class:`~salesml.classify.calibration.ProbabilityMap` fitted on the fold models'
    out-of-fold probabilities: one model per prediction instead of ``cv``.

    Parameters
    ----------
    estimator : estimator
        The unfitted pipeline.
    method : {"isotonic", "sigmoid", "none"}
    cv : int
        Calibration folds (default :data:`~salesml.classify.registry.CALIBRATION_FOLDS`).
    seed : int
    n_jobs : int
        Threads for the calibration folds (-1: every core); each fold's fit is
        single-threaded and seeded, so the result does not depend on it.
    ensemble : bool
        Average the calibrated fold models (True) or map the refitted model (False).
    """

    def __init__(
        self,
        estimator: Any = None,
        method: str = "isotonic",
        cv: int = CALIBRATION_FOLDS,
        seed: int = 0,
        n_jobs: int = 1,
        ensemble: bool = True,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.seed = seed
        self.n_jobs = n_jobs
        self.ensemble = ensemble

    def fit(self, X: pd.DataFrame, y: Any) -> CalibratedModel:
        """Fit the uncalibrated estimator on all train rows, and the calibration on folds."""
        from salesml.classify.calibration import ProbabilityMap

        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.calibrator_: ProbabilityMap | None = None
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        if self.method != "none" and not self.ensemble:
            # the model on all rows and the fold models side by side, the longest first
            oof, self.uncalibrated_ = _out_of_fold(self.estimator, X, y, folds, self.n_jobs)
            self.calibrated_: Any = None
            self.calibrator_ = ProbabilityMap(self.method).fit(oof, y == self.classes_[-1])
        else:
            self.uncalibrated_ = clone(self.estimator).fit(X, y)
            _serial_prediction(self.uncalibrated_)
            self.calibrated_ = self.uncalibrated_
        if self.method != "none" and self.ensemble:
            serial = clone(self.estimator)
            # a forest's threads go to the folds instead: same speed, reproducible calibration
            jobs = _serial_prediction(serial)
            jobs = resolve_jobs(self.n_jobs) if jobs in (None, 1) else jobs
            cal = CalibratedClassifierCV(serial, method=self.method, cv=folds, n_jobs=jobs)
            with threaded_fits():
                self.calibrated_ = cal.fit(X, y)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        predict_on_threads(self, prediction_threads())
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "uncalibrated_")
        pos = self.calibrate(self.uncalibrated_.predict_proba(X)[:, 1])
        if pos is None:
            return self.calibrated_.predict_proba(X)
        return np.column_stack([1.0 - pos, pos])

    def calibrate(self, p: np.ndarray) -> np.ndarray | None:
        """``uncalibrated_``'s probabilities ``p`` as this model predicts them, or None when
        its prediction is an average of fold models (``ensemble=True``), not a map of ``p``."""
        check_is_fitted(self, "uncalibrated_")
        calibrator = self.__dict__.get("calibrator_")  # absent in models exported before it
        if calibrator is not None:
            return np.clip(calibrator.predict(p), 0.0, 1.0)
        if self.method == "none":
            return np.asarray(p)
        return None

    def predict_proba_uncalibrated(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "uncalibrated_")
        return self.uncalibrated_.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def _out_of_fold(
    estimator: Any, X: pd.DataFrame, y: np.ndarray, folds: StratifiedKFold, n_jobs: int
) -> tuple[np.ndarray, Any]:
    """Out-of-fold probabilities of the positive class, and the model fitted on all rows.

    The ``cv + 1`` fits run on ``n_jobs`` threads (each single-threaded and seeded, so
    nothing depends on the threads): the fit on all rows no longer waits alone while
    a core idles. Each fold model is a clone fitted on its training part, as
    :func:`~sklearn.model_selection.cross_val_predict` fits them.
    """
    from joblib import Parallel, delayed

    def fit(rows: np.ndarray | None) -> Any:
        model = clone(estimator)
        return model.fit(X, y) if rows is None else model.fit(X.iloc[rows], y[rows])

    splits = list(folds.split(X, y))
    with threaded_fits():
        fitted = Parallel(n_jobs=resolve_jobs(n_jobs))(
            delayed(fit)(rows) for rows in [None, *(train for train, _ in splits)]
        )
    oof = np.empty(len(y))
    for model, (_, held_out) in zip(fitted[1:], splits, strict=True):
        oof[held_out] = model.predict_proba(X.iloc[held_out])[:, 1]
    return oof, fitted[0]
