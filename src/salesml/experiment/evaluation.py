"""Metrics with bootstrap confidence intervals, and paired bootstrap differences.

Every metric is computed from frequency weights, so one code path gives the
point estimate (all weights 1) and each bootstrap replicate (weights = how
often each row was drawn). Replicates are vectorised in chunks and drawn from
a seeded generator, so two candidates evaluated with the same seed see the
very same resamples: their differences are paired. Chunks are evaluated on
``n_jobs`` threads (numpy releases the GIL in its array loops; default every
core); the draws stay in one thread and in order, so the result does not
depend on ``n_jobs`` or the chunk size.

Ties in scores are handled exactly: tied rows are treated as one group, as
scikit-learn does for ROC-AUC and average precision, and the top-k metrics
(lift, capture) take the expected value under random tie-breaking, so a
constant score gets lift 1.0 rather than whatever the row order gives.

How many units an interval needs
--------------------------------
A bootstrap resamples *units*: test rows of a classifier, series of a
forecast, or, for a forecast of fewer series than the minimum, blocks of
consecutive backtest periods (a circular block bootstrap,
:func:`circular_block_weights`; the block is the forecast horizon, see
:mod:`salesml.forecast.metrics`). Below :data:`MIN_UNITS` units (10) there is
no interval and no verdict: the comparison says "not enough data to tell"
(:class:`NotEnoughData`) and no champion is registered. Why 10: even in the
best case (independent, normal units) a percentile bootstrap interval of a
mean is ``mean +/- z * s * sqrt((n - 1) / n) / sqrt(n)``, so a nominal 95 %
interval covers ``P(|t_{n-1}| < 1.96 sqrt((n - 1) / n))``: 0.85 at 5 units,
0.89 at 8, 0.90 at 10, 0.93 at 20. Ten is the smallest count at which the
interval still covers nine times in ten; a single unit (one series) gives an
interval of zero width, which is no interval at all. For a classifier the
count is the smaller class of the test rows (ROC-AUC and PR-AUC average over
positive-negative pairs, so the rarer class bounds what they can tell).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from salesml.experiment.bootstrap import (  # noqa: F401  (part of this module's API)
    bootstrap_map,
    bootstrap_weights,
    chunk_size,
    circular_block_weights,
    shared_replicates,
)

CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "capture_at_20")
LOWER_IS_BETTER = {"brier", "log_loss", "mase", "wape", "smape", "rmsse", "abs_bias"}
_EPS = 1e-15
_LOG_EPS = float(np.finfo(float).eps)
# Fewer resampling units than this: no interval, no verdict (see the module docstring).
MIN_UNITS = 10


class NotEnoughData(ValueError):
    """Too few resampling units for a confidence interval.

    Parameters
    ----------
    reason : str
        What was counted and what is needed, in words for the verdict line.
    point : float, optional
        The point estimate, which exists even when its interval does not.
    """

    def __init__(self, reason: str, point: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.point = point


def class_units(y: np.ndarray) -> int:
    """Resampling units of a classifier's test rows: the count of the smaller class."""
    y = np.asarray(y).astype(bool)
    return int(min(y.sum(), (~y).sum()))


def class_shortfall(y: np.ndarray, confidence: float, minimum: int = MIN_UNITS) -> str | None:
    """Why ``y`` is too few test rows for an interval, or None when it is enough."""
    y = np.asarray(y).astype(bool)
    if class_units(y) >= minimum:
        return None
    from salesml.experiment.results import ci_label

    return (
        f"the test part has {int(y.sum())} positive and {int((~y).sum())} negative rows; "
        f"a {ci_label(confidence)} needs at least {minimum} of each"
    )


