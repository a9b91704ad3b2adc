"""Booking periods and what is known at the start of each: the backtest's building blocks.

A period is a calendar month or quarter, ``[start, end)``. At its start the
forecast is made: the open pipeline then (an as-of snapshot,
:func:`salesml.crm.snapshot.as_of`) and everything about the periods that had
ended by then. What the period then booked is kept apart and only scored.

:class:`Known` is all a candidate ever sees: it has no field through which the
period's own outcome could reach a fit or a forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.crm.history import StageHistory, stage_order
from salesml.crm.opportunities import Opportunities
from salesml.crm.snapshot import Snapshot, as_of, outcomes

FREQ = {"month": "M", "quarter": "Q"}
NO_SEGMENT = "(none)"
ALL = "all"


@dataclass(frozen=True)
class Period:
    """``[start, end)``, labelled ``2024-05`` or ``2024Q2``."""

    start: pd.Timestamp
    end: pd.Timestamp
    label: str

    @property
    def days(self) -> int:
        return int((self.end - self.start) / pd.Timedelta(days=1))

    @property
    def quarter_end(self) -> bool:
        """Whether the period closes a quarter (the last month of one, or a quarter)."""
        return self.end.month in (1, 4, 7, 10)


@dataclass(frozen=True)
class PeriodData:
    """A period: its opening snapshot, and (once it has ended) what it booked.

    ``outcomes`` has the labels of the snapshot's deals (``won``, ``won_amount``);
    ``bookings`` and ``new_bookings`` are the amounts won in the period by segment,
    from every deal and from deals created inside the period.
    """

    period: Period
    snapshot: Snapshot
    segments: pd.Series  # the snapshot's deals' segment, in its order
    outcomes: pd.DataFrame
    bookings: pd.Series
    new_bookings: pd.Series


@dataclass(frozen=True)
class Known:
    """What a forecast made at ``period.start`` may use.

    ``snapshot`` and ``segments``: the pipeline open then; ``past``: the periods
    that had ended by then, oldest first; ``segments_all``: every segment
    forecast; ``stages``: the open stages in pipeline order.
    """

    period: Period
    snapshot: Snapshot
    segments: pd.Series
    past: tuple[PeriodData, ...]
    segments_all: tuple[str, ...]
    stages: tuple[str, ...]


def segment_of(opps: Opportunities) -> pd.Series:
    """Each deal's segment (``all`` without a segment column), indexed by id."""
    seg = opps.frame.set_index("opportunity_id")["segment"]
    if opps.columns.segment is None:
        return pd.Series(ALL, index=seg.index, dtype=object)
    return seg.astype(object).where(seg.notna(), NO_SEGMENT)


def data_end(opps: Opportunities, history: StageHistory | None) -> pd.Timestamp:
    """The last moment the files know of (the export's day)."""
    frame = opps.frame
    stamps = [frame["created"].max(), frame.loc[frame["status"].ne("open"), "close"].max()]
    if history is not None:
        stamps.append(history.frame["entered"].max())
    return max(s for s in stamps if pd.notna(s))


def periods_between(first: pd.Timestamp, last_end: pd.Timestamp, kind: str) -> list[Period]:
    """Every whole period starting at or after ``first`` and ending by ``last_end``."""
    out = []
    for p in pd.period_range(first, last_end, freq=FREQ[kind]):
        start, end = p.start_time, (p + 1).start_time
        if start >= first.normalize() and end <= last_end:
            out.append(Period(start, end, str(p)))
    return out


def period_data(
    opps: Opportunities,
    history: StageHistory | None,
    period: Period,
    segment: pd.Series,
    segments: tuple[str, ...],
) -> PeriodData:
    """A period's snapshot at its start and its bookings, by segment."""
    snap = as_of(opps, history, period.start)
    seg = segment.reindex(snap.frame["opportunity_id"]).reset_index(drop=True)
    frame = opps.frame
    won = (
        frame["status"].eq("won") & (frame["close"] >= period.start) & (frame["close"] < period.end)
    )
    amount = frame["amount"].fillna(0.0).where(won, 0.0)
    by = segment.reindex(frame["opportunity_id"]).to_numpy()
    bookings = amount.groupby(by).sum().reindex(segments, fill_value=0.0)
    new = won & (frame["created"] >= period.start)
    new_bookings = amount.where(new, 0.0).groupby(by).sum().reindex(segments, fill_value=0.0)
    return PeriodData(period, snap, seg, outcomes(opps, snap, period.end), bookings, new_bookings)


@dataclass(frozen=True)
class Backtest:
    """Every period from the first with a history to the last whole one, and the scored ones."""

    periods: tuple[PeriodData, ...]
    scored: tuple[int, ...]  # positions in ``periods`` forecast and scored
    segments: tuple[str, ...]
    stages: tuple[str, ...]

    def known(self, i: int) -> Known:
        """What a forecast at the start of period ``i`` may use."""
        p = self.periods[i]
        past = tuple(q for q in self.periods[:i] if q.period.end <= p.period.start)
        return Known(p.period, p.snapshot, p.segments, past, self.segments, self.stages)


def build_backtest(
    opps: Opportunities,
    history: StageHistory | None,
    kind: str,
    cutoffs: int,
    min_past: int,
    last: str | None = None,
) -> Backtest:
    """The periods of a backtest: the last ``cutoffs`` whole periods are scored.

    Each needs at least ``min_past`` whole periods of history before it; ``last``
    (a period's name) ends the backtest before the data do.

    Raises
    ------
    ValueError
        When the data span too few periods (the message counts them).
    """
    segment = segment_of(opps)
    counts = segment.value_counts()
    segments = tuple(sorted(counts.index, key=str))
    first = opps.frame["created"].min()
    end = data_end(opps, history)
    end_by = end.normalize() + pd.Timedelta(days=1)
    if last is not None:
        end_by = min(end_by, (pd.Period(last, freq=FREQ[kind]) + 1).start_time)
    whole = periods_between(first, end_by, kind)
    if len(whole) < cutoffs + min_past:
        raise ValueError(
            f"the data span {len(whole)} whole {kind}s ({first:%Y-%m-%d} to {end:%Y-%m-%d}); "
            f"a backtest of {cutoffs} with {min_past} before the first needs "
            f"{cutoffs + min_past}"
        )
    data = tuple(period_data(opps, history, p, segment, segments) for p in whole)
    scored = tuple(range(len(whole) - cutoffs, len(whole)))
    stages = tuple(stage_order(history)) if history is not None else ()
    return Backtest(data, scored, segments, stages)


def stage_index(stages: pd.Series, order: tuple[str, ...]) -> np.ndarray:
    """Position of each deal's stage in the pipeline order (NaN when unknown)."""
    pos = {s: float(i) for i, s in enumerate(order)}
    return stages.map(lambda s: pos.get(s, np.nan)).to_numpy(dtype=float)
