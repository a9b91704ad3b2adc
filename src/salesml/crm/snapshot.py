"""The open pipeline as it stood on a cutoff date, built only from what was known then.

A forecast made on day *t* may use what the CRM showed on day *t*: the deals
open then, their age, the stage they were in and for how long, the amount and
expected close date recorded by then, how often that date had been pushed, and
each owner's record on deals closed before *t*. :func:`as_of` builds exactly
that; :func:`outcomes` gives what happened after *t* (the labels), kept apart.

Without a stage history, an export shows only each deal's *current* stage,
amount and close date: for a deal that closed after *t* those are its outcome,
not what was known at *t*. The snapshot then leaves the stage and expected
close out, keeps the current amount (a deal's amount is often revised, so
``Snapshot.current`` names it as the one column not as of *t*), and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesml.crm.history import StageHistory, known_at
from salesml.crm.opportunities import Opportunities

DAY = pd.Timedelta(days=1)
# The owner's win rate: deals closed in the trailing year, shrunk towards everyone's with
# as many pseudo-deals (a new rep with 2 wins out of 2 is not a 100 % closer).
OWNER_WINDOW_DAYS = 365
OWNER_PRIOR_DEALS = 10
SNAPSHOT_COLUMNS = (
    "opportunity_id", "owner", "segment", "age_days", "amount", "stage", "days_in_stage",
    "stage_changes", "expected_close", "days_to_expected_close", "pushes", "owner_win_rate",
    "owner_closed",
)  # fmt: skip


@dataclass
class Snapshot:
    """The deals open at ``cutoff`` and what was known about them then.

    ``frame`` has :data:`SNAPSHOT_COLUMNS` (blank where the data cannot tell
    them as of the cutoff), one row per open deal in id order; ``current``
    names columns taken from the export as it is now rather than as of the
    cutoff (only ``amount``, and only without a stage history that records amounts).
    """

    cutoff: pd.Timestamp
    frame: pd.DataFrame
    from_history: bool
    current: tuple[str, ...] = field(default_factory=tuple)


def _closings(
    opps: Opportunities, history: StageHistory | None, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Per deal: ``status`` as known at ``cutoff`` and ``closed_at`` when it closed by then."""
    frame = opps.frame.set_index("opportunity_id")
    if history is not None:
        state = known_at(history, cutoff).reindex(frame.index)
        status = state["status"].fillna("open")
        closed_at = state["entered"].where(status.ne("open"))
    else:
        # close dates are days: a deal closed on the cutoff's day was open at its start
        done = frame["status"].ne("open") & (frame["close"] < cutoff)
        status = frame["status"].where(done, "open")
        closed_at = frame["close"].where(done)
    created = frame["created"] <= cutoff
    return pd.DataFrame({"status": status, "closed_at": closed_at})[created.to_numpy()]


