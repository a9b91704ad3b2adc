"""Permutation importance in one prediction call per batch of columns.

The same measure as :func:`sklearn.inspection.permutation_importance` with
``scoring="roc_auc"`` (the score on the rows as they are minus the mean score with
one column's values shuffled, ``n_repeats`` shuffles per column), computed
differently: every shuffled copy of the rows is stacked into one frame and the
model predicts it at once. scikit-learn calls the model once per column and
repeat, and each call pays the pipeline's encoding and the booster's set-up again;
on the Telco experiment that was 3.2 s of a 19 s run, against 2.2 s here (the rest
is the predictions themselves: as many rows are predicted either way). Each shuffled
block's ROC-AUC is the Mann-Whitney statistic (:func:`~salesml.classify.ranking.roc_auc`,
ties counted half: scikit-learn's value) without scikit-learn's input checks, which took
a third of the time on Telco's 228 blocks.
The shuffles come from ``numpy.random.default_rng(seed)``, so the values differ
from scikit-learn's in the noise of the shuffles, not in what they measure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["permutation_importance"]

#: Stacked rows predicted at once (bounds the memory of wide frames).
BATCH_ROWS = 200_000


def permutation_importance(
    model: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    n_repeats: int = 3,
    seed: int = 0,
) -> pd.Series:
    """Mean drop in ROC-AUC when each column's values are shuffled.

    Parameters
    ----------
    model : classifier
        Fitted, with ``predict_proba`` on a frame shaped like ``X``.
    X : DataFrame
        The rows to shuffle (test rows; a sample of them for large tests).
    y : array of 0/1
        Their outcomes; both classes must be present.
    n_repeats : int
        Shuffles per column.
    seed : int
        Seeds the shuffles.

    Returns
    -------
    Series
        One value per column of ``X`` (indexed by column), larger = more important;
        near 0 or negative for a column the model does not use.
    """
    from salesml.classify.ranking import roc_auc

    y = np.asarray(y)
    n, columns = len(X), list(X.columns)
    rng = np.random.default_rng(seed)
    shuffles = {j: [rng.permutation(n) for _ in range(n_repeats)] for j in range(len(columns))}
    base = roc_auc(model.predict_proba(X)[:, 1], y)
    drops = np.zeros(len(columns))
    per_batch = max(1, BATCH_ROWS // max(n * n_repeats, 1))
    for start in range(0, len(columns), per_batch):
        batch = list(range(start, min(start + per_batch, len(columns))))
        p = model.predict_proba(_stacked(X, batch, shuffles))[:, 1]
        blocks = p.reshape(len(batch) * n_repeats, n)
        for k, j in enumerate(batch):
            scores = [roc_auc(blocks[k * n_repeats + r], y) for r in range(n_repeats)]
            drops[j] = base - float(np.mean(scores))
    return pd.Series(drops, index=X.columns)


def _stacked(X: pd.DataFrame, batch: list[int], shuffles: dict[int, list[np.ndarray]]) -> Any:
    """``X`` repeated once per (column in ``batch``, repeat), that column shuffled in its block.

    Columns keep their dtype (categoricals, dates, text), so the model sees what it
    would see in ``X``; the index is a fresh range.
    """
    n = len(X)
    repeats = len(shuffles[batch[0]])
    base = np.tile(np.arange(n), len(batch) * repeats)
    columns = {}
    for j, col in enumerate(X.columns):
        rows = base
        if j in batch:
            rows = base.copy()
            first = batch.index(j) * repeats
            for r, order in enumerate(shuffles[j]):
                rows[(first + r) * n : (first + r + 1) * n] = order
        columns[col] = X[col].take(rows).reset_index(drop=True)
    return pd.DataFrame(columns)
