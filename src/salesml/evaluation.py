"""Metrics with bootstrap confidence intervals, and paired bootstrap differences.

Every metric is computed from frequency weights, so one code path gives the
point estimate (all weights 1) and each bootstrap replicate (weights = how
often each row was drawn). Replicates are vectorised in chunks and drawn from
a seeded generator, so two candidates evaluated with the same seed see the
very same resamples: their differences are paired.

Ties in scores are handled exactly: tied rows are treated as one group, as
scikit-learn does for ROC-AUC and average precision, and the top-k metrics
(lift, capture) take the expected value under random tie-breaking, so a
constant score gets lift 1.0 rather than whatever the row order gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10", "capture_at_20")
LOWER_IS_BETTER = {"brier", "log_loss", "mase", "wape", "smape", "rmsse", "abs_bias"}
_EPS = 1e-15
_LOG_EPS = float(np.finfo(float).eps)


def bootstrap_weights(n: int, n_boot: int, seed: int, chunk: int = 100) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` arrays of bootstrap frequency weights, deterministically.

    Parameters
    ----------
    n : int
        Number of rows (or series) resampled.
    n_boot : int
        Total number of replicates across all chunks.
    seed : int
        Same seed, same replicates: this is what pairs two candidates.
    chunk : int
        Replicates per yielded block, to bound memory.
    """
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        flat = (idx + np.arange(b)[:, None] * n).ravel()
        yield np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)
        done += b


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
    order = np.argsort(-p, kind="mergesort")
    ps, ys, ws = p[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    wpos = np.add.reduceat(ws * ys, starts, axis=1)
    wneg = np.add.reduceat(ws * ~ys, starts, axis=1)
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


def _interval(values: np.ndarray, confidence: float) -> list[float]:
    alpha = (1 - confidence) / 2
    lo, hi = np.nanquantile(values, [alpha, 1 - alpha])
    return [float(lo), float(hi)]


def classification_report(
    y: np.ndarray, p: np.ndarray, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, float | list[float]]:
    """Point estimates and percentile bootstrap CIs of every classification metric.

    Returns
    -------
    dict
        ``{"roc_auc": 0.81, "roc_auc_ci": [0.79, 0.83], ...}``
    """
    point = weighted_classification_metrics(y, p)
    reps: dict[str, list[np.ndarray]] = {k: [] for k in point}
    for w in bootstrap_weights(len(y), n_boot, seed):
        for k, v in weighted_classification_metrics(y, p, w).items():
            reps[k].append(v)
    out: dict[str, float | list[float]] = {}
    for k, v in point.items():
        out[k] = float(v[0])
        out[f"{k}_ci"] = _interval(np.concatenate(reps[k]), confidence)
    return out


def paired_difference(
    statistic: Callable[[np.ndarray | None], np.ndarray],
    n: int,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
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
    """
    point = float(np.asarray(statistic(None)).ravel()[0])
    reps = np.concatenate([statistic(w) for w in bootstrap_weights(n, n_boot, seed)])
    return point, _interval(reps, confidence)


def metric_difference(
    y: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    metric: str = "roc_auc",
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, list[float]]:
    """``metric(A) - metric(B)`` on the same test rows, with a paired bootstrap CI."""

    def stat(w: np.ndarray | None) -> np.ndarray:
        return (
            weighted_classification_metrics(y, p_a, w)[metric]
            - weighted_classification_metrics(y, p_b, w)[metric]
        )

    return paired_difference(stat, len(y), n_boot, seed, confidence)


def mean_difference(
    a: np.ndarray, b: np.ndarray, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, list[float]]:
    """``mean(a - b)`` over paired units (e.g. MASE per series), with a bootstrap CI."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)

    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            return np.array([diff.mean()])
        return w @ diff / w.sum(1)

    return paired_difference(stat, len(diff), n_boot, seed, confidence)
