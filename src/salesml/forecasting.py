"""Sales forecasts: long-format data, a rolling-origin backtest, metrics, the forecast task.

Data are turned into the long (Nixtla) format ``unique_id, ds, y`` plus the
exogenous columns; several ``data.id`` columns are joined with ``/``.

Documented handling of awkward input (every refusal is a :class:`DataError`
naming the file and the column or series):

- Dates are parsed with ``data.date_format`` (default ISO 8601); a value that
  does not parse is an error naming the column and the value.
- A repeated (series, date) pair is an error naming the series.
- A missing or non-numeric target value is an error naming the series or the
  value; a negative sale is an error naming the series (returns and
  corrections belong upstream, not in a demand forecast).
- ``data.freq`` may be omitted when pandas can infer it. A date off the
  frequency's grid is an error naming the series; so is a frequency under
  which even the most complete series misses half of its dates.
- Gaps (dates missing inside a series) are filled with 0 sales: no row means
  nothing was sold. Exogenous values of filled dates are carried forward
  (then backward) within the series; their count is in ``data.gaps_filled``.
- ``season_length`` defaults from the frequency (D 7, W 52, M 12, Q 4, h 24).
- A horizon longer than the longest series is an error; so is a backtest that
  does not fit into the data.
- Series that end before the last date, are shorter than two seasons, or have
  less than a season (+1) of history before the earliest backtest fit are
  dropped with a warning and listed in ``data.excluded``; if none remain,
  that is an error.
- Exogenous columns must be numeric or boolean; their missing values are
  filled forward then backward within the series.
- Forecasts and interval bounds are clipped at 0.

Backtest: ``backtest.windows`` forecast origins ``step`` periods apart (default
``step = horizon``), the last one ending at the last date, plus one earlier
*calibration* origin ``horizon`` periods before the first. Every origin's
model is trained only on dates before it. Intervals are split-conformal:
absolute errors scaled by each series' MASE scale, pooled over series per
horizon step, from the origins whose forecast window ended before the origin
being evaluated. Metrics use the ``windows`` evaluation origins only. A
candidate with ``params: {refit: false}`` is fitted at the first origin only
and moved forward without re-estimation (statistical models and LightGBM).
Each candidate's exported model is refitted on all data; its intervals use the
errors of every backtest window.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.config import CandidateConfig, ExperimentConfig
from salesml.data import file_sha256, read_frame, require_columns
from salesml.errors import DataError
from salesml.forecast_models import season_length_for
from salesml.runner import Outcome


def _example(values: pd.Series, mask: pd.Series) -> tuple[Any, Any]:
    idx = mask[mask].index[0]
    return values.loc[idx], idx


def to_long(
    frame: pd.DataFrame,
    ids: str | list[str],
    time: str,
    target: str,
    exog: list[str] | tuple[str, ...] = (),
    date_format: str | None = None,
    where: str = "data",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> pd.DataFrame:
    """Long-format ``id_col, time_col, target_col`` plus ``exog``, sorted by series and date.

    Parameters
    ----------
    frame : DataFrame
        The raw table; not modified.
    ids : str or list of str
        Series key column(s); several are joined with ``/``.
    date_format : str, optional
        strftime format of ``time`` (default ISO 8601).
    where : str
        File name used in error messages.
    """
    ids = [ids] if isinstance(ids, str) else list(ids)
    for cols, role in ((ids, "id"), ([time], "time"), ([target], "target"), (list(exog), "exog")):
        require_columns(frame, cols, where, role)
    for col in ids:
        if frame[col].isna().any():
            raise DataError(
                f"{where}: id column {col!r} has {int(frame[col].isna().sum())} missing values"
            )
    key = frame[ids[0]].astype(str)
    for col in ids[1:]:
        key = key + "/" + frame[col].astype(str)
    raw = frame[time]
    if pd.api.types.is_datetime64_any_dtype(raw):
        ds = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) is not None else raw
    else:
        ds = pd.to_datetime(raw.astype("string"), format=date_format or "ISO8601", errors="coerce")
    if ds.isna().any():
        value, row = _example(raw, ds.isna())
        hint = "" if date_format else "; set data.date_format (e.g. '%d-%m-%Y')"
        raise DataError(
            f"{where}: time column {time!r} has {int(ds.isna().sum())} values that are missing or "
            f"do not parse as dates with format {date_format or 'ISO 8601'!r} "
            f"(e.g. {value!r} in data row {row + 1}){hint}"
        )
    out = pd.DataFrame({id_col: key.to_numpy(object), time_col: ds.to_numpy()})
    for col, role in ((target, "target"), *((c, "exog") for c in exog)):
        values = frame[col].astype(float) if pd.api.types.is_bool_dtype(frame[col]) else frame[col]
        num = pd.to_numeric(values, errors="coerce")
        if (num.isna() & values.notna()).any():
            value, row = _example(values, num.isna() & values.notna())
            raise DataError(
                f"{where}: {role} column {col!r} must be numeric (e.g. {value!r} in data row {row + 1})"
            )
        if role == "exog" and num.isna().all():
            raise DataError(f"{where}: exog column {col!r} is entirely missing")
        out[target_col if role == "target" else col] = num.astype(float).to_numpy()
    return out.sort_values([id_col, time_col], kind="mergesort").reset_index(drop=True)


def _series_list(ids: pd.Series, limit: int = 5) -> str:
    uniq = list(pd.unique(ids))
    shown = ", ".join(repr(str(u)) for u in uniq[:limit])
    return shown + (f" and {len(uniq) - limit} more" if len(uniq) > limit else "")


def _infer_freq(df: pd.DataFrame, id_col: str, time_col: str) -> str | None:
    sizes = df.groupby(id_col, sort=False).size().sort_values(ascending=False)
    for uid in sizes.index[:5]:
        dates = pd.DatetimeIndex(df.loc[df[id_col] == uid, time_col])
        if len(dates) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                freq = pd.infer_freq(dates)
            if freq:
                return freq
    return None


def regularize(
    df: pd.DataFrame,
    freq: str | None = None,
    where: str = "data",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> tuple[pd.DataFrame, str, dict[str, int]]:
    """Validate a long frame and fill the gaps inside each series (see the module docstring).

    Returns
    -------
    frame : DataFrame
        Regular series, sorted; filled dates have 0 sales.
    freq : str
        The given or inferred frequency.
    gaps : dict
        Filled dates per series (series without gaps are left out).
    """
    df = df.sort_values([id_col, time_col], kind="mergesort")
    dup = df.duplicated([id_col, time_col], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise DataError(
            f"{where}: {int(dup.sum())} rows repeat a (series, date) pair in series "
            f"{_series_list(df.loc[dup, id_col])} (e.g. {first[id_col]!r} on {first[time_col]:%Y-%m-%d}); "
            "aggregate them first"
        )
    for mask, what in ((df[target_col].isna(), "missing"), (df[target_col] < 0, "negative")):
        if mask.any():
            first = df[mask].iloc[0]
            raise DataError(
                f"{where}: {int(mask.sum())} {what} sales in series {_series_list(df.loc[mask, id_col])} "
                f"(e.g. {first[id_col]!r} on {first[time_col]:%Y-%m-%d})"
            )
    inferred = _infer_freq(df, id_col, time_col)
    if freq is None:
        if inferred is None:
            raise DataError(
                f"{where}: cannot infer the frequency of the dates; set data.freq (e.g. D, W-FRI, MS)"
            )
        freq = inferred
    try:
        grid = pd.date_range(df[time_col].min(), df[time_col].max(), freq=freq)
    except ValueError as exc:
        raise DataError(f"{where}: data.freq {freq!r} is not a pandas frequency ({exc})") from exc
    pos = grid.get_indexer(df[time_col])
    hint = f" (the dates look like {inferred!r})" if inferred and inferred != freq else ""
    if (pos < 0).any():
        first = df[pos < 0].iloc[0]
        raise DataError(
            f"{where}: frequency {freq!r} does not match series {_series_list(df.loc[pos < 0, id_col])}: "
            f"{first[time_col]} is not on the {freq} grid{hint}"
        )
    codes, uniques = pd.factorize(df[id_col], sort=True)
    lo = np.full(len(uniques), np.iinfo(np.int64).max)
    hi = np.full(len(uniques), -1)
    np.minimum.at(lo, codes, pos)
    np.maximum.at(hi, codes, pos)
    counts = np.bincount(codes, minlength=len(uniques))
    span = hi - lo + 1
    if (counts / span).max() < 0.5:
        best = int(np.argmax(counts / span))
        raise DataError(
            f"{where}: frequency {freq!r} does not match the data: even the most complete series "
            f"{uniques[best]!r} has only {counts[best]} of its {span[best]} {freq} dates{hint}"
        )
    out = df.reset_index(drop=True)
    if (counts < span).any():
        full_codes = np.repeat(np.arange(len(uniques)), span)
        full_pos = lo[full_codes] + np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
        full = pd.DataFrame({id_col: uniques[full_codes], time_col: grid[full_pos]})
        out = full.merge(df, on=[id_col, time_col], how="left")
        out[target_col] = out[target_col].fillna(0.0)
    exog = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    if exog and out[exog].isna().any().any():
        out[exog] = out.groupby(id_col, sort=False)[exog].ffill()
        out[exog] = out.groupby(id_col, sort=False)[exog].bfill()
    gaps = pd.Series(span - counts, index=uniques)
    return out, freq, {str(k): int(v) for k, v in gaps[gaps > 0].items()}


def backtest_cutoffs(
    dates: pd.DatetimeIndex,
    horizon: int,
    windows: int,
    step: int | None = None,
    calibration: bool = True,
) -> list[pd.Timestamp]:
    """Forecast origins (first forecast date of each window), oldest first.

    The last window ends at ``dates[-1]``; with ``calibration`` one more origin
    comes ``horizon`` periods before the first. Training for an origin uses
    dates strictly before it.

    Raises
    ------
    DataError
        When the origins do not fit into ``dates`` with at least one training period.
    """
    step = step or horizon
    n = len(dates)
    pos = [n - horizon - (windows - 1 - k) * step for k in range(windows)]
    if calibration:
        pos.insert(0, pos[0] - horizon)
    if pos[0] < 1:
        need = n - pos[0] + 1
        raise DataError(
            f"the backtest (horizon {horizon}, {windows} windows {step} apart"
            f"{', one calibration window' if calibration else ''}) needs more than {need - 1} "
            f"periods but the data span {n}; lower backtest.windows, backtest.step or horizon"
        )
    return [pd.Timestamp(dates[p]) for p in pos]


def select_series(
    df: pd.DataFrame,
    season_length: int,
    first_cutoff: pd.Timestamp,
    where: str = "data",
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop series that cannot be backtested; return the rest and ``{series: reason}``."""
    g = df.groupby(id_col, sort=True)[time_col]
    last, size = g.max(), g.size()
    before = (
        df[df[time_col] < first_cutoff]
        .groupby(id_col, sort=True)
        .size()
        .reindex(size.index, fill_value=0)
    )
    end = df[time_col].max()
    excluded: dict[str, str] = {}
    for uid in size.index:
        if last[uid] < end:
            excluded[str(uid)] = (
                f"ends on {last[uid]:%Y-%m-%d}, before the last date {end:%Y-%m-%d}"
            )
        elif size[uid] < 2 * season_length:
            excluded[str(uid)] = (
                f"{size[uid]} periods, shorter than two seasons ({2 * season_length})"
            )
        elif before[uid] < season_length + 1:
            excluded[str(uid)] = (
                f"{before[uid]} periods before the first backtest fit on {first_cutoff:%Y-%m-%d}; "
                f"needs {season_length + 1}"
            )
    if len(excluded) == len(size):
        uid, reason = next(iter(excluded.items()))
        raise DataError(
            f"{where}: no series can be backtested (e.g. series {uid!r}: {reason}); a series needs "
            f"two seasons ({2 * season_length} periods) and {season_length + 1} periods before the "
            "first backtest fit; lower backtest.windows, backtest.step or horizon"
        )
    if excluded:
        warnings.warn(
            f"{where}: dropped {len(excluded)} series that cannot be backtested "
            f"({_series_list(pd.Series(list(excluded)))}); see data.excluded in the summary",
            stacklevel=2,
        )
    return df[~df[id_col].isin(list(excluded))].reset_index(drop=True), excluded


