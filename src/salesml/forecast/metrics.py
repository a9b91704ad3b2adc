"""Forecast accuracy: MASE, RMSSE, WAPE, sMAPE, bias, coverage, scaled quantile loss.

Intervals and the quantile loss are in :mod:`salesml.forecast.intervals`.

And what their bootstrap resamples (:class:`ForecastUnits`): series when there
are at least :data:`~salesml.experiment.evaluation.MIN_UNITS` (10) of them;
otherwise blocks of consecutive scored periods, one horizon long, in a circular
block bootstrap over the backtest's time positions (:class:`TimeGrid`); with
fewer than 10 series and fewer than 10 blocks, no interval at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.evaluation import MIN_UNITS
from salesml.forecast.intervals import (  # noqa: F401  (re-exported: where callers find them)
    MODEL_FORM,
    add_intervals,
    conformal_quantiles,
    final_quantiles,
    quantile_loss,
)


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


def evaluate_forecasts(
    fc: pd.DataFrame, levels: list[int], id_col: str = "unique_id", target_col: str = "y"
) -> tuple[dict[str, float], pd.DataFrame, pd.Series]:
    """Aggregate metrics, per-series metrics and scaled error by horizon step.

    MASE, RMSSE and the scaled quantile loss ``qloss`` (:func:`quantile_loss`,
    when ``fc`` has the bounds of every level) are computed per series and
    window (each window scaled by its own training part), averaged over
    windows, then over series; WAPE, sMAPE, bias and coverage pool all
    forecast points.
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
    bounded = bool(levels) and all(f"lo-{lv}" in fc and f"hi-{lv}" in fc for lv in levels)
    if bounded:
        q = pd.Series(quantile_loss(fc, levels, target_col), index=fc.index)
        sw["qloss"] = q.groupby([fc[id_col], fc["window"]], sort=True).mean()
    per_series = sw.groupby(level=0)[["mase", "rmsse", *(["qloss"] if bounded else [])]].mean()
    sums = pts.groupby(id_col, sort=True)[["ae", "ay"]].sum()
    per_series["wape"] = sums["ae"] / sums["ay"].where(sums["ay"] > 0)
    metrics = {
        "mase": float(per_series["mase"].mean()),
        "wape": wape(y, yhat),
        "smape": smape(y, yhat),
        "bias": bias(y, yhat),
        "rmsse": float(per_series["rmsse"].mean()),
    }
    if bounded:
        metrics["qloss"] = float(per_series["qloss"].mean())
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


# ----------------------------------------------------------------- resampling units


@dataclass(frozen=True)
class ForecastUnits:
    """What a forecast's bootstrap can resample, and which way it does.

    Series are the units when there are at least ``minimum`` of them (each
    series drawn whole, so its own errors stay together). With fewer series the
    units are blocks of ``block`` consecutive scored periods (the horizon; a
    circular block bootstrap over the backtest's time positions, every series
    of a period drawn together): one origin's errors are correlated over the
    horizon, so a block keeps a window's dependence intact. With fewer than
    ``minimum`` series *and* fewer than ``minimum`` blocks there is no interval.

    Parameters
    ----------
    series : int
        Series scored (for a difference: scored by both candidates).
    periods : int
        Distinct dates scored over the backtest windows.
    block : int
        Periods per block: the horizon.
    minimum : int
        :data:`salesml.experiment.evaluation.MIN_UNITS`.
    """

    series: int
    periods: int
    block: int
    minimum: int = MIN_UNITS

    @property
    def blocks(self) -> int:
        """Whole blocks in the scored periods (the backtest windows, at the default step)."""
        return self.periods // max(self.block, 1)

    @property
    def kind(self) -> str | None:
        """``series``, ``blocks`` or None (too few of both: no interval)."""
        if self.series >= self.minimum:
            return "series"
        return "blocks" if self.blocks >= self.minimum else None

    def shortfall(self, confidence: float) -> str:
        """Why there is no interval, and what would give one."""
        from salesml.experiment.results import ci_label

        return (
            f"{self.series} series and {self.periods} scored periods, {self.blocks} "
            f"block{'' if self.blocks == 1 else 's'} of the {self.block}-period horizon; a "
            f"{ci_label(confidence)} needs at least {self.minimum} series or {self.minimum} "
            f"blocks (backtest.windows: {self.minimum} at the default step)"
        )


