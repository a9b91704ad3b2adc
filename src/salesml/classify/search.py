"""The random hyper-parameter search of a model candidate (``search:`` in its config).

The same search as :class:`sklearn.model_selection.RandomizedSearchCV` with
``scoring="roc_auc"`` and ``refit=False`` (the same trials from
:class:`~sklearn.model_selection.ParameterSampler`, the same stratified folds, the
mean fold ROC-AUC, the first best trial), run differently:

- when the space only tunes the pipeline's last step (a model's ``clf__`` options),
  each fold is encoded once and every trial fits the estimator alone on the encoded
  rows; scikit-learn re-runs the encoding steps in each of the ``n_trials * cv`` fits;
- the held-out probabilities of every trial are kept, so the best trial's out-of-fold
  probabilities can calibrate the refitted model (:class:`SearchResult`) without
  fitting the folds again;
- each fold's ROC-AUC is the Mann-Whitney statistic (ties count half: scikit-learn's
  value) without scikit-learn's scorer and input checks.

A trial that fails raises: the candidate fails, naming the parameters, where
scikit-learn would score the trial NaN and warn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler, StratifiedKFold
from sklearn.pipeline import Pipeline

from salesml.classify.ranking import roc_auc
from salesml.runtime.threads import thread_map

__all__ = ["SearchResult", "tune"]


@dataclass(frozen=True)
class SearchResult:
    """What a search found.

    Attributes
    ----------
    estimator : Pipeline
        The unfitted pipeline with the best trial's parameters.
    params : dict
        The best trial's parameters (plain Python values).
    cv_roc_auc : float
        Its mean ROC-AUC over the held-out folds.
    out_of_fold : ndarray
        Its held-out probability of the positive class for every training row (each
        row predicted by the fold model that did not see it).
    folds : int
        How many folds predicted ``out_of_fold``.
    """

    estimator: Pipeline
    params: dict[str, Any]
    cv_roc_auc: float
    out_of_fold: np.ndarray
    folds: int


def tune(
    space: dict[str, list[Any]],
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    n_trials: int,
    cv: int,
    seed: int,
    n_jobs: int = 1,
) -> SearchResult:
    """Random search over ``space`` (a candidate's search space) with stratified CV on train only.

    Parameters
    ----------
    space : dict
        Pipeline parameter (``clf__num_leaves``) to the values to draw from.
    pipeline : Pipeline
        The unfitted candidate: encoding steps, then the estimator.
    X, y : DataFrame, array of 0/1
        The training rows.
    n_trials, cv, seed : int
        Trials drawn, stratified folds, and the seed of both.
    n_jobs : int
        Threads the ``n_trials * cv`` fits run on (-1: every core); each fit is
        single-threaded and seeded, so the result does not depend on it.

    Returns
    -------
    SearchResult
    """
    y = np.asarray(y)
    trials = list(ParameterSampler(space, n_trials, random_state=seed))
    splits = list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(X, y))
    last = pipeline.steps[-1][0]
    prefix = f"{last}__"
    if len(pipeline.steps) > 1 and all(k.startswith(prefix) for k in space):
        encoder, estimator = pipeline[:-1], pipeline.steps[-1][1]
        encoded = [_encode(encoder, X, y, train, held) for train, held in splits]

        def fit(trial: dict[str, Any], k: int) -> np.ndarray:
            params = {key[len(prefix) :]: v for key, v in trial.items()}
            X_fit, X_held = encoded[k]
            model = clone(estimator).set_params(**params)
            return model.fit(X_fit, y[splits[k][0]]).predict_proba(X_held)[:, 1]

    else:

        def fit(trial: dict[str, Any], k: int) -> np.ndarray:
            train, held = splits[k]
            model = clone(pipeline).set_params(**trial)
            return model.fit(X.iloc[train], y[train]).predict_proba(X.iloc[held])[:, 1]

    jobs = [(i, k) for i in range(len(trials)) for k in range(cv)]
    held_out = thread_map(lambda job: _trial_fold(fit, trials[job[0]], job[1]), jobs, n_jobs)
    scores = np.array(
        [roc_auc(p, y[splits[k][1]]) for p, (_, k) in zip(held_out, jobs, strict=True)]
    )
    means = scores.reshape(len(trials), cv).mean(axis=1)
    best_index = int(np.argmax(means))  # the first of equals, as scikit-learn's rank 1
    out_of_fold = np.empty(len(y))
    for k, (_, held) in enumerate(splits):
        out_of_fold[held] = held_out[best_index * cv + k]
    best = {k: (v.item() if hasattr(v, "item") else v) for k, v in trials[best_index].items()}
    return SearchResult(
        estimator=clone(pipeline).set_params(**best),
        params=best,
        cv_roc_auc=float(means[best_index]),
        out_of_fold=out_of_fold,
        folds=cv,
    )


def _encode(
    encoder: Pipeline, X: pd.DataFrame, y: np.ndarray, train: np.ndarray, held: np.ndarray
) -> tuple[Any, Any]:
    """One fold's training and held-out rows through the encoding steps fitted on its training rows."""
    fitted = clone(encoder)
    return fitted.fit_transform(X.iloc[train], y[train]), fitted.transform(X.iloc[held])


def _trial_fold(fit: Any, trial: dict[str, Any], k: int) -> np.ndarray:
    """One trial on one fold; a failure names the trial's parameters."""
    try:
        return fit(trial, k)
    except Exception as exc:
        shown = ", ".join(f"{key}={v!r}" for key, v in trial.items())
        raise RuntimeError(
            f"search trial ({shown}), fold {k + 1}: {type(exc).__name__}: {exc}"
        ) from exc
