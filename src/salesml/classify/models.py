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

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from salesml.classify.registry import CALIBRATION_FOLDS
from salesml.io.encoding import MISSING, FrameEncoder, _is_text, _safe_name, encoding_steps  # noqa: F401
from salesml.runtime.threads import resolve_jobs


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
        How columns reach it (see :func:`salesml.io.encoding.encoding_steps`).
    defaults : dict
        salesml's defaults for the estimator; ``params`` override them.
    """
    from salesml.experiment.tasks import resolve

    cls = resolve(estimator)
    seeded = {"random_state": seed} if "random_state" in cls().get_params() else {}
    clf = cls(**{**defaults, **seeded, **params})
    return Pipeline([*encoding_steps(encoding), ("clf", clf)])


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
    fold_models : int, optional
        With ``ensemble=False``: fit only the first ``fold_models`` of the ``cv`` fold
        models and fit the map on their held-out rows (None: all folds, every row).
    """

    def __init__(
        self,
        estimator: Any = None,
        method: str = "isotonic",
        cv: int = CALIBRATION_FOLDS,
        seed: int = 0,
        n_jobs: int = 1,
        ensemble: bool = True,
        fold_models: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.seed = seed
        self.n_jobs = n_jobs
        self.ensemble = ensemble
        self.fold_models = fold_models

    def fit(
        self, X: pd.DataFrame, y: Any, out_of_fold: np.ndarray | None = None
    ) -> CalibratedModel:
        """Fit the uncalibrated estimator on all train rows, and the calibration on folds.

        Parameters
        ----------
        X, y : the training rows
        out_of_fold : array, optional
            With ``ensemble=False``: ``estimator``'s held-out probabilities of the
            positive class for every row of ``X``, already computed on folds (a
            search's best trial, :class:`~salesml.classify.search.SearchResult`). The
            map is fitted on them and only the model on all rows is fitted here.
        """
        from salesml.classify.calibration import ProbabilityMap

        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.calibrator_: ProbabilityMap | None = None
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        if out_of_fold is not None and (self.ensemble or len(out_of_fold) != len(y)):
            raise ValueError(
                "out_of_fold needs ensemble=False and one probability per training row, "
                f"got {len(out_of_fold)} for {len(y)} rows (ensemble={self.ensemble})"
            )
        if self.method != "none" and not self.ensemble:
            if out_of_fold is None:
                # the model on all rows and the fold models side by side, the longest first
                oof, self.uncalibrated_ = _out_of_fold(
                    self.estimator, X, y, folds, self.n_jobs, self.fold_models
                )
            else:
                oof, self.uncalibrated_ = out_of_fold, clone(self.estimator).fit(X, y)
            self.calibrated_: Any = None
            held = ~np.isnan(oof)  # every row, or the held-out rows of the fold models fitted
            self.calibrator_ = ProbabilityMap(self.method).fit(
                oof[held], y[held] == self.classes_[-1]
            )
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
    estimator: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    folds: StratifiedKFold,
    n_jobs: int,
    fold_models: int | None = None,
) -> tuple[np.ndarray, Any]:
    """Out-of-fold probabilities of the positive class, and the model fitted on all rows.

    The ``cv + 1`` fits run on ``n_jobs`` threads (each single-threaded and seeded, so
    nothing depends on the threads): the fit on all rows no longer waits alone while
    a core idles. Each fold model is a clone fitted on its training part, as
    :func:`~sklearn.model_selection.cross_val_predict` fits them. With ``fold_models``
    only the first folds are fitted; the rows none of them held out are NaN.
    """
    from salesml.runtime.threads import thread_map

    def fit(rows: np.ndarray | None) -> Any:
        model = clone(estimator)
        return model.fit(X, y) if rows is None else model.fit(X.iloc[rows], y[rows])

    splits = list(folds.split(X, y))[:fold_models]
    fitted = thread_map(fit, [None, *(train for train, _ in splits)], n_jobs)
    oof = np.full(len(y), np.nan)
    for model, (_, held_out) in zip(fitted[1:], splits, strict=True):
        oof[held_out] = model.predict_proba(X.iloc[held_out])[:, 1]
    return oof, fitted[0]
