"""Value at risk: a customer's chance of leaving times what the customer is worth.

A retention team ranks by this number, not by risk alone: a likely leaver who
spends little matters less than a fairly likely one who spends much.
:func:`value_at_risk` joins the scores of a survival or churn model (one row per
customer, a probability of leaving) with those of a value model or a value
column (one row per customer, value over the same horizon) and ranks;
:func:`rank_files` does the same for two score files (``salesml value-at-risk``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.io.coerce import conform_columns
from salesml.io.data import check_unique_ids, read_frame, require_columns, write_frame


def value_at_risk(
    risk: pd.DataFrame,
    value: pd.DataFrame,
    on: str,
    risk_column: str,
    value_column: str,
    value_on: str | None = None,
    where: tuple[str, str] = ("risk scores", "value scores"),
) -> pd.DataFrame:
    """Customers ranked by ``P(leave) x value``, with the share of the total each top slice holds.

    Parameters
    ----------
    risk : DataFrame
        One row per customer: ``on`` and ``risk_column``, a probability in [0, 1]
        (``p_leave_6`` from a survival model, ``1 - p_alive`` from BG/NBD, a churn score).
        A blank probability (a customer who already left and is not scored) leaves
        the customer out of the ranking.
    value : DataFrame
        One row per customer: ``value_on`` and ``value_column`` (``expected_value``
        from a customer-value model, or yearly revenue).
    on : str
        The customer id column of ``risk`` (and of ``value`` unless ``value_on`` is given).
    risk_column, value_column : str
        The columns multiplied.
    value_on : str, optional
        The customer id column of ``value`` when it is named differently.
    where : (str, str)
        How errors name the two inputs (their files, for :func:`rank_files`).

    Returns
    -------
    DataFrame
        ``on``, ``p_leave``, ``value``, ``value_at_risk``, ``rank`` (1: most at risk)
        and ``share_of_total`` (cumulative share of all value at risk), customers in
        both frames with both numbers only; ``attrs["unmatched"]`` counts customers in
        one frame only and ``attrs["unscored"]`` those with a blank number.

    Raises
    ------
    DataError
        Naming the input and column: a missing column, a blank or repeated customer
        id, a value that is not a finite number (read as training reads numbers:
        ``1.234,50``, ``EUR 120``), a probability outside [0, 1].
    """
    value_on = value_on or on
    for name, frame, key, col in (
        (where[0], risk, on, risk_column),
        (where[1], value, value_on, value_column),
    ):
        require_columns(frame, [key, col], name, "value-at-risk")
        check_unique_ids(frame, [key], name)
    p = conform_columns(risk, [(risk_column, "double")], where[0])[risk_column]
    outside = p.notna() & ~p.between(0, 1)
    if outside.any():
        rows = np.flatnonzero(outside.to_numpy())[:5] + 1
        raise DataError(
            f"{where[0]}: {risk_column!r} must be probabilities in [0, 1]; "
            f"{int(outside.sum()):,} value(s) are not (data row {', '.join(map(str, rows))})"
        )
    left = pd.DataFrame({on: risk[on].astype(str).to_numpy(), "p_leave": p.to_numpy()})
    right = pd.DataFrame(
        {
            on: value[value_on].astype(str).to_numpy(),
            "value": conform_columns(value, [(value_column, "double")], where[1])[
                value_column
            ].to_numpy(),
        }
    )
    both = left.merge(right, on=on, how="inner")
    scored = both["p_leave"].notna() & both["value"].notna()
    unscored = int((~scored).sum())
    both = both.loc[scored]
    both["value_at_risk"] = both["p_leave"] * both["value"]
    both = both.sort_values("value_at_risk", ascending=False, kind="stable").reset_index(drop=True)
    both["rank"] = np.arange(1, len(both) + 1)
    total = both["value_at_risk"].sum()
    both["share_of_total"] = both["value_at_risk"].cumsum() / total if total else float("nan")
    both.attrs["unmatched"] = int(len(left) + len(right) - 2 * (len(both) + unscored))
    both.attrs["unscored"] = unscored
    return both


def share_held(ranked: pd.DataFrame, fraction: float = 0.1) -> float:
    """Share of all value at risk held by the top ``fraction`` of ranked customers."""
    if ranked.empty:
        return float("nan")
    top = max(1, math.ceil(fraction * len(ranked)))
    return float(ranked["share_of_total"].iloc[top - 1])


@dataclass(frozen=True)
class RankedFile:
    """What :func:`rank_files` wrote: how many customers, and how concentrated the risk is."""

    output: Path
    customers: int
    unmatched: int
    unscored: int
    total: float
    top_decile_share: float


def rank_files(
    risk_path: Path,
    risk_column: str,
    value_path: Path,
    value_column: str,
    on: str,
    output: Path,
    value_on: str | None = None,
) -> RankedFile:
    """Rank the customers of two score files by value at risk and write the ranking.

    Parameters
    ----------
    risk_path, value_path : Path
        CSV, Excel or Parquet files, for example the outputs of ``salesml score``
        with a survival or churn model and with a customer-value model.
    risk_column, value_column, on, value_on
        As in :func:`value_at_risk`.
    output : Path
        ``.csv`` or ``.parquet``; written whole or not at all.

    Returns
    -------
    RankedFile
    """
    risk = read_frame(risk_path)
    value = risk if Path(value_path) == Path(risk_path) else read_frame(value_path)
    ranked = value_at_risk(
        risk, value, on, risk_column, value_column, value_on, (str(risk_path), str(value_path))
    )
    if ranked.empty:
        raise DataError(
            f"{risk_path} and {value_path}: no customer id in {on!r} has both a "
            f"{risk_column!r} and a {value_column!r}; check the id columns (--id, --value-id)"
        )
    write_frame(ranked, output)
    return RankedFile(
        output=Path(output),
        customers=len(ranked),
        unmatched=ranked.attrs["unmatched"],
        unscored=ranked.attrs["unscored"],
        total=float(ranked["value_at_risk"].sum()),
        top_decile_share=share_held(ranked, 0.1),
    )