def point_terms(fc: pd.DataFrame, id_col: str = "unique_id", target_col: str = "y") -> pd.DataFrame:
    """Per scored point: its series, window, step and date, and every metric's term.

    ``a`` (absolute error / MASE scale), ``r`` (squared error / RMSSE scale),
    ``ae``, ``ay``, ``err`` (forecast minus actual), ``sm`` (sMAPE term), ``n``
    (1) and ``in-<level>`` (actual inside the interval) for the levels of ``fc``;
    ``q`` (scaled quantile loss, :func:`quantile_loss`) when ``fc`` has bounds.
    """
    y, yhat = fc[target_col].to_numpy(float), fc["yhat"].to_numpy(float)
    e = yhat - y
    den = np.abs(y) + np.abs(yhat)
    out = {
        id_col: fc[id_col].to_numpy(),
        "window": fc["window"].to_numpy(),
        "step": fc["step"].to_numpy(),
        "ds": fc["ds"].to_numpy() if "ds" in fc else fc["step"].to_numpy(),
        "a": np.abs(e) / fc["scale"].to_numpy(float),
        "r": e**2 / fc["scale2"].to_numpy(float),
        "ae": np.abs(e),
        "ay": np.abs(y),
        "err": e,
        "sm": np.where(den > 0, 2 * np.abs(e) / np.where(den > 0, den, 1), 0.0),
        "n": np.ones(len(fc)),
    }
    levels = []
    for col in fc.columns:
        if str(col).startswith("lo-") and f"hi-{str(col)[3:]}" in fc:
            lo, hi = fc[col].to_numpy(float), fc[f"hi-{str(col)[3:]}"].to_numpy(float)
            out[f"in-{str(col)[3:]}"] = ((y >= lo) & (y <= hi)).astype(float)
            levels.append(int(str(col)[3:]))
    if levels:
        out["q"] = quantile_loss(fc, levels, target_col)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class TimeGrid:
    """Point terms laid out by series (rows) and time position (columns, oldest first).

    A position is one (window, step) of the backtest; ``present`` is 1 where the
    series was scored there, and every term is 0 where it was not.
    """

    ids: np.ndarray
    window: np.ndarray
    present: np.ndarray
    terms: dict[str, np.ndarray]

    @property
    def positions(self) -> int:
        """Time positions: the units a block bootstrap resamples, in blocks."""
        return len(self.window)


def time_grid(points: pd.DataFrame, ids: Any = None, id_col: str = "unique_id") -> TimeGrid:
    """:func:`point_terms` as a :class:`TimeGrid`, over ``ids`` (default: every series)."""
    if ids is not None:
        points = points[points[id_col].isin(ids)]
    sids = np.sort(points[id_col].unique())
    pos = points[["window", "step"]].drop_duplicates().sort_values(["window", "step"])
    col = pd.MultiIndex.from_frame(pos).get_indexer(
        pd.MultiIndex.from_frame(points[["window", "step"]])
    )
    row = np.searchsorted(sids, points[id_col].to_numpy())
    shape = (len(sids), len(pos))
    present = np.zeros(shape)
    present[row, col] = 1.0
    terms = {}
    for name in points.columns.drop([id_col, "window", "step", "ds"]):
        grid = np.zeros(shape)
        grid[row, col] = points[name].to_numpy(float)
        terms[name] = grid
    return TimeGrid(sids, pos["window"].to_numpy(), present, terms)


def _weighted(grid: TimeGrid, w: np.ndarray | None) -> np.ndarray:
    return np.ones((1, grid.positions)) if w is None else np.atleast_2d(w)


def _series_mean(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Mean over series (axis 1) of ``num / den``, leaving out series of zero weight."""
    ok = den > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(ok, num / np.where(ok, den, 1.0), 0.0)
        return per.sum(1) / ok.sum(1)


def grid_mase(grid: TimeGrid, term: str = "a") -> Callable[[np.ndarray | None], np.ndarray]:
    """MASE of each row of weights over positions: per series the weighted mean, then the mean.

    All weights 1 give :func:`evaluate_forecasts`' MASE (a series is scored at
    every step of a window it is in, so its mean over points is its mean over
    windows); ``term="q"`` gives its scaled quantile loss the same way.
    """
    a, p = grid.terms[term].T, grid.present.T
    return lambda w: _series_mean(_weighted(grid, w) @ a, _weighted(grid, w) @ p)


def grid_rmsse(grid: TimeGrid) -> Callable[[np.ndarray | None], np.ndarray]:
    """RMSSE per row of weights: the root of each window's weighted mean, averaged as in the run."""
    r, p = grid.terms["r"], grid.present

    def stat(w: np.ndarray | None) -> np.ndarray:
        w = _weighted(grid, w)
        total, count = 0.0, 0.0
        for k in np.unique(grid.window):
            cols = grid.window == k
            num, den = w[:, cols] @ r[:, cols].T, w[:, cols] @ p[:, cols].T
            ok = den > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                total = total + np.where(ok, np.sqrt(num / np.where(ok, den, 1.0)), 0.0)
            count = count + ok
        return _series_mean(total, count)

    return stat


def grid_ratio(
    grid: TimeGrid, num: str, den: str, absolute: bool = False
) -> Callable[[np.ndarray | None], np.ndarray]:
    """``sum(num) / sum(den)`` over the weighted positions (WAPE, sMAPE, bias, coverage)."""
    a, b = grid.terms[num].sum(0), grid.terms[den].sum(0)

    def stat(w: np.ndarray | None) -> np.ndarray:
        w = _weighted(grid, w)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (w @ a) / (w @ b)
        return np.abs(value) if absolute else value

    return stat


def units_of(fc: pd.DataFrame, series: int) -> ForecastUnits:
    """The :class:`ForecastUnits` of scored backtest rows ``fc`` with ``series`` series."""
    return ForecastUnits(series, int(fc["ds"].nunique()), int(fc["step"].max()))
