"""Opportunities as CRMs export them, read into one model: who, when, which stage, won or not.

A CRM's opportunities export has one row per deal: an id, when it was created
(or first engaged), its close date (the actual one when closed, the expected one
while open), its current stage, an amount, the owner and a few descriptive
columns. Whether a deal is **won, lost or still open is read from the stage
(or status) column's values**, never from the presence of a close date: an
export that sets a close date on lost deals (most do) would otherwise report a
100 % win rate.

:func:`find_columns` recognises the roles from the column names and values of a
plain export (Salesforce ``StageName``/``CloseDate``/``CreatedDate``, HubSpot
``dealstage``/``closedate``/``createdate``, ``deal_stage``/``engage_date``/
``close_date``/``close_value`` and the like); :func:`read_opportunities` builds
the canonical frame, given roles or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from salesml.errors import DataError

WON = ("won", "closed won", "closedwon", "win", "closed win", "booked")
LOST = ("lost", "closed lost", "closedlost", "loss", "closed loss", "dead", "disqualified")
STATUSES = ("won", "lost", "open")

# Column names by role, compared with separators and case removed, in order of preference.
_NAMES = {
    "id": ("opportunityid", "dealid", "opportunity", "deal", "id", "recordid"),
    "created": (
        "createddate", "createdat", "createdate", "created", "createdon", "engagedate",
        "engagedat", "opendate", "openedat", "startdate", "firstcontactdate",
    ),
    "close": (
        "closedate", "closedat", "closeddate", "closedon", "expectedclosedate",
        "expectedclose", "wondate", "closingdate",
    ),
    "stage": (
        "dealstage", "stagename", "stage", "status", "outcome", "result", "dealstatus",
        "opportunitystage", "pipelinestage",
    ),
    "amount": (
        "amount", "closevalue", "dealvalue", "value", "dealsize", "dealamount", "revenue",
        "expectedrevenue", "declaredmonthlyrevenue",
    ),
    "owner": ("owner", "salesagent", "salesrep", "rep", "ownername", "opportunityowner", "agent"),
    "segment": ("segment", "businesssegment", "product", "region", "type"),
}  # fmt: skip


def _key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def normalise(value: object) -> str:
    """A stage or status value compared loosely: lower case, separators as one space."""
    return re.sub(r"[\s_\-./]+", " ", str(value).strip().lower())


@dataclass(frozen=True)
class OpportunityColumns:
    """Which column of an export plays which role (``None``: the export has none)."""

    id: str | None = None
    created: str | None = None
    close: str | None = None
    stage: str | None = None
    amount: str | None = None
    owner: str | None = None
    segment: str | None = None

    def used(self) -> list[str]:
        return [v for v in (getattr(self, f.name) for f in fields(self)) if v is not None]


@dataclass(frozen=True)
class StatusValues:
    """The stage values that mean won and lost (compared by :func:`normalise`); others are open."""

    won: tuple[str, ...] = WON
    lost: tuple[str, ...] = LOST

    def of(self, values: pd.Series) -> pd.Series:
        """``won``, ``lost`` or ``open`` for each value (blank: open)."""
        text = values.astype("string").fillna("").map(normalise)
        won = text.isin({normalise(v) for v in self.won})
        lost = text.isin({normalise(v) for v in self.lost})
        return pd.Series(
            np.where(won, "won", np.where(lost, "lost", "open")), index=values.index, dtype=object
        )


def _is_status(values: pd.Series, status: StatusValues) -> bool:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return False
    kinds = set(status.of(values.dropna().drop_duplicates()))
    return "won" in kinds and "lost" in kinds


def find_columns(
    frame: pd.DataFrame, status: StatusValues | None = None, given: OpportunityColumns | None = None
) -> OpportunityColumns:
    """Recognise the roles of an opportunities export's columns.

    The stage column is the first column, by name preference, whose values hold
    both a won and a lost value; a date role needs a date column. Roles in
    ``given`` are kept as they are.
    """
    status = status or StatusValues()
    keys = {_key(c): c for c in reversed(list(frame.columns))}  # first of equal keys wins
    found: dict[str, str | None] = {}
    for role, names in _NAMES.items():
        pick = None
        for name in names:
            col = keys.get(name)
            if col is None or col in found.values():
                continue
            values = frame[col]
            if role in ("created", "close") and not pd.api.types.is_datetime64_any_dtype(values):
                continue
            if role == "stage" and not _is_status(values, status):
                continue
            if role == "amount" and not pd.api.types.is_numeric_dtype(values):
                continue
            pick = col
            break
        found[role] = pick
    if found["stage"] is None:  # a stage column under another name, found by its values
        found["stage"] = next(
            (c for c in frame.columns if c not in found.values() and _is_status(frame[c], status)),
            None,
        )
    cols = OpportunityColumns(**found)
    if given is not None:
        cols = replace(cols, **{f.name: getattr(given, f.name) for f in fields(given)
                                if getattr(given, f.name) is not None})  # fmt: skip
    return cols


@dataclass
class Opportunities:
    """An opportunities export in canonical columns.

    ``frame`` holds ``opportunity_id``, ``created``, ``close``, ``stage`` (as
    exported), ``status`` (``won``/``lost``/``open``), ``amount``, ``owner`` and
    ``segment`` (blank where the export has no such column), one row per deal,
    in the export's order; ``columns`` names the export's columns behind them.
    """

    frame: pd.DataFrame
    columns: OpportunityColumns
    status_values: StatusValues
    where: str

    @property
    def closed(self) -> pd.Series:
        return self.frame["status"].ne("open")

    def win_rate(self) -> float:
        """Won / (won + lost); NaN without closed deals."""
        closed = self.frame["status"][self.closed]
        return float(closed.eq("won").mean()) if len(closed) else float("nan")

    def counts(self) -> dict[str, int]:
        vc = self.frame["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}


def read_opportunities(
    frame: pd.DataFrame,
    where: str = "data",
    columns: OpportunityColumns | None = None,
    status: StatusValues | None = None,
) -> Opportunities:
    """Build :class:`Opportunities` from an export, recognising the roles not given.

    Raises
    ------
    DataError
        Naming ``where`` and the column: no stage column with won and lost values,
        no created date, a date column that does not parse, a repeated id.
    """
    status = status or StatusValues()
    cols = find_columns(frame, status, columns)
    missing = [c for c in cols.used() if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: column(s) {', '.join(map(repr, missing))} not in the data")
    if cols.stage is None:
        raise DataError(
            f"{where}: no stage or status column holding both won and lost values "
            f"(won: {', '.join(status.won)}; lost: {', '.join(status.lost)}); name it, "
            "with its values, in the config"
        )
    if cols.created is None:
        raise DataError(f"{where}: no created (or engaged) date column; name it in the config")
    out = pd.DataFrame(index=frame.index)
    out["opportunity_id"] = (
        frame[cols.id].astype(str) if cols.id else pd.Series(frame.index + 1, index=frame.index)
    )
    for role in ("created", "close"):
        name = getattr(cols, role)
        out[role] = _dates(frame[name], where, name) if name else pd.NaT
    out["stage"] = frame[cols.stage]
    out["status"] = status.of(frame[cols.stage])
    out["amount"] = pd.to_numeric(frame[cols.amount]) if cols.amount else np.nan
    for role in ("owner", "segment"):
        name = getattr(cols, role)
        out[role] = frame[name].astype("string") if name else pd.NA
    if cols.id and out["opportunity_id"].duplicated().any():
        dup = out.loc[out["opportunity_id"].duplicated(), "opportunity_id"].iloc[0]
        raise DataError(f"{where}: column {cols.id!r} repeats the id {dup!r}; one row per deal")
    return Opportunities(out.reset_index(drop=True), cols, status, where)


def _dates(values: pd.Series, where: str, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_convert(None) if values.dt.tz is not None else values
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    bad = parsed.isna() & values.notna() & values.astype(str).str.strip().ne("")
    if bad.any():
        raise DataError(
            f"{where}: column {name!r} has values that are not dates (row {int(np.argmax(bad)) + 1}: "
            f"{values[bad].iloc[0]!r})"
        )
    return parsed


STATUS = "_status"


def status_from_dates(
    frame: pd.DataFrame, created: str, close: str, lost_after_days: int, where: str
) -> pd.DataFrame:
    """A won/lost/open column for an export without one: leads and the deals won from them.

    A close (won) date means won; a row not won ``lost_after_days`` after it was
    created counts as lost on that day, once the data reach it (the export's
    last date); younger rows are open. Returns ``frame`` with the status in
    column :data:`STATUS` and the lost rows' close date set to the day they
    count as lost. That day is fixed by the rule, not by what happened later,
    so a snapshot never learns from it before its time.
    """
    created_at = _dates(frame[created], where, created)
    closed_at = _dates(frame[close], where, close)
    end = max(d for d in (created_at.max(), closed_at.max()) if pd.notna(d))
    gives_up = created_at + pd.Timedelta(days=lost_after_days)
    won = closed_at.notna()
    lost = ~won & (gives_up <= end)
    out = frame.copy()
    out[created] = created_at
    out[close] = closed_at.where(won, gives_up.where(lost))
    out[STATUS] = np.where(won, "won", np.where(lost, "lost", "open"))
    return out