def seasonal_scales(
    df: pd.DataFrame, season_length: int, id_col: str = "unique_id", target_col: str = "y"
) -> pd.DataFrame:
    """Per series: in-sample seasonal-naive MAE (``scale``) and MSE (``scale2``).

    A zero scale (a constant series) falls back to the mean absolute (squared)
    value, then to 1, so MASE and RMSSE stay finite.
    """
    y = df[target_col].astype(float)
    diff = y - y.groupby(df[id_col], sort=False).shift(season_length)
    g = pd.DataFrame(
        {"ae": diff.abs(), "se": diff**2, "ay": y.abs(), "y2": y**2, id_col: df[id_col]}
    )
    s = g.groupby(id_col, sort=True).mean()
    scale = s["ae"].where(s["ae"] > 0, s["ay"]).where(lambda v: v > 0, 1.0).fillna(1.0)
    scale2 = s["se"].where(s["se"] > 0, s["y2"]).where(lambda v: v > 0, 1.0).fillna(1.0)
    return pd.DataFrame({"scale": scale, "scale2": scale2})


def mase(y: np.ndarray, yhat: np.ndarray, y_train: np.ndarray, season_length: int) -> float:
    """Mean absolute error over the in-sample seasonal-naive MAE of ``y_train`` (one series)."""
    y_train = np.asarray(y_train, float)
    scale = np.mean(np.abs(y_train[season_length:] - y_train[:-season_length]))
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(yhat, float))) / scale)


