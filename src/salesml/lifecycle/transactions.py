"""A shop's transaction log as exported, cleaned by stated rules that are counted.

Exports hold rows a repeat-purchase model must not read as they are: lines
without a customer id (guest checkouts), returns and cancellations (negative
quantities or values, invoices marked cancelled), zero-value lines (free
samples, price corrections) and duplicated lines. :func:`clean` applies one
rule to each kind (:class:`CleaningRules`, set in the config) and returns
how many lines each rule touched, for the screen and the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd


@dataclass(frozen=True)
class CleaningRules:
    """What to do with each kind of awkward line.

    ``returns``: ``net`` (a return lowers that day's purchase value; a day that
    nets to nothing or less is no purchase) or ``drop`` (returned lines are
    ignored); ``zero_value``: ``drop`` or ``keep`` (a purchase worth nothing
    still counts as a purchase); ``duplicates``: ``drop`` identical lines or ``keep``.
    Lines without a customer are always dropped: nobody can be followed.
    """

    returns: Literal["net", "drop"] = "net"
    zero_value: Literal["drop", "keep"] = "drop"
    duplicates: Literal["drop", "keep"] = "drop"


@dataclass(frozen=True)
class Columns:
    """The log's columns: customer, time, value; optionally quantity and invoice."""

    customer: str
    time: str
    value: str
    quantity: str | None = None
    invoice: str | None = None


def clean(
    frame: pd.DataFrame, cols: Columns, rules: CleaningRules
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The lines the model reads, and how many lines each rule removed or netted.

    Returns ``customer``, ``time`` (as given) and ``value`` (quantity times value
    when a quantity is given and the value is a unit price).
    """
    counts: dict[str, int] = {"lines": len(frame)}
    out = frame
    no_customer = out[cols.customer].isna() | out[cols.customer].astype(str).str.strip().eq("")
    counts["no_customer"] = int(no_customer.sum())
    out = out[~no_customer]
    if rules.duplicates == "drop":
        dup = out.duplicated()
        counts["duplicates"] = int(dup.sum())
        out = out[~dup]
    value = pd.to_numeric(out[cols.value])
    if cols.quantity is not None:
        value = value * pd.to_numeric(out[cols.quantity])
    returned = value < 0
    if cols.invoice is not None:
        returned |= out[cols.invoice].astype(str).str.upper().str.startswith("C")
        value = value.where(~returned, -value.abs())
    counts["returns"] = int(returned.sum())
    zero = value == 0
    counts["zero_value"] = int(zero.sum())
    keep = pd.Series(True, index=out.index)
    if rules.returns == "drop":
        keep &= ~returned
    if rules.zero_value == "drop":
        keep &= ~zero
    lines = pd.DataFrame(
        {"customer": out[cols.customer].astype(str), "time": out[cols.time], "value": value}
    )[keep]
    counts["used"] = len(lines)
    return lines, counts


def describe(counts: dict[str, int], rules: CleaningRules) -> str:
    """One line for the screen: what each rule did."""
    parts = [f"{counts['lines']:,} lines"]
    if counts.get("no_customer"):
        parts.append(f"{counts['no_customer']:,} without a customer dropped")
    if counts.get("duplicates"):
        parts.append(f"{counts['duplicates']:,} duplicated dropped")
    if counts.get("returns"):
        verb = "netted against their day" if rules.returns == "net" else "dropped"
        parts.append(f"{counts['returns']:,} returns {verb}")
    if counts.get("zero_value"):
        verb = "dropped" if rules.zero_value == "drop" else "kept as purchases"
        parts.append(f"{counts['zero_value']:,} worth 0 {verb}")
    return "transactions: " + ", ".join(parts) + f"; {counts['used']:,} used"
