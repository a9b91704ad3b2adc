"""Timestamps with UTC offsets, as CRMs export them across daylight-saving changes.

A date column whose values carry UTC offsets (``2024-03-30T10:00:00+01:00`` and
``2024-03-31T10:00:00+02:00`` either side of a daylight-saving change, or
``...Z``) is read in one zone; the data configs have no time-zone setting, so
that zone is UTC:

- when every value is at the same local time of day in its own offset
  (period stamps: daily, weekly and monthly sales written as timestamps at
  midnight or at opening time), each keeps its local date and time:
  ``2024-03-31T00:00:00+02:00`` is 31 March, not 30 March 22:00 UTC, so the
  dates stay on their daily, weekly or monthly grid across the change;
- otherwise (event times such as lead creation) every value is converted to
  UTC: ``2024-03-31T10:00:00+02:00`` is ``2024-03-31 08:00`` (UTC), so their
  order and the hours between them are right.

Either way the result is a plain (time-zone naive) datetime column like every
other date column, and :func:`parse_dates` returns a note saying which was
done (``data inspect`` prints it). A column mixing values with an offset and
values without one is refused: the ones without are in no known zone.

pandas' warnings about mixed time zones and date formats are silenced here:
the outcome is decided and reported by this module, never by a warning.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd

from salesml.errors import DataError

OFFSET = re.compile(r"\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?P<offset>Z|[+-]\d\d(?::?\d\d)?)$")


def _minutes(offset: pd.Series) -> pd.Series:
    """``+01:00``, ``+0100``, ``+01`` and ``Z`` as minutes east of UTC."""
    text = offset.str.replace(":", "", regex=False)
    zulu = text.eq("Z")
    text = text.where(~zulu, "+0000")
    sign = text.str[0].map({"+": 1, "-": -1})
    hours = pd.to_numeric(text.str[1:3])
    mins = pd.to_numeric(text.str[3:5].replace("", "0"))
    return sign * (hours * 60 + mins)


def _shown_offsets(offset: pd.Series) -> str:
    shown = []
    for value in pd.unique(offset.dropna()):
        text = str(value)
        if re.fullmatch(r"[+-]\d{4}", text):
            text = f"{text[:3]}:{text[3:]}"
        if text not in shown:
            shown.append(text)
    return ", ".join(shown[:4]) + (", ..." if len(shown) > 4 else "")


def to_datetime(values: Any, fmt: str | None, **options: Any) -> Any:
    """:func:`pandas.to_datetime` with ``errors="coerce"`` and its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, format=fmt, errors="coerce", **options)


def parse_dates(
    values: pd.Series, fmt: str | None, where: str = "data", name: str = ""
) -> tuple[pd.Series, str | None]:
    """Dates of ``values`` in ``fmt``, with UTC offsets read as the module docstring says.

    Parameters
    ----------
    values : Series
        Text (or anything :func:`pandas.to_datetime` reads); not modified.
    fmt : str, optional
        ``"ISO8601"`` or a strftime format (``%z`` reads offsets); None lets pandas guess.
    where, name : str
        The file and the column, for messages.

    Returns
    -------
    dates : Series
        Time-zone naive datetimes; values that are not dates in ``fmt`` are missing.
    note : str or None
        How offsets were read (None when there were none).

    Raises
    ------
    DataError
        When some dates carry a UTC offset and others do not, naming an example of each.
    """
    text = values.astype("string").str.strip()
    offset = text.str.extract(OFFSET)["offset"]
    has = offset.notna()
    if not has.any():
        return to_datetime(values, fmt), None
    utc = to_datetime(text, fmt, utc=True)
    parsed = utc.notna()
    if parsed[has].any() and (parsed & ~has).any():
        with_, without = has[has & parsed].index[0], has[~has & parsed].index[0]
        pos = {i: int((values.index == i).argmax()) + 1 for i in (with_, without)}
        raise DataError(
            f"{where}: column {name!r} mixes dates with a UTC offset ({values[with_]!r} in data "
            f"row {pos[with_]}) and dates without one ({values[without]!r} in data row "
            f"{pos[without]}); the ones without are in no known time zone: write every date "
            "with its offset, or none"
        )
    local = utc.dt.tz_localize(None) + pd.to_timedelta(_minutes(offset), unit="m")
    shown = _shown_offsets(offset[parsed])
    clock = _one_time_of_day(local)
    if clock == "00:00":
        return local, f"dates with UTC offsets ({shown}), kept as local calendar dates"
    if clock is not None:
        kept = f"all at {clock} local time, kept as local dates and times"
        return local, f"dates with UTC offsets ({shown}), {kept}"
    return utc.dt.tz_localize(None), f"dates with UTC offsets ({shown}), converted to UTC"


def _one_time_of_day(local: pd.Series) -> str | None:
    """``HH:MM`` when every value is at that same local time of day, else None."""
    known = local.dropna()
    if known.empty:
        return None
    day = known - known.dt.normalize()
    if day.nunique() != 1:
        return None
    return f"{known.iloc[0]:%H:%M}"


def naive(values: pd.Series) -> pd.Series:
    """A time-zone aware datetime column as naive datetimes, by the same rule as offsets.

    Values all at one local time of day keep their local date and time; others
    are converted to UTC. Naive columns are returned as they are.
    """
    if getattr(values.dt, "tz", None) is None:
        return values
    local = values.dt.tz_localize(None)
    if _one_time_of_day(local) is not None:
        return local
    return values.dt.tz_convert("UTC").dt.tz_localize(None)
