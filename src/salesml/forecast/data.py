"""Forecast data: the long (Nixtla) format, regular dates, series selection.

The handling of awkward input is documented in :mod:`salesml.forecast.task`.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.forecast.covariates import MAX_NUMBERS_IN_CATEGORY, categorical
from salesml.io.data import require_columns
from salesml.io.timestamps import naive, parse_dates


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
        strftime format of ``time`` (default ISO 8601). Dates with UTC offsets
        are read in one zone (:mod:`salesml.io.timestamps`): period stamps all at
        one local time of day (e.g. midnight) keep their local dates, across a
        daylight-saving change too; other timestamps are converted to UTC.
    where : str
        File name used in error messages.

    Raises
    ------
    DataError
        For a missing column, id or date, a date mixing offsets and none, a
        target value that is not a number or an entirely missing exog column.
        An exog column with values that are not numbers is categorical
        (:func:`~salesml.forecast.covariates.categorical`) unless it also holds more than
        ``MAX_NUMBERS_IN_CATEGORY`` distinct numbers (then it is a number column
        with a typo, refused).
    """
    ids = [ids] if isinstance(ids, str) else list(ids)
    for cols, role in ((ids, "id"), ([time], "time"), ([target], "target"), (list(exog), "exog")):
        require_columns(frame, cols, where, role)
    for col in ids:
        missing = frame[col].isna().to_numpy()
        if missing.any():
            first = int(np.flatnonzero(missing)[0])
            blank = ", a row with every cell empty" if frame.iloc[first].isna().all() else ""
            raise DataError(
                f"{where}: id column {col!r} has {int(missing.sum())} missing values "
                f"(e.g. data row {first + 1}{blank})"
            )
    key = frame[ids[0]].astype(str)
    for col in ids[1:]:
        key = key + "/" + frame[col].astype(str)
    raw = frame[time]
    # UTC offsets (across a daylight-saving change, say): one zone, see salesml.io.timestamps
    if pd.api.types.is_datetime64_any_dtype(raw):
        ds = naive(raw)
    else:
        ds = parse_dates(raw, date_format or "ISO8601", where, time)[0]
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
        if role == "exog" and values.isna().all():
            raise DataError(f"{where}: exog column {col!r} is entirely missing")
        text = num.isna() & values.notna()
        # text among a few numbers is a category (a state holiday coded 0, a, b, c); among
        # many distinct numbers it is a typo in a number column
        if role == "exog" and text.any() and num.nunique() <= MAX_NUMBERS_IN_CATEGORY:
            out[col] = categorical(values).array
            continue
        if text.any():
            value, row = _example(values, text)
            kind = (
                f" (text among {num.nunique()} distinct numbers: not taken for a category)"
                if role == "exog"
                else ""
            )
            raise DataError(
                f"{where}: {role} column {col!r} must be numeric (e.g. {value!r} in data row "
                f"{row + 1}){kind}"
            )
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
    fill: Literal["zero", "missing"] = "missing",
) -> tuple[pd.DataFrame, str, dict[str, int]]:
    """Validate a long frame and fill the gaps of each series (see the module docstring).

    Parameters
    ----------
    fill : {"zero", "missing"}
        ``data.fill``. Dates without a row inside a series always get 0 sales;
        with ``zero`` so do the dates after a series' last row, up to the last
        date of the data (no row means nothing was sold); with ``missing`` a
        series ends at its last row.

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
    mask = df[target_col].isna()
    if mask.any():
        first = df[mask].iloc[0]
        raise DataError(
            f"{where}: {int(mask.sum())} missing sales in series {_series_list(df.loc[mask, id_col])} "
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
    if fill == "zero":  # no row after a series' last one: nothing sold, up to the last date
        hi = np.full(len(uniques), len(grid) - 1)
        span = hi - lo + 1
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


_UNITS = {"D": "days", "B": "days", "W": "weeks", "H": "hours"}
_UNITS |= {k: "months" for k in ("M", "MS", "ME")}
_UNITS |= {k: "quarters" for k in ("Q", "QS", "QE")}
_UNITS |= {k: "years" for k in ("Y", "YS", "YE", "A", "AS")}


def period_word(freq: str) -> str:
    """``weeks`` for ``W-FRI``, ``days`` for ``D``, ...; ``periods`` for anything else."""
    return _UNITS.get(freq.lstrip("0123456789").split("-")[0].upper(), "periods")


def silence_default(freq: str, season_length: int) -> int:
    """Default ``data.discontinued_after``: half a year of ``freq`` periods, at least half a season.

    26 weeks, 6 months, 2 quarters, 181 days: for weekly, monthly and quarterly
    data that is half the (yearly) season; daily data, whose season is a week,
    would otherwise call a product discontinued after 3 quiet days.
    """
    start = pd.Timestamp("2001-01-01")
    with warnings.catch_warnings():  # a deprecated alias (M, Q) was accepted by regularize
        warnings.simplefilter("ignore")
        half_year = pd.date_range(
            start, start + pd.DateOffset(months=6), freq=freq, inclusive="left"
        )
    return max(1, season_length // 2, len(half_year))


def select_series(
    df: pd.DataFrame,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    freq: str | None = None,
    after: int | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Leave out the discontinued series; return the rest and ``{series: reason}``.

    A series is discontinued when it has not sold (no row, or no positive
    sale) for at least ``after`` periods of ``freq`` at the end of the data
    (``data.discontinued_after``); a series that never sold, when it is at least
    ``after`` periods long. A series whose rows stop before the last date
    (``data.fill: missing``) has nothing to forecast from at the common forecast
    origin and is left out too. Without ``after`` (or ``freq``) every series
    that ends before the last date is left out. Short series are kept: they get
    a simpler model (:mod:`salesml.forecast.fallback`).

    Parameters
    ----------
    df : DataFrame
        Regular long-format series (:func:`regularize`).
    freq : str, optional
        The frequency of the dates.
    after : int, optional
        Periods of silence at the end after which a series is discontinued.
    """
    end = df[time_col].max()
    if after is None or freq is None:
        last = df.groupby(id_col, sort=True)[time_col].max()
        ended = last[last < end]
        excluded = {
            str(uid): f"ends on {when:%Y-%m-%d}, before the last date {end:%Y-%m-%d}"
            for uid, when in ended.items()
        }
        return df[~df[id_col].isin(list(excluded))].reset_index(drop=True), excluded
    grid = pd.date_range(df[time_col].min(), end, freq=freq)
    pos = pd.Series(grid.get_indexer(df[time_col]), index=df.index)
    groups = pos.groupby(df[id_col], sort=True)
    first, last = groups.min(), groups.max()
    sold = pos[df[target_col] > 0].groupby(df.loc[df[target_col] > 0, id_col]).max()
    sold = sold.reindex(first.index)
    silence = (len(grid) - 1 - sold).fillna(len(grid) - first)
    unit = period_word(freq)
    excluded = {}
    for uid in first.index:
        quiet = int(silence[uid])
        if quiet >= after:
            since = (
                f"never sold in its {quiet} {unit}"
                if np.isnan(sold[uid])
                else f"no sale in the last {quiet} {unit} (last on {grid[int(sold[uid])]:%Y-%m-%d})"
            )
            excluded[str(uid)] = (
                f"discontinued: {since}, before the last date {end:%Y-%m-%d} "
                f"(data.discontinued_after: {after})"
            )
        elif last[uid] < len(grid) - 1:
            excluded[str(uid)] = (
                f"ends on {grid[int(last[uid])]:%Y-%m-%d}, before the last date {end:%Y-%m-%d}: "
                "no rows to forecast from (data.fill: missing; with zero it would be forecast)"
            )
    return df[~df[id_col].isin(list(excluded))].reset_index(drop=True), excluded


