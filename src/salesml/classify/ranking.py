"""ROC-AUC by counting: the Mann-Whitney statistic, ties counted half (scikit-learn's value).

Without :func:`sklearn.metrics.roc_auc_score`'s input checks, which cost more than the
statistic on the small blocks the search, permutation importance and the leakage
checks score by the hundred.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grouped_auc", "roc_auc"]


def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC of ``score`` for the 0/1 labels ``y`` (Mann-Whitney, ties count half).

    0.5 when ``y`` has one class only.
    """
    uniq, inv = np.unique(score, return_inverse=True)
    pos = np.bincount(inv, weights=y, minlength=len(uniq))
    return grouped_auc(uniq, pos, np.bincount(inv, minlength=len(uniq)) - pos)


def grouped_auc(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC-AUC from distinct scores and the positives and negatives holding each."""
    n1, n0 = pos.sum(), neg.sum()
    if n1 == 0 or n0 == 0:
        return 0.5
    order = np.argsort(score, kind="stable")
    pos, neg = pos[order], neg[order]
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (n1 * n0))
