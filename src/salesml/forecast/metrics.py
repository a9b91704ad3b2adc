"""Forecast accuracy: MASE, RMSSE, WAPE, sMAPE, bias, coverage; conformal intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd


def seasonal_scales(
    df: pd.DataFrame, season_length: int, id_col: str = "unique_id", target_col: str = "y"
) -> pd.DataFrame:
    """Per series: in-sample seasonal-naive MAE (``scale``) and MSE (``scale2``).

    A series shorter than a season + 1 is scaled by its one-step naive errors
    instead. A zero scale (a constant series) falls back to the mean absolute
    (squared) value, then to 1, so MASE and RMSSE stay finite. Negative values
    (returns) are fine: only absolute differences and values are used.
    """
    y = df[target_col].astype(float)
    by = y.groupby(df[id_col], sort=False)
    diff = y - by.shift(season_length)
    step = y - by.shift(1)
    g = pd.DataFrame(
        {"ae": diff.abs(), "se": diff**2, "ay": y.abs(), "y2": y**2, id_col: df[id_col]}
    )
    s = g.groupby(id_col, sort=True).mean()
    if s["ae"].isna().any():  # no seasonal pair: the non-seasonal (one-step) scale
        s1 = pd.DataFrame({"ae": step.abs(), "se": step**2, id_col: df[id_col]})
        s1 = s1.groupby(id_col, sort=True).mean()
        s["ae"], s["se"] = s["ae"].fillna(s1["ae"]), s["se"].fillna(s1["se"])
    scale = s["ae"].where(s["ae"] > 0, s["ay"]).where(lambda v: v > 0, 1.0).fillna(1.0)
    scale2 = s["se"].where(s["se"] > 0, s["y2"]).where(lambda v: v > 0, 1.0).fillna(1.0)
    return pd.DataFrame({"scale": scale, "scale2": scale2})


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Weighted absolute percentage error: ``sum|y - yhat| / sum|y|``."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    return float(np.abs(y - yhat).sum() / np.abs(y).sum())


def smape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Symmetric MAPE as a fraction in [0, 2]: mean of ``2|y - yhat| / (|y| + |yhat|)``, 0 when both are 0."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    den = np.abs(y) + np.abs(yhat)
    return float(np.mean(np.where(den > 0, 2 * np.abs(y - yhat) / np.where(den > 0, den, 1), 0.0)))


def bias(y: np.ndarray, yhat: np.ndarray) -> float:
    """Signed bias: ``sum(yhat - y) / sum|y|``; > 0 over-forecasts.

    The denominator is ``sum(y)`` for non-negative sales; ``|y|`` keeps the
    sign meaningful when returns (negative values) are in the data.
    """
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    return float((yhat - y).sum() / np.abs(y).sum())


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside ``[lo, hi]``."""
    y = np.asarray(y, float)
    return float(np.mean((y >= np.asarray(lo, float)) & (y <= np.asarray(hi, float))))


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


def add_intervals(
    fc: pd.DataFrame,
    horizon: int,
    levels: list[int],
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Add ``lo-<level>`` and ``hi-<level>`` to backtest forecasts (split-conformal).

    Each window is calibrated on the scaled absolute errors of the earlier
    windows whose last forecast date precedes its origin; windows without such
    a predecessor (the calibration window) get no intervals. Lower bounds are
    clipped at 0 except for rows whose ``signed`` column is true.
    """
    fc = fc.copy()
    err = (fc[target_col] - fc["yhat"]).abs().to_numpy() / fc["scale"].to_numpy()
    window, step = fc["window"].to_numpy(), fc["step"].to_numpy()
    yhat, scale = fc["yhat"].to_numpy(), fc["scale"].to_numpy()
    signed = fc["signed"].to_numpy(bool) if "signed" in fc else np.zeros(len(fc), bool)
    info = fc.groupby("window").agg(cutoff=("cutoff", "first"), last=(time_col, "max"))
    bounds = {f"{side}-{lv}": np.full(len(fc), np.nan) for lv in levels for side in ("lo", "hi")}
    for k, row in info.iterrows():
        usable = info.index[(info.index < k) & (info["last"] < row["cutoff"])]
        if len(usable) == 0:
            continue
        cal, rows = np.isin(window, usable), window == k
        q = conformal_quantiles(err[cal], step[cal], horizon, levels)
        for lv in levels:
            half = q[lv][step[rows] - 1] * scale[rows]
            lo = yhat[rows] - half
            bounds[f"lo-{lv}"][rows] = np.where(signed[rows], lo, np.maximum(lo, 0.0))
            bounds[f"hi-{lv}"][rows] = yhat[rows] + half
    return fc.assign(**bounds)


def evaluate_forecasts(
    fc: pd.DataFrame, levels: list[int], id_col: str = "unique_id", target_col: str = "y"
) -> tuple[dict[str, float], pd.DataFrame, pd.Series]:
    """Aggregate metrics, per-series metrics and scaled error by horizon step.

    MASE and RMSSE are computed per series and window (each window scaled by
    its own training part), averaged over windows, then over series; WAPE,
    sMAPE, bias and coverage pool all forecast points.
    """
    y, yhat = fc[target_col].to_numpy(float), fc["yhat"].to_numpy(float)
    e = yhat - y
    pts = pd.DataFrame(
        {id_col: fc[id_col], "window": fc["window"], "ae": np.abs(e), "se": e**2, "ay": np.abs(y)}
    )
    sw = pts.groupby([id_col, "window"], sort=True).mean()
    scales = fc.groupby([id_col, "window"], sort=True)[["scale", "scale2"]].first()
    sw["mase"] = sw["ae"] / scales["scale"]
    sw["rmsse"] = np.sqrt(sw["se"] / scales["scale2"])
    per_series = sw.groupby(level=0)[["mase", "rmsse"]].mean()
    sums = pts.groupby(id_col, sort=True)[["ae", "ay"]].sum()
    per_series["wape"] = sums["ae"] / sums["ay"].where(sums["ay"] > 0)
    metrics = {
        "mase": float(per_series["mase"].mean()),
        "wape": wape(y, yhat),
        "smape": smape(y, yhat),
        "bias": bias(y, yhat),
        "rmsse": float(per_series["rmsse"].mean()),
    }
    for lv in levels:
        if f"lo-{lv}" in fc.columns:
            metrics[f"coverage_{lv}"] = coverage(y, fc[f"lo-{lv}"], fc[f"hi-{lv}"])
    metrics["abs_bias"] = abs(metrics["bias"])
    by_step = (
        (pd.Series(np.abs(e) / fc["scale"].to_numpy(), index=fc["step"].to_numpy()))
        .groupby(level=0)
        .mean()
    )
    return metrics, per_series, by_step
