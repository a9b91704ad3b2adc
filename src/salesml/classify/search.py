"""The random hyper-parameter search of a model candidate (``search:`` in its config)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from salesml.classify.models import threaded_fits
from salesml.experiment.evaluation import resolve_jobs

__all__ = ["tune"]


def tune(
    space: dict[str, list[Any]],
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: np.ndarray,
    n_trials: int,
    cv: int,
    seed: int,
    n_jobs: int = 1,
) -> tuple[Pipeline, dict[str, Any], float]:
    """Random search over ``space`` (a candidate's search space) with stratified CV on train only.

    The ``n_trials * cv`` fits run on ``n_jobs`` threads (-1: every core); each fit is
    single-threaded and seeded, so the result does not depend on ``n_jobs``.

    Returns the unfitted best pipeline, its parameters and its mean CV ROC-AUC.
    """
    search = RandomizedSearchCV(
        pipeline,
        space,
        n_iter=n_trials,
        scoring="roc_auc",
        cv=StratifiedKFold(cv, shuffle=True, random_state=seed),
        random_state=seed,
        n_jobs=resolve_jobs(n_jobs),
        refit=False,
    )
    with threaded_fits():
        search.fit(X, y)
    best = {k: (v.item() if hasattr(v, "item") else v) for k, v in search.best_params_.items()}
    return clone(pipeline).set_params(**best), best, float(search.best_score_)