def _owner_rates(opps: Opportunities, closings: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    owner = opps.frame.set_index("opportunity_id")["owner"].reindex(closings.index)
    since = cutoff - OWNER_WINDOW_DAYS * DAY
    recent = closings["status"].ne("open") & (closings["closed_at"] > since)
    won = closings["status"].eq("won") & recent
    overall = won.sum() / recent.sum() if recent.any() else np.nan
    g = pd.DataFrame({"won": won, "closed": recent}).groupby(owner.to_numpy(), dropna=False)
    counts = g.sum()
    prior = OWNER_PRIOR_DEALS * (overall if np.isfinite(overall) else 0.0)
    rate = (counts["won"] + prior) / (counts["closed"] + OWNER_PRIOR_DEALS)
    return pd.DataFrame({"owner_win_rate": rate, "owner_closed": counts["closed"]})


def as_of(
    opportunities: Opportunities, history: StageHistory | None, cutoff: str | pd.Timestamp
) -> Snapshot:
    """The pipeline open at ``cutoff``, from what was recorded up to it.

    Parameters
    ----------
    opportunities : Opportunities
        The export (ids, created dates, owners and segments are taken as they
        are: they do not change over a deal's life).
    history : StageHistory, optional
        The stage history; without it, stage, time in stage, expected close and
        pushes are blank and the amount is the current one.
    cutoff : timestamp
        The moment the snapshot is taken (changes at exactly this time count).
    """
    cutoff = pd.Timestamp(cutoff)
    closings = _closings(opportunities, history, cutoff)
    open_ids = closings.index[closings["status"].eq("open")]
    frame = opportunities.frame.set_index("opportunity_id").loc[open_ids]
    out = pd.DataFrame(index=open_ids)
    out["owner"] = frame["owner"]
    out["segment"] = frame["segment"]
    out["age_days"] = (cutoff - frame["created"]) / DAY
    current: tuple[str, ...] = ()
    blank = pd.Series(np.nan, index=open_ids)
    if history is not None:
        state = known_at(history, cutoff).reindex(open_ids)
        amount = state["amount"] if history.has_amount else blank
        if not history.has_amount or amount.isna().any():
            amount = amount.fillna(frame["amount"])
            current = ("amount",)
        out["amount"] = amount
        out["stage"] = state["stage"]
        out["days_in_stage"] = (cutoff - state["entered"]) / DAY
        out["stage_changes"] = state["changes"].fillna(0).astype("int64")
        out["expected_close"] = state["close"]
        out["days_to_expected_close"] = (state["close"] - cutoff) / DAY
        out["pushes"] = state["pushes"].fillna(0).astype("int64")
    else:
        out["amount"] = frame["amount"]
        current = ("amount",)
        out["stage"] = pd.Series(pd.NA, index=open_ids, dtype=object)
        for col in ("days_in_stage", "stage_changes"):
            out[col] = blank
        out["expected_close"] = pd.Series(pd.NaT, index=open_ids, dtype="datetime64[ns]")
        out["days_to_expected_close"] = blank
        out["pushes"] = blank
    rates = _owner_rates(opportunities, closings, cutoff)
    by_owner = rates.reindex(out["owner"].to_numpy())
    out["owner_win_rate"] = by_owner["owner_win_rate"].to_numpy()
    out["owner_closed"] = by_owner["owner_closed"].fillna(0).to_numpy().astype("int64")
    out = out.rename_axis("opportunity_id").reset_index().sort_values("opportunity_id")
    return Snapshot(cutoff, out.reset_index(drop=True), history is not None, current)


def outcomes(
    opportunities: Opportunities, snapshot: Snapshot, end: str | pd.Timestamp
) -> pd.DataFrame:
    """What became of the snapshot's deals by ``end``: the labels, never features.

    Returns ``opportunity_id``, ``won`` (closed won with a close date from the
    cutoff up to, not including, ``end``) and ``won_amount`` (its amount in the
    export, 0 otherwise), in the snapshot's order.
    """
    end = pd.Timestamp(end)
    frame = opportunities.frame.set_index("opportunity_id").reindex(
        snapshot.frame["opportunity_id"]
    )
    won = (
        frame["status"].eq("won") & (frame["close"] >= snapshot.cutoff) & (frame["close"] < end)
    ).to_numpy()
    amount = frame["amount"].fillna(0.0).to_numpy()
    return pd.DataFrame(
        {
            "opportunity_id": snapshot.frame["opportunity_id"].to_numpy(),
            "won": won,
            "won_amount": np.where(won, amount, 0.0),
        }
    )


def from_export(opportunities: Opportunities, cutoff: str | pd.Timestamp) -> Snapshot:
    """The pipeline open at ``cutoff``, on or after the export's own day, from the export alone.

    On its own day an export's current stage, expected close date and amount
    are what is known, so they are used; time in stage, stage changes and
    pushes need a stage history and stay blank.

    Raises
    ------
    ValueError
        When ``cutoff`` is before the last day the export records: its stages
        would then be later than the cutoff (say which day it is).
    """
    cutoff = pd.Timestamp(cutoff)
    frame = opportunities.frame
    closed = frame.loc[frame["status"].ne("open"), "close"]
    last = max(d for d in (frame["created"].max(), closed.max()) if pd.notna(d))
    if cutoff < last.normalize():
        raise ValueError(
            f"the export shows its deals as of {last:%Y-%m-%d}; a forecast as of "
            f"{cutoff:%Y-%m-%d} would see stages recorded after it (that needs the stage "
            "history, as the experiment's backtest has)"
        )
    snap = as_of(opportunities, None, cutoff)
    now = frame.set_index("opportunity_id").reindex(snap.frame["opportunity_id"])
    out = snap.frame.copy()
    out["stage"] = now["stage"].to_numpy()
    out["expected_close"] = now["close"].to_numpy()
    out["days_to_expected_close"] = ((now["close"] - cutoff) / DAY).to_numpy()
    return Snapshot(cutoff, out, from_history=False, current=())
