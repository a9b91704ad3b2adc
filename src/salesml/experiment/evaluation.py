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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np

T = TypeVar("T")

CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "capture_at_20")
LOWER_IS_BETTER = {"brier", "log_loss", "mase", "wape", "smape", "rmsse", "abs_bias"}
_EPS = 1e-15
_LOG_EPS = float(np.finfo(float).eps)


# Replicates per chunk: at most 100, fewer for long test sets so a (chunk, n) block of
# weights stays near 32 MB and the threads have several chunks to share.
_BLOCK = 4_000_000


def chunk_size(n: int) -> int:
    """Replicates per chunk for ``n`` resampled units (100, fewer above 40,000 units)."""
    return max(1, min(100, _BLOCK // max(n, 1)))


def bootstrap_weights(
    n: int, n_boot: int, seed: int, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` arrays of bootstrap frequency weights, deterministically.

    Parameters
    ----------
    n : int
        Number of rows (or series) resampled.
    n_boot : int
        Total number of replicates across all chunks.
    seed : int
        Same seed, same replicates: this is what pairs two candidates.
    chunk : int, optional
        Replicates per yielded block, to bound memory (default :func:`chunk_size`).
        The replicates do not depend on it.
    """
    chunk = chunk or chunk_size(n)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        flat = (idx + np.arange(b)[:, None] * n).ravel()
        yield np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)
        done += b


def resolve_jobs(n_jobs: int | None) -> int:
    """Threads for ``n_jobs``: None or a negative value means every core."""
    if n_jobs is None or n_jobs < 0:
        return max(1, os.cpu_count() or 1)
    return max(1, n_jobs)


def bootstrap_map(
    statistic: Callable[[np.ndarray], T], n: int, n_boot: int, seed: int, n_jobs: int | None = None
) -> list[T]:
    """``statistic`` of every chunk of :func:`bootstrap_weights`, in order, on ``n_jobs`` threads.

    The weights are drawn in this thread, in order, and at most ``2 * n_jobs``
    chunks are held at once, so memory stays bounded and the results equal a
    serial loop's.
    """
    jobs = resolve_jobs(n_jobs)
    chunks = bootstrap_weights(n, n_boot, seed)
    if jobs == 1:
        return [statistic(w) for w in chunks]
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    out: list[T] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        for w in chunks:
            pending.append(pool.submit(statistic, w))
            if len(pending) >= 2 * jobs:
                out.append(pending.popleft().result())
        out.extend(f.result() for f in pending)
    return out


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
    order = np.argsort(-p, kind="mergesort")
    ps, ys, ws = p[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    return np.add.reduceat(ws * ys, starts, axis=1), np.add.reduceat(ws * ~ys, starts, axis=1)


def weighted_classification_metrics(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None
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

    Returns
    -------
    dict of str to array of shape (b,)
        ``roc_auc, pr_auc, brier, log_loss, lift_at_10, capture_at_20``.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    w = np.ones((1, len(y))) if weights is None else np.atleast_2d(weights)
    wpos, wneg = ranked_groups(y, p, w)
    pos, neg = wpos.sum(1), wneg.sum(1)
    total = pos + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        cum_neg = np.cumsum(wneg, axis=1)
        auc = (wpos * (neg[:, None] - cum_neg + 0.5 * wneg)).sum(1) / (pos * neg)
        tp = np.cumsum(wpos, axis=1)
        ap = (wpos * tp / np.maximum(tp + cum_neg, _EPS)).sum(1) / pos
        # Clipped at machine epsilon as scikit-learn's log_loss does, so p of exactly
        # 0 or 1 (isotonic baselines give them) scores the same in both.
        pc = np.clip(p, _LOG_EPS, 1 - _LOG_EPS)
        brier = w @ (p - y) ** 2 / total
        ll = w @ -(y * np.log(pc) + (~y) * np.log1p(-pc)) / total
        group = wpos + wneg
        prev = np.cumsum(group, axis=1) - group

        def found(q: float) -> np.ndarray:
            frac = np.clip((q * total[:, None] - prev) / np.maximum(group, _EPS), 0.0, 1.0)
            return (frac * wpos).sum(1)

        lift = (found(0.10) / (0.10 * total)) / (pos / total)
        capture = found(0.20) / pos
    return {
        "roc_auc": auc,
        "pr_auc": ap,
        "brier": brier,
        "log_loss": ll,
        "lift_at_10": lift,
        "capture_at_20": capture,
    }


def interval(values: np.ndarray, confidence: float) -> list[float]:
    """The central ``confidence`` percentile interval of bootstrap ``values``."""
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
) -> dict[str, float | list[float]]:
    """Point estimates and percentile bootstrap CIs of every classification metric.

    ``n_jobs`` threads evaluate the replicates (default every core).

    Returns
    -------
    dict
        ``{"roc_auc": 0.81, "roc_auc_ci": [0.79, 0.83], ...}``
    """
    point = weighted_classification_metrics(y, p)
    reps: dict[str, list[np.ndarray]] = {k: [] for k in point}

    def metrics(w: np.ndarray) -> dict[str, np.ndarray]:
        return weighted_classification_metrics(y, p, w)

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
    """
    point = float(np.asarray(statistic(None)).ravel()[0])
    reps = np.concatenate(bootstrap_map(statistic, n, n_boot, seed, n_jobs))
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
) -> tuple[float, list[float]]:
    """``metric(A) - metric(B)`` on the same test rows, with a paired bootstrap CI."""

    def stat(w: np.ndarray | None) -> np.ndarray:
        return (
            weighted_classification_metrics(y, p_a, w)[metric]
            - weighted_classification_metrics(y, p_b, w)[metric]
        )

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
