"""What an exported forecast model reads: the training file's columns, each series' end.

:func:`from_raw_columns` lets ``salesml score`` read a file shaped like the
training file (``Store, Date`` rather than ``unique_id, ds``);
:func:`history_ends` gives each series' last date, against which
:class:`~salesml.forecast.export.ForecastPredictor` checks future rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def from_raw_columns(frame: pd.DataFrame, raw: dict[str, Any], where: str) -> pd.DataFrame:
    """``frame`` with ``unique_id`` and ``ds`` made from the training file's id and date columns.

    Several id columns are joined with ``/`` and dates are read in the training
    ``date_format``, as :func:`salesml.forecast.data.to_long` does; a frame that
    has ``unique_id`` (or ``ds``) already, or lacks the raw columns, is left as it is.
    """
    from salesml.io.timestamps import parse_dates

    ids, time = list(raw.get("id") or []), raw.get("time")
    out = frame
    if ids and "unique_id" not in out.columns and all(c in out.columns for c in ids):
        key = out[ids[0]].astype(str)
        for col in ids[1:]:
            key = key + "/" + out[col].astype(str)
        out = out.assign(unique_id=key.to_numpy(object))
    if time and "ds" not in out.columns and time in out.columns:
        fmt = raw.get("date_format") or "ISO8601"
        out = out.assign(ds=parse_dates(out[time], fmt, where, time)[0].to_numpy())
    return out


def history_ends(forecaster: Any) -> pd.Series | None:
    """Each series' last date in the history ``forecaster`` was fitted on (None: unknown).

    Read from the fallback ladder's history, or an ensemble's first member's.
    """
    hist = getattr(forecaster, "history_", None)
    if isinstance(hist, pd.DataFrame):
        return hist.groupby(forecaster.id_col)[forecaster.time_col].max()
    for member in getattr(forecaster, "members", []):
        found = history_ends(member)
        if found is not None:
            return found
    return None
