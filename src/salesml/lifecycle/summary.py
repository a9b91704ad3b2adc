"""A transaction log summarised per customer, the way repeat-purchase models read it.

For a calibration period ending at ``end``: ``frequency`` is the number of
repeat purchases (distinct purchase times after the first; lines bought the
same day are one purchase), ``recency`` the time from the first to the last
purchase, ``T`` the time from the first purchase to ``end``, ``monetary`` the
mean value of the repeat purchases (0 without any), all in ``unit`` days
(7: weeks, as the published CDNOW figures use). The holdout counts each
customer's purchases after ``end`` up to ``holdout_end``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.errors import DataError


@dataclass(frozen=True)
class Purchases:
    """A transaction log: one row per purchase (``customer``, ``time``, ``value``)."""

    frame: pd.DataFrame
    where: str

    @classmethod
    def of(
        cls, frame: pd.DataFrame, customer: str, time: str, value: str | None, where: str
    ) -> Purchases:
        """Lines of the same customer and day merged into one purchase (their values added).

        Raises
        ------
        DataError
            Naming ``where`` and the column: a missing column or a date that does not parse.
        """
        for col in (customer, time, value):
            if col is not None and col not in frame.columns:
                raise DataError(f"{where}: no column {col!r}")
        when = pd.to_datetime(frame[time], errors="coerce")
        bad = when.isna() & frame[time].notna()
        if bad.any():
            raise DataError(
                f"{where}: column {time!r} has values that are not dates "
                f"(data row {int(np.argmax(bad.to_numpy())) + 1}: {frame[time][bad].iloc[0]!r})"
            )
        lines = pd.DataFrame(
            {
                "customer": frame[customer].astype(str),
                "time": when.dt.normalize(),
                "value": pd.to_numeric(frame[value]) if value else 0.0,
            }
        )
        merged = lines.groupby(["customer", "time"], as_index=False, sort=True)["value"].sum()
        return cls(merged, where)


def summarise(
    purchases: Purchases, end: str | pd.Timestamp, unit_days: float = 7.0
) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T`` and ``monetary`` per customer first seen by ``end``.

    ``end`` is the calibration period's last day (its purchases count).
    """
    end = pd.Timestamp(end)
    cal = purchases.frame[purchases.frame["time"] <= end]
    g = cal.groupby("customer", sort=True)
    first, last = g["time"].min(), g["time"].max()
    count = g.size()
    total = g["value"].sum()
    first_value = cal.loc[g["time"].idxmin(), ["customer", "value"]].set_index("customer")["value"]
    unit = pd.Timedelta(days=unit_days)
    repeat = (count - 1).astype(float)
    monetary = ((total - first_value) / repeat.where(repeat > 0)).fillna(0.0)
    return pd.DataFrame(
        {
            "frequency": repeat,
            "recency": (last - first) / unit,
            "T": (end - first) / unit,
            "monetary": monetary,
        }
    )


def holdout_counts(
    purchases: Purchases, end: str | pd.Timestamp, holdout_end: str | pd.Timestamp
) -> pd.Series:
    """Purchases per customer after ``end`` up to ``holdout_end`` (both days inclusive)."""
    f = purchases.frame
    mask = (f["time"] > pd.Timestamp(end)) & (f["time"] <= pd.Timestamp(holdout_end))
    return f[mask].groupby("customer").size()
