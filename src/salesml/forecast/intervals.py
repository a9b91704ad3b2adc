"""Prediction intervals of a backtest: split-conformal per horizon step, and their score.

The score of an error is ``|y - yhat| / scale`` (the series' in-sample
seasonal-naive MAE, MASE's scale, from the training part of its window), so
errors of series of different size pool into one quantile per horizon step.
A backtest window is calibrated only on windows that ended before its origin
(honest); the exported model on every window (:func:`final_quantiles`). Each
row is calibrated on rows of its own forecasting form (a fallback's forecasts
are not the model's). :func:`quantile_loss` scores the bounds as quantiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def conformal_quantiles(
    errors: np.ndarray, steps: np.ndarray, horizon: int, levels: list[int]
) -> dict[int, np.ndarray]:
    """Split-conformal quantiles of scaled absolute errors, per horizon step.

    For ``n`` errors at a step the ``level`` quantile is the
    ``ceil((n + 1) * level / 100)``-th smallest (the largest if that exceeds ``n``).
    """
    out = {lv: np.full(horizon, np.nan) for lv in levels}
    for s in range(1, horizon + 1):
        vals = np.sort(errors[steps == s])
        if len(vals) == 0:
            continue
        for lv in levels:
            rank = min(int(np.ceil((len(vals) + 1) * lv / 100)), len(vals))
            out[lv][s - 1] = vals[rank - 1]
    return out


# Adaptive conformal step per backtest window (see add_intervals): 1 moves the next
# window's miscoverage target by the whole gap seen (a window's miss rate averages
# series x horizon points, so one window is a low-noise estimate of the gap).
ADAPT_STEP = 1.0

MODEL_FORM = "model"  # the form of a row forecast by the candidate's own model (no fallback)


def min_calibration(levels: list[int]) -> int:
    """Errors per step a conformal quantile needs to be finite at every level.

    ``ceil((n + 1) * level / 100) <= n`` holds from ``n = ceil(100 / (100 - level)) - 1``
    (19 at 95 %); fewer errors give the largest one, which under-states the quantile.
    """
    return max((int(np.ceil(100 / (100 - lv))) - 1 for lv in levels), default=1)


def forms_of(fc: pd.DataFrame) -> np.ndarray:
    """Each row's forecasting form: ``form`` (a fallback ladder's step), else
    ``member_forms`` (an ensemble's, :mod:`salesml.forecast.ensemble`), else
    :data:`MODEL_FORM`."""
    col = next((c for c in ("form", "member_forms") if c in fc), None)
    if col is None:
        return np.full(len(fc), MODEL_FORM, dtype=object)
    return fc[col].fillna(MODEL_FORM).astype(str).to_numpy(object)


def _pool(
    form: np.ndarray, step: np.ndarray, candidates: np.ndarray, wanted: str, need: int
) -> np.ndarray:
    """The calibration rows for rows of form ``wanted``: those of ``candidates`` of the same
    form when every step has ``need`` of them, else every row of ``candidates``."""
    same = candidates & (form == wanted)
    counts = np.bincount(step[same], minlength=int(step.max()) + 1)[1:]
    return same if counts.size and counts.min() >= need else candidates


def add_intervals(
    fc: pd.DataFrame,
    horizon: int,
    levels: list[int],
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Add ``lo-<level>`` and ``hi-<level>`` to backtest forecasts (split-conformal).

    Each window is calibrated on the scaled absolute errors (``|y - yhat| /
    scale``, pooled over series, per horizon step) of the earlier windows whose
    last forecast date precedes its origin; windows without such a predecessor
    (the calibration window) get no intervals. Rows are calibrated on the rows
    of their own forecasting form (``form``: a fallback's non-seasonal or naive
    forecasts are not the model's, and the calibration window, fitted on the
    shortest history, is where fallbacks gather) when every step has at least
    :func:`min_calibration` of them, else on every earlier row. Lower bounds
    are clipped at 0 except for rows whose ``signed`` column is true.

    The level is adapted (adaptive conformal inference, Gibbs and Candes 2021,
    one update per window): window ``k`` takes the quantile of miscoverage
    ``alpha + gamma * sum_j (alpha - miss_j)`` over the usable earlier windows
    ``j`` that have intervals, ``miss_j`` their share of actuals outside
    (:data:`ADAPT_STEP` is ``gamma``): a feedback on the intervals issued,
    whatever made them miss. Errors shrink as the training history
    grows, so quantiles of earlier windows over-cover later ones; the update
    uses only outcomes known at the origin, so the evaluation stays honest.
    """
    fc = fc.copy()
    err = (fc[target_col] - fc["yhat"]).abs().to_numpy() / fc["scale"].to_numpy()
    window, step = fc["window"].to_numpy(), fc["step"].to_numpy()
    yhat, scale = fc["yhat"].to_numpy(), fc["scale"].to_numpy()
    signed = fc["signed"].to_numpy(bool) if "signed" in fc else np.zeros(len(fc), bool)
    form, need = forms_of(fc), min_calibration(levels)
    info = fc.groupby("window").agg(cutoff=("cutoff", "first"), last=(time_col, "max"))
    bounds = {f"{side}-{lv}": np.full(len(fc), np.nan) for lv in levels for side in ("lo", "hi")}
    y = fc[target_col].to_numpy(float)
    miss: dict[int, dict[int, float]] = {lv: {} for lv in levels}  # by level, by window
    for k, row in info.iterrows():
        usable = info.index[(info.index < k) & (info["last"] < row["cutoff"])]
        if len(usable) == 0:
            continue
        earlier = np.isin(window, usable)
        adapted = {
            lv: adapted_level(lv, [miss[lv][j] for j in usable if j in miss[lv]]) for lv in levels
        }
        for f in np.unique(form[window == k]):
            rows = (window == k) & (form == f)
            cal = _pool(form, step, earlier, f, need)
            q = conformal_quantiles(err[cal], step[cal], horizon, list(adapted.values()))
            for lv in levels:
                half = q[adapted[lv]][step[rows] - 1] * scale[rows]
                lo = yhat[rows] - half
                bounds[f"lo-{lv}"][rows] = np.where(signed[rows], lo, np.maximum(lo, 0.0))
                bounds[f"hi-{lv}"][rows] = yhat[rows] + half
        now = window == k
        for lv in levels:
            inside = (y[now] >= bounds[f"lo-{lv}"][now]) & (y[now] <= bounds[f"hi-{lv}"][now])
            miss[lv][k] = float(1 - inside.mean())
    return fc.assign(**bounds)


def adapted_level(level: float, misses: list[float], gamma: float | None = None) -> float:
    """The level (percent) a window's quantile takes after earlier windows missed ``misses``.

    ``100 * (1 - a)`` with ``a = alpha + gamma * sum(alpha - miss)``, ``alpha = 1 - level / 100``,
    kept within [0.5, 100] (100: the largest calibration error).
    """
    gamma = ADAPT_STEP if gamma is None else gamma
    alpha = 1 - level / 100
    a = alpha + gamma * sum(alpha - m for m in misses)
    return float(np.clip(100 * (1 - a), 0.5, 100.0))


def final_quantiles(
    fc: pd.DataFrame, horizon: int, levels: list[int], target_col: str = "y"
) -> dict[int, np.ndarray]:
    """The exported model's conformal quantiles: every backtest window's scaled errors.

    Only the rows its own model forecast (form :data:`MODEL_FORM`) count when
    every step has :func:`min_calibration` of them: the model refitted on all
    data is that model, not a fallback of a shorter history.
    """
    err = (fc[target_col] - fc["yhat"]).abs().to_numpy() / fc["scale"].to_numpy()
    step = fc["step"].to_numpy()
    cal = _pool(forms_of(fc), step, np.ones(len(fc), bool), MODEL_FORM, min_calibration(levels))
    return conformal_quantiles(err[cal], step[cal], horizon, levels)


def quantile_loss(fc: pd.DataFrame, levels: list[int], target_col: str = "y") -> np.ndarray:
    """Per row: the scaled quantile loss of its interval bounds (NaN without bounds).

    The bounds of level ``l`` are the quantiles ``tau = (1 - l/100) / 2`` (``lo-l``)
    and ``1 - tau`` (``hi-l``). The loss is the mean over those quantiles of twice
    the pinball loss ``rho_tau(y, q) = (y - q) (tau - [y < q])``, divided by the
    row's MASE ``scale``: twice the pinball loss averaged over quantiles is the
    usual quantile approximation of the CRPS, and a point forecast given as every
    quantile scores its MASE term. Perfect bounds (``y`` at both) score 0; wider
    bounds than needed, or bounds off centre, score more.
    """
    y = fc[target_col].to_numpy(float)
    total, count = np.zeros(len(fc)), 0
    for lv in levels:
        tau = (1 - lv / 100) / 2
        for q, t in ((fc[f"lo-{lv}"], tau), (fc[f"hi-{lv}"], 1 - tau)):
            d = y - q.to_numpy(float)
            total = total + 2 * d * (t - (d < 0))
            count += 1
    if count == 0:
        return np.full(len(fc), np.nan)
    return total / count / fc["scale"].to_numpy(float)
