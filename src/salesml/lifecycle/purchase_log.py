"""From a transaction log to what the candidates read: cleaned purchases, summaries, cuts."""

from __future__ import annotations

import pandas as pd

from salesml.lifecycle.candidates import ValueData
from salesml.lifecycle.summary import Purchases, summarise
from salesml.lifecycle.transactions import CleaningRules, Columns, clean


def read_purchases(
    frame: pd.DataFrame, cols: Columns, rules: CleaningRules, where: str
) -> tuple[Purchases, dict[str, int]]:
    """The log cleaned by ``rules`` and merged into one purchase per customer and day.

    A day whose lines net to less than nothing (returns only) is no purchase; a day
    worth exactly 0 follows ``rules.zero_value``. Returns the purchases and the
    cleaning counts (:func:`salesml.lifecycle.transactions.clean`).
    """
    lines, counts = clean(frame, cols, rules)
    purchases = Purchases.of(lines, "customer", "time", "value", where)
    days = purchases.frame
    days = days[days["value"] > 0] if rules.zero_value == "drop" else days[days["value"] >= 0]
    return Purchases(days.reset_index(drop=True), where), counts


def between(purchases: Purchases, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Purchases and spend per customer after ``start`` up to ``end`` (days inclusive)."""
    f = purchases.frame
    part = f[(f["time"] > start) & (f["time"] <= end)]
    g = part.groupby("customer")
    return pd.DataFrame({"actual_purchases": g.size(), "actual_spend": g["value"].sum()})


def value_data(
    purchases: Purchases, end: pd.Timestamp, horizon_days: float, unit_days: float
) -> tuple[ValueData, pd.Timestamp]:
    """What candidates may use at ``end``: the summary then, and an earlier cut (the middle
    of the log up to ``end``) with what followed it up to ``end``. Returns the cut too."""
    unit = pd.Timedelta(days=unit_days)
    summary = summarise(purchases, end, unit_days)
    first = purchases.frame["time"].min()
    cut = (first + (end - first) / 2).normalize()
    later = between(purchases, cut, end)
    data = ValueData(
        summary=summary,
        horizon=float(horizon_days / unit_days),
        train_summary=summarise(purchases, cut, unit_days),
        train_purchases=later["actual_purchases"],
        train_spend=later["actual_spend"],
        train_horizon=float((end - cut) / unit),
    )
    return data, cut
