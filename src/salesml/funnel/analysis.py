"""Sales-funnel and customer-lifecycle analytics: where deals stall, how long they take, what the pipeline is worth.

From a table of opportunities (or leads) with one timestamp column per stage
(wide format, as CRMs export stage history), :func:`analyse_funnel` computes:

- stage-to-stage conversion and drop-off (a row reached a stage when its
  timestamp is set);
- time in stage (days from one stage's timestamp to the next's), median and p90;
- the sales-cycle length of won deals (created to closed), median and p90;
- the win rate (close rate): won / (won + lost) among closed rows;
- speed to lead: win rate by first-response time band;
- pipeline velocity: open opportunities x win rate x average won deal size /
  average cycle length (money per day; deals per day without amounts);

each overall, by segment and by cohort month (the month a row was created).
From a customers table, :func:`retention_curves` gives lifecycle retention:
the monthly churn hazard by tenure band and segment, chained into the share
of a cohort still active after k months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesml.crm.opportunities import StatusValues
from salesml.crm.timeline import TimelineFlag, backwards, check_timeline
from salesml.errors import DataError

RESPONSE_BANDS = [0, 1, 4, 24, 72, np.inf]
RESPONSE_LABELS = ["< 1 h", "1-4 h", "4-24 h", "1-3 days", "> 3 days"]


@dataclass
class FunnelSpec:
    """Which columns of an opportunities table mean what.

    Parameters
    ----------
    stages : list of str
        Stage timestamp columns in funnel order (the first is the entry stage).
    created : str
        When the row entered the funnel (cohort month, cycle start).
    closed : str, optional
        When it was closed (won or lost); default: the last stage's column.
    outcome : str, optional
        Column holding ``won``/``lost``/``open``; without it a row is won when
        it reached the last stage and open otherwise.
    won, lost : str or sequence of str
        The outcome values meaning won and lost (compared loosely: case and
        separators aside, see :func:`salesml.crm.opportunities.normalise`);
        other values are open.
    amount : str, optional
        Deal size, for pipeline value and velocity.
    segment : str, optional
        A column to break every metric down by.
    first_response_hours : str, optional
        Hours to the first response, for speed to lead.
    stale_after_days : int, optional
        Without an outcome column: a row not won this many days after it was
        created (counting back from the latest date in the data) counts as
        lost; younger rows are open.
    labels : dict, optional
        Display names of the stage columns.
    """

    stages: list[str]
    created: str
    closed: str | None = None
    outcome: str | None = None
    won: str | Sequence[str] = "won"
    lost: str | Sequence[str] = "lost"
    amount: str | None = None
    segment: str | None = None
    first_response_hours: str | None = None
    stale_after_days: int | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def columns(self) -> list[str]:
        cols = [*self.stages, self.created, self.closed, self.outcome, self.amount]
        cols += [self.segment, self.first_response_hours]
        return list(dict.fromkeys(c for c in cols if c))

    def label(self, stage: str) -> str:
        return self.labels.get(stage, stage.removesuffix("_at").removesuffix("_date"))


def prepare(frame: pd.DataFrame, spec: FunnelSpec, where: str = "data") -> pd.DataFrame:
    """Check the columns, parse the timestamps and add ``_won``, ``_closed``, ``_cohort``."""
    missing = [c for c in spec.columns() if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: funnel column(s) {', '.join(map(repr, missing))} not in the data; "
            f"available: {', '.join(map(str, frame.columns[:30]))}"
        )
    out = frame.copy()
    for col in dict.fromkeys([*spec.stages, spec.created, spec.closed or spec.stages[-1]]):
        values = out[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            continue
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
        bad = parsed.isna() & values.notna()
        if bad.any():
            raise DataError(
                f"{where}: column {col!r} has values that are not ISO dates "
                f"(e.g. {values[bad].iloc[0]!r})"
            )
        out[col] = parsed
    if out[spec.created].isna().all():
        raise DataError(f"{where}: the created column {spec.created!r} is empty")
    last = spec.stages[-1]
    if spec.outcome:
        status = StatusValues(_values(spec.won), _values(spec.lost)).of(out[spec.outcome])
        out["_won"] = status.eq("won")
        out["_closed"] = status.ne("open")
    else:
        out["_won"] = out[last].notna()
        out["_closed"] = out["_won"]
        if spec.stale_after_days is not None:
            snapshot = max(out[c].max() for c in dict.fromkeys([*spec.stages, spec.created]))
            cutoff = snapshot - pd.Timedelta(days=spec.stale_after_days)
            out["_closed"] = out["_won"] | (out[spec.created] < cutoff)
    out["_cohort"] = out[spec.created].dt.to_period("M").astype(str)
    return out


def _values(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _stage_table(df: pd.DataFrame, spec: FunnelSpec) -> pd.DataFrame:
    rows = []
    closed_col = spec.closed or spec.stages[-1]
    for i, stage in enumerate(spec.stages):
        reached = df[stage].notna()
        if spec.outcome and stage == closed_col:  # an open deal's close date is only expected
            reached &= df["_closed"]
        nxt = df[spec.stages[i + 1]].notna() if i + 1 < len(spec.stages) else df["_won"]
        n = int(reached.sum())
        advanced = int((reached & nxt).sum())
        step = None
        if i + 1 < len(spec.stages):
            days = (df[spec.stages[i + 1]] - df[stage]).dt.total_seconds() / 86400
            step = days[reached & nxt & (days >= 0)]  # a negative time in stage is impossible
        rows.append(
            {
                "stage": spec.label(stage),
                "reached": n,
                "share_of_entries": n / max(int(df[spec.stages[0]].notna().sum()), 1),
                "to_next": advanced / n if n else np.nan,
                "drop_off": 1 - advanced / n if n else np.nan,
                "days_median": float(step.median()) if step is not None and len(step) else np.nan,
                "days_p90": float(step.quantile(0.9)) if step is not None and len(step) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _cycle_days(df: pd.DataFrame, spec: FunnelSpec) -> pd.Series:
    """Days from created to closed of every won row (closing before creation left out)."""
    won = df["_won"]
    closed = spec.closed or spec.stages[-1]
    days = (df.loc[won, closed] - df.loc[won, spec.created]).dt.total_seconds() / 86400
    in_order = ~backwards(df.loc[won], spec.created, closed)
    return days[in_order].clip(lower=0)  # closed the day it was created (a date): 0 days


def _headline(df: pd.DataFrame, spec: FunnelSpec) -> dict[str, float]:
    won, closed = df["_won"], df["_closed"]
    cycle = _cycle_days(df, spec)
    open_ = ~closed
    win_rate = won.sum() / closed.sum() if closed.sum() else np.nan
    avg_deal = float(df.loc[won, spec.amount].mean()) if spec.amount and won.any() else 1.0
    avg_cycle = float(cycle.mean()) if len(cycle) else np.nan
    velocity = open_.sum() * win_rate * avg_deal / avg_cycle if avg_cycle else np.nan
    out = {
        "rows": int(len(df)),
        "won": int(won.sum()),
        "closed": int(closed.sum()),
        "open": int(open_.sum()),
        "win_rate": float(win_rate),
        "cycle_days_median": float(cycle.median()) if len(cycle) else np.nan,
        "cycle_days_p90": float(cycle.quantile(0.9)) if len(cycle) else np.nan,
        "avg_deal": avg_deal if spec.amount else np.nan,
        "open_pipeline": float(df.loc[open_, spec.amount].sum()) if spec.amount else np.nan,
        "velocity_per_day": float(velocity),
    }
    return out


def _speed_to_lead(df: pd.DataFrame, spec: FunnelSpec) -> pd.DataFrame | None:
    if not spec.first_response_hours:
        return None
    hours = pd.to_numeric(df[spec.first_response_hours], errors="coerce")
    band = pd.cut(hours, RESPONSE_BANDS, labels=RESPONSE_LABELS, right=False)
    closed = df["_closed"]
    g = pd.DataFrame({"band": band[closed], "won": df.loc[closed, "_won"]}).groupby(
        "band", observed=False
    )["won"]
    return pd.DataFrame({"closed": g.size(), "win_rate": g.mean()}).reset_index()


@dataclass
class FunnelReport:
    """Everything :func:`analyse_funnel` measured; frames print as tables."""

    headline: dict[str, float]
    stages: pd.DataFrame
    by_segment: pd.DataFrame | None
    by_cohort: pd.DataFrame
    speed_to_lead: pd.DataFrame | None
    spec: FunnelSpec
    cycle_days: pd.Series
    timeline: list[TimelineFlag] = field(default_factory=list)


def analyse_funnel(frame: pd.DataFrame, spec: FunnelSpec, where: str = "data") -> FunnelReport:
    """Stage conversion, time in stage, cycle length, win rate, speed to lead and velocity.

    Returns
    -------
    FunnelReport
        ``headline`` (overall), ``stages``, ``by_segment`` and ``by_cohort``
        (one row per segment or creation month with the headline metrics), and
        ``speed_to_lead`` (win rate by first-response band).
    """
    df = prepare(frame, spec, where)
    by_segment = None
    if spec.segment:
        by_segment = pd.DataFrame(
            {k: _headline(g, spec) for k, g in df.groupby(spec.segment, sort=True)}
        ).T.rename_axis(spec.segment)
    by_cohort = pd.DataFrame({k: _headline(g, spec) for k, g in df.groupby("_cohort")}).T
    return FunnelReport(
        headline=_headline(df, spec),
        stages=_stage_table(df, spec),
        by_segment=by_segment,
        by_cohort=by_cohort.rename_axis("cohort"),
        speed_to_lead=_speed_to_lead(df, spec),
        spec=spec,
        cycle_days=_cycle_days(df, spec),
        timeline=check_timeline(df, timeline_pairs(spec)),
    )


def timeline_pairs(spec: FunnelSpec) -> list[tuple[str, str]]:
    """The timestamp columns that must come in order: created first, then each stage."""
    closed = spec.closed or spec.stages[-1]
    pairs = [(spec.created, closed)]
    pairs += [(spec.created, s) for s in spec.stages if s != spec.created]
    pairs += list(zip(spec.stages, spec.stages[1:], strict=False))
    return [(a, b) for a, b in pairs if a != b]


def retention_curves(
    customers: pd.DataFrame,
    tenure: str = "tenure_months",
    churned: str = "churned",
    horizon_months: int = 3,
    segment: str | None = None,
    months: int = 36,
    where: str = "data",
) -> pd.DataFrame:
    """Lifecycle retention: share of a new cohort still active after k months, by segment.

    From a snapshot of active customers with their tenure and whether they
    churned in the following ``horizon_months``: the monthly churn hazard is
    estimated per 6-month tenure band (churners / customer-months at risk) and
    chained, ``S(k) = prod(1 - h(j), j < k)``.

    Returns
    -------
    DataFrame
        Index ``month`` 0..``months``; one column per segment (or ``all``).
    """
    for col in (tenure, churned, segment):
        if col and col not in customers.columns:
            raise DataError(f"{where}: retention column {col!r} not in the data")
    df = customers.assign(
        _band=(pd.to_numeric(customers[tenure], errors="coerce") // 6).clip(0, 20)
    )
    groups = df.groupby(segment) if segment else [("all", df)]
    curves = {}
    for name, g in groups:
        at_risk = g.groupby("_band").size() * horizon_months
        hazard = (g.groupby("_band")[churned].sum() / at_risk).reindex(range(21)).ffill().fillna(0)
        monthly = np.array([hazard.iloc[min(k // 6, 20)] for k in range(months)])
        curves[str(name)] = np.r_[1.0, np.cumprod(1 - monthly)]
    return pd.DataFrame(curves, index=pd.RangeIndex(months + 1, name="month"))
