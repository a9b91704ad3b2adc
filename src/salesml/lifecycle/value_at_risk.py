"""Value at risk: a customer's chance of leaving times what the customer is worth.

A retention team ranks by this number, not by risk alone: a likely leaver who
spends little matters less than a fairly likely one who spends much.
:func:`value_at_risk` joins the scores of a survival or churn model (one row per
customer, a probability of leaving) with those of a value model or a value
column (one row per customer, value over the same horizon) and ranks.
"""

from __future__ import annotations

import pandas as pd

from salesml.errors import DataError


def value_at_risk(
    risk: pd.DataFrame,
    value: pd.DataFrame,
    on: str,
    risk_column: str,
    value_column: str,
) -> pd.DataFrame:
    """Customers ranked by ``P(leave) x value``, with the share of the total each top slice holds.

    Parameters
    ----------
    risk : DataFrame
        One row per customer: ``on`` and ``risk_column``, a probability in [0, 1]
        (``p_leave_6`` from a survival model, ``1 - p_alive`` from BG/NBD, a churn score).
    value : DataFrame
        One row per customer: ``on`` and ``value_column`` (``expected_value`` from a
        customer-value model, or yearly revenue).
    on : str
        The customer id column both frames carry.
    risk_column, value_column : str
        The columns multiplied.

    Returns
    -------
    DataFrame
        ``on``, ``p_leave``, ``value``, ``value_at_risk``, ``rank`` (1: most at risk)
        and ``share_of_total`` (cumulative share of all value at risk), customers in
        both frames only; ``attrs["unmatched"]`` counts those in one frame only.

    Raises
    ------
    DataError
        For a missing column, a repeated customer, or a probability outside [0, 1].
    """
    for name, frame, cols in (
        ("risk", risk, [on, risk_column]),
        ("value", value, [on, value_column]),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{name} scores: column(s) {', '.join(map(repr, missing))} missing")
        if frame[on].duplicated().any():
            raise DataError(f"{name} scores: customer ids in {on!r} repeat")
    p = pd.to_numeric(risk[risk_column], errors="coerce")
    if not p.dropna().between(0, 1).all():
        raise DataError(f"risk scores: {risk_column!r} must be probabilities in [0, 1]")
    left = pd.DataFrame({on: risk[on].astype(str), "p_leave": p})
    right = pd.DataFrame(
        {on: value[on].astype(str), "value": pd.to_numeric(value[value_column], errors="coerce")}
    )
    both = left.merge(right, on=on, how="inner")
    both["value_at_risk"] = both["p_leave"] * both["value"]
    both = both.sort_values("value_at_risk", ascending=False, kind="stable").reset_index(drop=True)
    both["rank"] = range(1, len(both) + 1)
    total = both["value_at_risk"].sum()
    both["share_of_total"] = both["value_at_risk"].cumsum() / total if total else float("nan")
    both.attrs["unmatched"] = int(len(left) + len(right) - 2 * len(both))
    return both