def unscored_series(
    df: pd.DataFrame, last_origin: pd.Timestamp, id_col: str = "unique_id", time_col: str = "ds"
) -> dict[str, str]:
    """Series without a period before the last backtest origin: forecast, but never scored.

    The earliest series starts before every origin, so this is never all of them.
    """
    first = df.groupby(id_col, sort=True)[time_col].min()
    late = first[first >= last_origin]
    return {
        str(uid): f"starts on {when:%Y-%m-%d}, inside the last backtest window "
        f"(from {last_origin:%Y-%m-%d}): forecast, not scored"
        for uid, when in late.items()
    }


def future_dates(last: pd.Series, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` dates after each value of ``last`` (one block of ``h`` per value)."""
    out = []
    for when in last:
        out.append(pd.date_range(when, periods=h + 1, freq=freq)[1:])
    return (
        pd.DatetimeIndex(np.concatenate([d.values for d in out])) if out else pd.DatetimeIndex([])
    )


def future_frame(
    history: pd.DataFrame,
    ids: list[str],
    h: int,
    freq: str,
    exog: list[str],
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pd.DataFrame:
    """Input for a forecast pyfunc: the ``h`` dates after each series' last date.

    Future exogenous values are a naive scenario: each series' last ``h``
    observed values repeated forward. Replace them with planned prices,
    promotions and holidays before forecasting for real. Pass the model's
    future covariates only (its card's ``exog``): past ones are never asked
    for (:mod:`salesml.forecast.covariates`). Without ``exog`` the frame is
    ``unique_id`` plus an ``h`` column.

    Parameters
    ----------
    history : DataFrame
        Long-format history with ``id_col``, ``time_col`` and ``exog`` columns.
    ids : list of str
        The series to forecast.
    h : int
        Horizon in periods of ``freq``.
    """
    if not exog:
        return pd.DataFrame({id_col: ids, "h": [h] * len(ids)})
    tail = (
        history[history[id_col].isin(ids)].sort_values([id_col, time_col]).groupby(id_col).tail(h)
    )
    future = tail[[id_col, *exog]].reset_index(drop=True)
    future.insert(1, time_col, future_dates(tail.groupby(id_col)[time_col].max(), h, freq))
    return future
