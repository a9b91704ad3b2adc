"""A deal's stage history: every stage it entered and when, as CRMs keep it.

Salesforce's opportunity history and HubSpot's deal stage history hold one row
per change: the deal, the stage it entered, when, and often the amount and the
expected close date at that moment. :func:`read_history` reads such a table
into canonical columns; :func:`export_at` rebuilds what an opportunities export
would have shown on an earlier day from it (the test that snapshots use
nothing recorded after their cutoff compares against exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.crm.opportunities import Opportunities, StatusValues, _dates, _key
from salesml.errors import DataError

_NAMES = {
    "id": ("opportunityid", "dealid", "opportunity", "deal", "id"),
    "stage": ("stage", "stagename", "dealstage", "tostage", "newstage", "status"),
    "entered": (
        "enteredat", "entered", "enteredon", "changedat", "changedate", "createddate",
        "createdat", "date", "timestamp", "validfrom",
    ),
    "amount": ("amount", "dealvalue", "value"),
    "close": ("closedate", "expectedclosedate", "expectedclose", "closedat"),
}  # fmt: skip
HISTORY_COLUMNS = ("opportunity_id", "stage", "status", "entered", "amount", "close")


@dataclass(frozen=True)
class HistoryColumns:
    """Which column of a stage-history export plays which role."""

    id: str | None = None
    stage: str | None = None
    entered: str | None = None
    amount: str | None = None
    close: str | None = None


@dataclass
class StageHistory:
    """Stage changes in canonical columns :data:`HISTORY_COLUMNS`, by deal then time.

    ``amount`` and ``close`` are blank where the export does not record them
    (``has_amount`` and ``has_close`` say whether it does at all).
    """

    frame: pd.DataFrame
    where: str
    has_amount: bool
    has_close: bool


def _find(frame: pd.DataFrame, given: HistoryColumns | None) -> HistoryColumns:
    keys = {_key(c): c for c in reversed(list(frame.columns))}
    found: dict[str, str | None] = {}
    for role, names in _NAMES.items():
        preset = getattr(given, role) if given is not None else None
        if preset is not None:
            found[role] = preset
            continue
        found[role] = next(
            (
                keys[n]
                for n in names
                if n in keys
                and keys[n] not in found.values()
                and (
                    role not in ("entered", "close")
                    or pd.api.types.is_datetime64_any_dtype(frame[keys[n]])
                )
            ),
            None,
        )
    return HistoryColumns(**found)


def read_history(
    frame: pd.DataFrame,
    where: str = "history",
    columns: HistoryColumns | None = None,
    status: StatusValues | None = None,
) -> StageHistory:
    """Read a stage-history export (one row per stage entered) into :class:`StageHistory`.

    Raises
    ------
    DataError
        Naming ``where`` and the role when the deal, stage or timestamp column
        is missing or a timestamp does not parse.
    """
    cols = _find(frame, columns)
    for role in ("id", "stage", "entered"):
        name = getattr(cols, role)
        if name is None or name not in frame.columns:
            raise DataError(
                f"{where}: no {role} column in the stage history "
                f"({'not found: ' + repr(name) if name else 'name it in the config'})"
            )
    out = pd.DataFrame(
        {
            "opportunity_id": frame[cols.id].astype(str),
            "stage": frame[cols.stage],
            "status": (status or StatusValues()).of(frame[cols.stage]),
            "entered": _dates(frame[cols.entered], where, cols.entered),
            "amount": pd.to_numeric(frame[cols.amount]) if cols.amount else np.nan,
            "close": _dates(frame[cols.close], where, cols.close) if cols.close else pd.NaT,
        }
    )
    if out["entered"].isna().any():
        row = int(np.argmax(out["entered"].isna().to_numpy())) + 1
        raise DataError(f"{where}: column {cols.entered!r} is blank in data row {row}")
    out = out.sort_values(["opportunity_id", "entered"], kind="stable").reset_index(drop=True)
    return StageHistory(out, where, cols.amount is not None, cols.close is not None)


def known_at(history: StageHistory, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Each deal's state at ``cutoff`` from the changes recorded up to it.

    Returns ``stage``, ``status``, ``entered`` (when that stage began),
    ``changes`` (stage rows so far), ``amount`` and ``close`` (the latest value
    recorded, blank if none yet) and ``pushes`` (how often the expected close
    date moved later), indexed by ``opportunity_id``.
    """
    h = history.frame[history.frame["entered"] <= cutoff]
    ids = h["opportunity_id"]
    g = h.groupby(ids, sort=True)
    state = g[["stage", "status", "entered"]].last()
    state["changes"] = g.size()
    state["amount"] = g["amount"].last()  # the latest recorded, blanks skipped
    state["close"] = g["close"].last()
    close = h["close"].groupby(ids).ffill()
    moved = (close > close.groupby(ids).shift()).groupby(ids).sum()
    state["pushes"] = moved.astype("int64")
    return state


def export_at(
    opportunities: Opportunities, history: StageHistory, cutoff: pd.Timestamp
) -> tuple[Opportunities, StageHistory]:
    """The opportunities export and stage history as they would have been read on ``cutoff``.

    Deals created after ``cutoff`` and changes recorded after it are gone; each
    deal shows the stage, status, amount and close date last recorded by then
    (the export's own amount where the history records none). This is the
    reference the snapshots are tested against.
    """
    opp = opportunities.frame
    kept = opp[opp["created"] <= cutoff].copy()
    state = known_at(history, cutoff).reindex(kept["opportunity_id"])
    state["status"] = state["status"].fillna("open")  # no change recorded yet: open
    for col in ("stage", "status"):
        kept[col] = state[col].to_numpy()
    closed = state["status"].ne("open").to_numpy()
    # a closed deal's close date is the day it closed; an open one shows the expected date
    kept["close"] = np.where(closed, state["entered"].to_numpy(), state["close"].to_numpy())
    if history.has_amount:
        amount = state["amount"].to_numpy()
        kept["amount"] = np.where(np.isnan(amount), kept["amount"].to_numpy(), amount)
    frame = history.frame[history.frame["entered"] <= cutoff].reset_index(drop=True)
    where = f"{opportunities.where} as of {cutoff:%Y-%m-%d}"
    return (
        Opportunities(
            kept.reset_index(drop=True),
            opportunities.columns,
            opportunities.status_values,
            where,
        ),
        StageHistory(frame, f"{history.where} as of {cutoff:%Y-%m-%d}", *_flags(history)),
    )


def _flags(history: StageHistory) -> tuple[bool, bool]:
    return history.has_amount, history.has_close


def stage_order(history: StageHistory) -> list[str]:
    """Open stages in the order deals pass through them (by median position in a deal's path)."""
    h = history.frame[history.frame["status"].eq("open")]
    pos = h.groupby("opportunity_id").cumcount()
    order = pos.groupby(h["stage"].astype(str)).median().sort_values(kind="stable")
    return list(order.index)