class Ranking:
    """The rows of one score sorted once, for :meth:`groups` of many weight blocks.

    Groups of tied scores, best score first; each class's rows in that order with the
    group each falls in. Sorting and finding the ties is done here once instead of
    for every bootstrap block, and a block's weights are gathered once per row.
    """

    def __init__(self, y: np.ndarray, p: np.ndarray) -> None:
        y = np.asarray(y).astype(bool)
        p = np.asarray(p, dtype=float)
        order = np.argsort(-p, kind="mergesort")
        ps, ys = p[order], y[order]
        first = np.r_[True, ps[1:] != ps[:-1]] if len(ps) else np.zeros(0, dtype=bool)
        group = np.cumsum(first) - 1
        self.n_groups = int(first.sum())
        self._parts = [self._part(order[cls], group[cls]) for cls in (ys, ~ys)]

    @staticmethod
    def _part(rows: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(rows) else rows
        return rows, starts, group[starts] if len(rows) else rows

    def groups(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted positives and negatives per group, arrays of shape ``(b, groups)``."""
        out = []
        for rows, starts, groups in self._parts:
            sums = np.zeros((w.shape[0], self.n_groups))
            if len(rows):
                # np.take gathers twice as fast as w[:, rows]
                sums[:, groups] = np.add.reduceat(np.take(w, rows, axis=1), starts, axis=1)
            out.append(sums)
        return out[0], out[1]


def ranked_groups(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted positives and negatives per group of tied scores, best score first.

    Parameters
    ----------
    y : bool array of shape (n,)
    p : float array of shape (n,)
    w : array of shape (b, n)
        One row of frequency weights per evaluation.

    Returns
    -------
    tuple of arrays of shape (b, groups)
    """
    return Ranking(y, p).groups(w)


def weighted_classification_metrics(
    y: np.ndarray,
    p: np.ndarray,
    weights: np.ndarray | None = None,
    ranking: Ranking | None = None,
) -> dict[str, np.ndarray]:
    """Classification metrics for each row of ``weights``.

    Parameters
    ----------
    y : array of shape (n,)
        Binary outcomes (0/1).
    p : array of shape (n,)
        Predicted probabilities of the positive class (any monotone score works
        for ROC-AUC, PR-AUC, lift and capture).
    weights : array of shape (b, n), optional
        Frequency weights; one row per evaluation. Default: a single row of ones.
    ranking : Ranking, optional
        ``Ranking(y, p)``, made once by a caller evaluating many weight blocks.

    Returns
    -------
    dict of str to array of shape (b,)
        ``roc_auc, pr_auc, brier, log_loss, lift_at_10, capture_at_20``.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    w = np.ones((1, len(y))) if weights is None else np.atleast_2d(weights)
    wpos, wneg = (ranking or Ranking(y, p)).groups(w)
    pos, neg = wpos.sum(1), wneg.sum(1)
    total = pos + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        cum_neg = np.cumsum(wneg, axis=1)
        tp = np.cumsum(wpos, axis=1)
        # Sums of products of whole (or half) counts: exact in any order (einsum: no temporaries).
        above = np.einsum("ij,ij->i", wpos, neg[:, None] - cum_neg)
        auc = (above + 0.5 * np.einsum("ij,ij->i", wpos, wneg)) / (pos * neg)
        ranked = tp + cum_neg  # rows ranked at or above each group
        ap = np.einsum("ij,ij->i", wpos, tp / np.maximum(ranked, _EPS)) / pos
        # Clipped at machine epsilon as scikit-learn's log_loss does, so p of exactly
        # 0 or 1 (isotonic baselines give them) scores the same in both.
        pc = np.clip(p, _LOG_EPS, 1 - _LOG_EPS)
        brier = w @ (p - y) ** 2 / total
        ll = w @ -(y * np.log(pc) + (~y) * np.log1p(-pc)) / total
        lift = (_found(0.10, total, ranked, tp, wpos) / (0.10 * total)) / (pos / total)
        capture = _found(0.20, total, ranked, tp, wpos) / pos
    return {
        "roc_auc": auc,
        "pr_auc": ap,
        "brier": brier,
        "log_loss": ll,
        "lift_at_10": lift,
        "capture_at_20": capture,
    }


def _found(
    q: float, total: np.ndarray, ranked: np.ndarray, tp: np.ndarray, wpos: np.ndarray
) -> np.ndarray:
    """Weighted positives among the top ``q`` of the weighted rows, per replicate.

    Every group ranked wholly inside the top ``q`` counts whole, the group the cut
    falls in counts pro rata (ties share the cut evenly), the rest not at all.
    """
    out = np.zeros(len(total))
    for b in range(len(total)):
        cut = q * total[b]
        k = int(np.searchsorted(ranked[b], cut, side="right"))  # groups wholly inside
        out[b] = tp[b, k - 1] if k > 0 else 0.0
        if k < ranked.shape[1]:
            before = ranked[b, k - 1] if k > 0 else 0.0
            size = ranked[b, k] - before
            out[b] += min(max((cut - before) / max(size, _EPS), 0.0), 1.0) * wpos[b, k]
    return out


def interval(values: np.ndarray, confidence: float) -> list[float]:
    """The central ``confidence`` percentile interval of bootstrap ``values``.

    Count the units first (:data:`MIN_UNITS`): the interval of too few units is
    too narrow, and that of one unit has zero width.
    """
    alpha = (1 - confidence) / 2
    lo, hi = np.nanquantile(values, [alpha, 1 - alpha])
    return [float(lo), float(hi)]


def classification_report(
    y: np.ndarray,
    p: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    n_jobs: int | None = None,
    min_units: int = MIN_UNITS,
) -> dict[str, float | list[float]]:
    """Point estimates and percentile bootstrap CIs of every classification metric.

    ``n_jobs`` threads evaluate the replicates (default every core). With fewer
    than ``min_units`` rows of either class (:func:`class_units`) there are
    point estimates only, no ``<metric>_ci``.

    Returns
    -------
    dict
        ``{"roc_auc": 0.81, "roc_auc_ci": [0.79, 0.83], ...}``
    """
    point = weighted_classification_metrics(y, p)
    if class_units(y) < min_units:
        return {k: float(v[0]) for k, v in point.items()}
    reps: dict[str, list[np.ndarray]] = {k: [] for k in point}
    ranking = Ranking(y, p)

    def metrics(w: np.ndarray) -> dict[str, np.ndarray]:
        return weighted_classification_metrics(y, p, w, ranking)

    for chunk in bootstrap_map(metrics, len(y), n_boot, seed, n_jobs):
        for k, v in chunk.items():
            reps[k].append(v)
    out: dict[str, float | list[float]] = {}
    for k, v in point.items():
        out[k] = float(v[0])
        out[f"{k}_ci"] = interval(np.concatenate(reps[k]), confidence)
    return out


def paired_difference(
    statistic: Callable[[np.ndarray | None], np.ndarray],
    n: int,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    n_jobs: int | None = None,
    block: int | None = None,
) -> tuple[float, list[float]]:
    """Point value and bootstrap CI of a statistic of paired data.

    Parameters
    ----------
    statistic : callable
        ``statistic(weights)`` returns one value per row of ``weights``
        (``weights=None`` means the point estimate), e.g. a metric of model A
        minus the same metric of model B on the same rows.
    n : int
        Number of resampled units (rows, or series for forecasts).
    n_jobs : int, optional
        Threads evaluating the replicates (default every core).
    block : int, optional
        Resample blocks of ``block`` consecutive units (circular block bootstrap,
        :func:`circular_block_weights`) instead of single units.
    """
    point = float(np.asarray(statistic(None)).ravel()[0])
    reps = np.concatenate(bootstrap_map(statistic, n, n_boot, seed, n_jobs, block))
    return point, interval(reps, confidence)


def metric_difference(
    y: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    metric: str = "roc_auc",
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    n_jobs: int | None = None,
    min_units: int = MIN_UNITS,
) -> tuple[float, list[float]]:
    """``metric(A) - metric(B)`` on the same test rows, with a paired bootstrap CI.

    Raises
    ------
    NotEnoughData
        With fewer than ``min_units`` test rows of either class (the point
        difference is on the exception).
    """

    rank_a, rank_b = Ranking(y, p_a), Ranking(y, p_b)

    def stat(w: np.ndarray | None) -> np.ndarray:
        return (
            weighted_classification_metrics(y, p_a, w, rank_a)[metric]
            - weighted_classification_metrics(y, p_b, w, rank_b)[metric]
        )

    short = class_shortfall(y, confidence, min_units)
    if short is not None:
        raise NotEnoughData(short, float(stat(None)[0]))
    return paired_difference(stat, len(y), n_boot, seed, confidence, n_jobs)


def mean_difference(
    a: np.ndarray,
    b: np.ndarray,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    n_jobs: int | None = None,
) -> tuple[float, list[float]]:
    """``mean(a - b)`` over paired units (e.g. MASE per series), with a bootstrap CI."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)

    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            return np.array([diff.mean()])
        return w @ diff / w.sum(1)

    return paired_difference(stat, len(diff), n_boot, seed, confidence, n_jobs)