def rmsse(y: np.ndarray, yhat: np.ndarray, y_train: np.ndarray, season_length: int) -> float:
    """Root mean squared error over the in-sample seasonal-naive RMSE of ``y_train`` (one series)."""
    y_train = np.asarray(y_train, float)
    scale2 = np.mean((y_train[season_length:] - y_train[:-season_length]) ** 2)
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(yhat, float)) ** 2) / scale2))


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
    """Signed bias: mean error over mean actual, ``sum(yhat - y) / sum(y)``; > 0 over-forecasts."""
    y, yhat = np.asarray(y, float), np.asarray(yhat, float)
    return float((yhat - y).sum() / y.sum())


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside ``[lo, hi]``."""
    y = np.asarray(y, float)
    return float(np.mean((y >= np.asarray(lo, float)) & (y <= np.asarray(hi, float))))


def backtest(
    make_forecaster: Any,
    df: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    horizon: int,
    season_length: int,
    refit: bool = True,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    scale_cache: dict[pd.Timestamp, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Rolling-origin forecasts: for each origin fit on ``time_col < origin``, forecast ``horizon``.

    Parameters
    ----------
    make_forecaster : callable
        Returns a new unfitted forecaster (see :mod:`salesml.forecast_models`).
    refit : bool
        False: fit at the first origin only, then move the origin forward with
        ``update`` (parameters frozen, state filtered through the new data).

    Returns
    -------
    DataFrame
        ``id_col, time_col, target_col, yhat, window, cutoff, step, scale, scale2``.
    """
    dates = np.sort(df[time_col].unique())
    parts, model = [], None
    for k, cutoff in enumerate(cutoffs):
        start = int(np.searchsorted(dates, np.datetime64(cutoff)))
        window_dates = dates[start : start + horizon]
        train = df[df[time_col] < cutoff]
        test = df[df[time_col].isin(window_dates)]
        if model is None or refit or not hasattr(model, "update"):
            model = make_forecaster().fit(train)
        else:
            model.update(train)
        X = test if getattr(model, "uses_exog", False) else None
        fc = model.predict(horizon, X_df=X)
        out = test[[id_col, time_col, target_col]].merge(fc, on=[id_col, time_col], how="left")
        if out["yhat"].isna().any():
            raise RuntimeError(
                f"no forecast for series {_series_list(out.loc[out['yhat'].isna(), id_col])} at origin {cutoff:%Y-%m-%d}"
            )
        cache = {} if scale_cache is None else scale_cache
        if cutoff not in cache:
            cache[cutoff] = seasonal_scales(train, season_length, id_col, target_col)
        scales = cache[cutoff]
        out = out.join(scales, on=id_col)
        out["yhat"] = out["yhat"].clip(lower=0)
        out["window"], out["cutoff"] = k, cutoff
        out["step"] = np.searchsorted(window_dates, out[time_col].to_numpy()) + 1
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


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
    a predecessor (the calibration window) get no intervals.
    """
    fc = fc.copy()
    err = (fc[target_col] - fc["yhat"]).abs().to_numpy() / fc["scale"].to_numpy()
    window, step = fc["window"].to_numpy(), fc["step"].to_numpy()
    yhat, scale = fc["yhat"].to_numpy(), fc["scale"].to_numpy()
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
            bounds[f"lo-{lv}"][rows] = np.maximum(yhat[rows] - half, 0.0)
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


def _window_mase(fc: pd.DataFrame, window: int, id_col: str, target_col: str) -> float:
    part = fc[fc["window"] == window]
    scaled = (part[target_col] - part["yhat"]).abs() / part["scale"]
    return float(scaled.groupby(part[id_col]).mean().mean())


class ForecastTask:
    """Sales forecasting with a rolling-origin backtest; MASE is the primary metric."""

    primary_metric = "mase"
    id_col, time_col, target_col = "unique_id", "ds", "y"

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.results: dict[str, dict[str, Any]] = {}
        self.cols = {
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
        }

    def prepare(self) -> dict[str, Any]:
        from salesml.classification import ensure_data

        cfg, dc = self.config, self.config.data
        where = str(dc.path)
        ensure_data(cfg)
        raw = read_frame(dc.path)
        df = to_long(
            raw, dc.id_columns, dc.time, dc.target, dc.exog, dc.date_format, where, **self.cols
        )
        df, freq, gaps = regularize(df, dc.freq, where, **self.cols)
        m = cfg.season_length or season_length_for(freq)
        h, windows = int(cfg.horizon), cfg.backtest.windows
        step = cfg.backtest.step or h
        sizes = df.groupby(self.id_col).size()
        if h > sizes.max():
            raise DataError(
                f"{where}: horizon {h} is longer than the history: the longest series "
                f"{sizes.idxmax()!r} has {sizes.max()} periods"
            )
        dates = pd.DatetimeIndex(np.sort(df[self.time_col].unique()))
        try:
            cutoffs = backtest_cutoffs(dates, h, windows, step)
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from exc
        df, excluded = select_series(df, m, cutoffs[0], where, self.id_col, self.time_col)
        self.df, self.freq, self.season_length = df, freq, m
        self.horizon, self.cutoffs, self.exog = h, cutoffs, list(dc.exog)
        self.levels = list(cfg.levels)
        self.scale_cache: dict[pd.Timestamp, pd.DataFrame] = {}
        self.full_scales = seasonal_scales(df, m, self.id_col, self.target_col)
        return {
            "path": where,
            "sha256": file_sha256(dc.path),
            "rows": len(raw),
            "series": int(sizes.size),
            "series_used": int(df[self.id_col].nunique()),
            "freq": freq,
            "season_length": m,
            "horizon": h,
            "start": f"{dates[0]:%Y-%m-%d}",
            "end": f"{dates[-1]:%Y-%m-%d}",
            "calibration_cutoff": f"{cutoffs[0]:%Y-%m-%d}",
            "cutoffs": [f"{c:%Y-%m-%d}" for c in cutoffs[1:]],
            "exog": self.exog,
            "gaps_filled": gaps,
            "excluded": excluded,
        }

    def _forecasts(
        self, cand: CandidateConfig, params: dict[str, Any], refit: bool
    ) -> tuple[pd.DataFrame, Any]:
        from salesml.forecast_models import EnsembleForecaster, build_forecaster

        if cand.type != "ensemble":
            args = (
                cand.type,
                params,
                self.freq,
                self.season_length,
                self.exog,
                self.config.evaluation.seed,
            )
            build_forecaster(*args, **self.cols)  # bad params fail before any fit
            fc = backtest(
                lambda: build_forecaster(*args, **self.cols),
                self.df,
                self.cutoffs,
                self.horizon,
                self.season_length,
                refit,
                **self.cols,
                scale_cache=self.scale_cache,
            )
            return fc, build_forecaster(*args, **self.cols).fit(self.df)
        unknown = set(params) - {"members", "size"}
        if unknown:
            raise ValueError(f"ensemble: unknown params {sorted(unknown)}; allowed: members, size")
        names = params.get("members")
        if names is None:
            # Members are ranked on the calibration window, which precedes every evaluation
            # window, so choosing them does not peek at the windows the ensemble is scored on.
            done = [
                (_window_mase(r["fc"], 0, self.id_col, self.target_col), n)
                for n, r in self.results.items()
                if r["role"] == "model" and r["type"] != "ensemble"
            ]
            names = [n for _, n in sorted(done)[: int(params.get("size", 2))]]
        missing = [n for n in names if n not in self.results]
        if len(names) < 2 or missing:
            raise ValueError(
                "ensemble needs at least two successful candidates listed before it"
                + (f"; not available: {', '.join(missing)}" if missing else "")
            )
        keys = [self.id_col, self.time_col, "window"]
        fcs = [self.results[n]["fc"].set_index(keys)["yhat"] for n in names]
        fc = self.results[names[0]]["fc"].drop(columns="yhat").set_index(keys)
        fc = fc.join(pd.concat(fcs, axis=1).mean(axis=1).rename("yhat")).reset_index()
        params["members"] = names
        members = [self.results[n]["final"] for n in names]
        return fc, EnsembleForecaster(members, self.id_col, self.time_col)

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        from salesml.evaluation import mean_difference
        from salesml.forecast_models import ForecastPyfunc
        from salesml.forecast_plots import error_figure, fan_chart

        params = dict(candidate.params)
        refit = bool(params.pop("refit", True))
        t0 = time.perf_counter()
        raw, final = self._forecasts(candidate, params, refit)
        fit_seconds = time.perf_counter() - t0
        fc = add_intervals(raw, self.horizon, self.levels, self.time_col, self.target_col)
        evaluated = fc[fc["window"] > 0]
        metrics, per_series, by_step = evaluate_forecasts(
            evaluated, self.levels, self.id_col, self.target_col
        )
        ev = self.config.evaluation
        _, ci = mean_difference(
            per_series["mase"], np.zeros(len(per_series)), ev.bootstrap, ev.seed, ev.confidence
        )
        metrics["mase_ci"] = ci
        err = (fc[self.target_col] - fc["yhat"]).abs().to_numpy() / fc["scale"].to_numpy()
        quantiles = conformal_quantiles(err, fc["step"].to_numpy(), self.horizon, self.levels)
        scales = self.full_scales["scale"]
        wrapper = ForecastPyfunc(
            final,
            candidate.name,
            self.horizon,
            self.levels,
            quantiles,
            scales,
            id_col=self.id_col,
            time_col=self.time_col,
        )
        example = self._input_example(final)
        output = wrapper.predict(None, example)
        title = f"{candidate.name} ({role})"
        plots = [
            fan_chart(
                self.df,
                evaluated,
                candidate.name,
                self.levels,
                plot_dir / "fan_chart.png",
                **self.cols,
            ),
            error_figure(by_step, per_series["mase"], title, plot_dir / "errors.png"),
        ]
        self.results[candidate.name] = {
            "fc": raw,
            "final": final,
            "role": role,
            "type": candidate.type,
            "mase": metrics["mase"],
            "by_step": by_step,
            "per_series": per_series["mase"],
        }
        run_params = {
            "horizon": self.horizon,
            "season_length": self.season_length,
            "freq": self.freq,
            "windows": len(self.cutoffs) - 1,
            "refit": refit,
            **params,
        }
        if hasattr(final, "lags"):
            run_params.update(lags=final.lags, rolling=final.windows, exog=list(final.exog))
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=run_params,
            fit_seconds=fit_seconds,
            model=wrapper,
            flavor="pyfunc",
            input_example=example,
            model_output=output,
            plots=plots,
            pairing=per_series["mase"],
        )

    def _input_example(self, forecaster: Any, n_series: int = 2) -> pd.DataFrame:
        uid, ds = self.id_col, self.time_col
        ids = sorted(self.df[uid].unique())[:n_series]
        if not forecaster.uses_exog:
            return pd.DataFrame({uid: ids, "h": [self.horizon] * len(ids)})
        from salesml.forecast_models import future_dates

        # Future exogenous values are unknown here: the example carries the last observed ones.
        tail = self.df[self.df[uid].isin(ids)].groupby(uid).tail(self.horizon)
        future = tail[[uid, *forecaster.exog]].reset_index(drop=True)
        future.insert(1, ds, future_dates(tail.groupby(uid)[ds].max(), self.horizon, self.freq))
        return future

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        from salesml.evaluation import mean_difference

        ev = self.config.evaluation
        common = a.pairing.index.intersection(b.pairing.index)
        return mean_difference(
            a.pairing.loc[common].to_numpy(),
            b.pairing.loc[common].to_numpy(),
            ev.bootstrap,
            ev.seed,
            ev.confidence,
        )

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Path]:
        from salesml.forecast_plots import comparison_figure

        keep = [o.name for o in outcomes if o.name in self.results]
        by_step = {n: self.results[n]["by_step"] for n in keep}
        per_series = {n: self.results[n]["per_series"] for n in keep}
        return [comparison_figure(by_step, per_series, plot_dir / "comparison.png")]
