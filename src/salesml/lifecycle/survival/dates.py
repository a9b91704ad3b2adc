"""Durations from dates: a CRM's export has a start date and, once a customer left, an end date.

``data.start`` (signup, contract start) and ``data.end`` (cancellation; blank while the
customer is active) give each customer's time as a customer up to ``as_of`` (default:
the latest date in either column), in the experiment's ``unit``; a customer left when
the end date is set and not after ``as_of``. An end date after ``as_of`` (a cancellation
already booked for later) counts as still active on ``as_of``, and is counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.errors import DataError

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4375, "quarter": 91.3125, "year": 365.25}


def unit_days(unit: str) -> float:
    """Days in one ``unit`` (day, week, month, quarter, year)."""
    key = unit.lower().rstrip("s")
    if key not in UNIT_DAYS:
        raise DataError(f"unit {unit!r}: with start and end dates, use {', '.join(UNIT_DAYS)}")
    return UNIT_DAYS[key]


@dataclass(frozen=True)
class FromDates:
    """Durations and events read from dates, with what was counted on the way."""

    time: np.ndarray
    event: np.ndarray
    as_of: pd.Timestamp
    ends_later: int  # end dates after as_of: still active then
    joined_later: np.ndarray  # start after as_of: not yet customers (time and event unset)


def _day(values: pd.Series, where: str, column: str) -> pd.Series:
    """Dates as tz-naive days (a UTC offset converted to UTC first)."""
    parsed = values if pd.api.types.is_datetime64_any_dtype(values) else None
    if parsed is None:
        parsed = pd.to_datetime(values, errors="coerce", utc=True)
        bad = values.notna() & parsed.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{where}: column {column!r} has {int(bad.sum()):,} value(s) that are not dates "
                f"(data row {row + 1}: {values.iloc[row]!r})"
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.dt.normalize()


def from_dates(
    frame: pd.DataFrame,
    start: str,
    end: str,
    unit: str,
    as_of: dt.date | str | None,
    where: str,
) -> FromDates:
    """Each row's time as a customer up to ``as_of`` and whether they left (see the module).

    Raises
    ------
    DataError
        For a missing or unreadable start date or an end before its start, naming the
        column and the first rows.
    """
    s = _day(frame[start], where, start)
    e = _day(frame[end], where, end)
    days_per = unit_days(unit)

    def refuse(mask: pd.Series, what: str, column: str) -> None:
        if mask.any():
            rows = np.flatnonzero(mask.to_numpy())[:5] + 1
            raise DataError(
                f"{where}: column {column!r}: {int(mask.sum()):,} row(s) {what} "
                f"(data row {', '.join(map(str, rows))})"
            )

    refuse(s.isna(), "have no start date", start)
    refuse(e.notna() & (e < s), "end before they start", end)
    latest = max(s.max(), e.max()) if e.notna().any() else s.max()
    day = pd.Timestamp(as_of).normalize() if as_of else latest
    later = (s > day).to_numpy()
    left = e.notna() & (e <= day)
    stop = e.where(left, day)
    time = np.where(later, np.nan, ((stop - s).dt.days / days_per).to_numpy(float))
    ends_later = int((e.notna() & (e > day) & ~later).sum())
    return FromDates(time, left.to_numpy(bool) & ~later, day, ends_later, later)
