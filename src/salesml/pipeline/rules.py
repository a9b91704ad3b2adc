"""The rules a sales organisation forecasts its bookings with, as estimators.

- :class:`StageWeighted`: the CRM's weighted pipeline: each open deal expected
  to close in the period counts its amount times its stage's probability.
- :class:`LearnedStageWeights`: the same, with each stage's weight learned from
  the periods before: the share of the amount open in that stage at a period's
  start that was won within the period (every open deal counts, whatever its
  expected close date says).
- :class:`Commit`: the reps' commit call: deals in the latest stage(s) expected
  to close in the period, at full value.
- :class:`RunRate`: last period's bookings.
- :class:`LastYear`: the same period a year before (last period's bookings when
  the data do not reach back a year; ``fallbacks_`` counts those).

``fit(known)`` learns from the periods that had ended by the forecast's day and
returns ``self``; ``predict(known)`` gives a
:class:`~salesml.pipeline.forecasts.PeriodForecast`. A rule's interval is its
point plus its own errors on the (up to :data:`ERROR_PERIODS`) periods before,
each forecast as the rule would have been then.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesml.crm.opportunities import normalise
from salesml.errors import DataError
from salesml.pipeline.forecasts import PeriodForecast, from_past_errors
from salesml.pipeline.periods import Known, Period, PeriodData

ERROR_PERIODS = 12
# Stage probabilities CRMs ship with (Salesforce's and HubSpot's default pipelines), by
# stage name; a pipeline with other names gets 10 % to 90 % spread over its stages in order.
CRM_DEFAULTS = {
    "prospecting": 0.10, "qualification": 0.10, "needs analysis": 0.20,
    "value proposition": 0.50, "id decision makers": 0.60, "perception analysis": 0.70,
    "proposal price quote": 0.75, "negotiation review": 0.90, "negotiation": 0.90,
    "appointmentscheduled": 0.20, "qualifiedtobuy": 0.40, "presentationscheduled": 0.60,
    "decisionmakerboughtin": 0.80, "contractsent": 0.90,
}  # fmt: skip


def in_period(snapshot: pd.DataFrame, period: Period) -> np.ndarray:
    """Deals whose expected close date (as of the snapshot) falls in the period."""
    close = snapshot["expected_close"]
    return ((close >= period.start) & (close < period.end)).fillna(False).to_numpy(dtype=bool)


def _need_stages(known: Known, rule: str) -> None:
    if not known.snapshot.from_history:
        raise DataError(
            f"{rule} needs each deal's stage as it was at the forecast's day, which only a "
            "stage history (data.history) records; the export's stage column is today's"
        )


class Rule:
    """A rule's common part: fit on the past, interval from its own past errors.

    ``fallbacks_`` counts forecasts made by the rule's simpler form (0 for most rules).
    """

    min_past = 0
    fallbacks_ = 0

    def _learn(self, before: tuple[PeriodData, ...], known: Known) -> Any:
        return None

    def _point(
        self, state: Any, period: Period, snap: pd.DataFrame, before: tuple[PeriodData, ...]
    ) -> tuple[pd.Series | np.ndarray, np.ndarray | None]:
        """Per-deal weights (array) or a per-segment point (Series), and the deals' weights."""
        raise NotImplementedError

    def _by_segment(self, value: Any, segments: pd.Series, known: Known) -> pd.Series:
        if isinstance(value, pd.Series):
            return value.reindex(list(known.segments_all)).fillna(0.0)
        amount = np.nan_to_num(value)
        return pd.Series(amount).groupby(segments.to_numpy()).sum()

    def fit(self, known: Known) -> Rule:
        self.state_ = self._learn(known.past, known)
        errors: dict[str, list[float]] = {s: [] for s in known.segments_all}
        past = known.past
        for j in range(max(1, len(past) - ERROR_PERIODS), len(past)):
            q, before = past[j], past[:j]
            if len(before) < self.min_past:
                continue
            value, _ = self._point(self._learn(before, known), q.period, q.snapshot.frame, before)
            point = self._by_segment(value, q.segments, known).reindex(
                list(known.segments_all), fill_value=0.0
            )
            for s in known.segments_all:
                errors[s].append(float(q.bookings[s] - point[s]))
        self.errors_ = {s: np.asarray(v) for s, v in errors.items()}
        return self

    def predict(self, known: Known) -> PeriodForecast:
        snap = known.snapshot.frame
        value, prob = self._point(self.state_, known.period, snap, known.past)
        point = self._by_segment(value, known.segments, known)
        by = from_past_errors(point, self.errors_, known.segments_all)
        deals = None
        if prob is not None:
            amount = snap["amount"].fillna(0.0).to_numpy()
            deals = pd.DataFrame(
                {
                    "opportunity_id": snap["opportunity_id"].to_numpy(),
                    "probability": prob,
                    "expected": prob * amount,
                }
            )
        return PeriodForecast(by, deals)


class _DealRule(Rule):
    def _weights(self, state: Any, period: Period, snap: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def _point(self, state, period, snap, before):  # type: ignore[no-untyped-def]
        w = self._weights(state, period, snap)
        return w * snap["amount"].fillna(0.0).to_numpy(), w


class StageWeighted(_DealRule):
    """Amount times stage probability, over the deals expected to close in the period.

    Parameters
    ----------
    probabilities : dict, optional
        Stage name to probability (the CRM's table); default: the CRM defaults
        by name (:data:`CRM_DEFAULTS`), else 10 % to 90 % over the stages in order.
    """

    def __init__(self, probabilities: dict[str, float] | None = None) -> None:
        self.probabilities = probabilities

    def _learn(self, before, known):  # type: ignore[no-untyped-def]
        _need_stages(known, "stage_weighted")
        if self.probabilities:
            return {normalise(k): float(v) for k, v in self.probabilities.items()}
        names = {normalise(s) for s in known.stages}
        known_names = {k: v for k, v in CRM_DEFAULTS.items() if k in names}
        if len(known_names) == len(names):
            return known_names
        spread = np.linspace(0.1, 0.9, max(len(known.stages), 1))
        return {normalise(s): float(p) for s, p in zip(known.stages, spread, strict=False)}

    def _weights(self, state, period, snap):  # type: ignore[no-untyped-def]
        p = snap["stage"].map(lambda s: state.get(normalise(s), 0.0) if pd.notna(s) else 0.0)
        return p.to_numpy(dtype=float) * in_period(snap, period)


class LearnedStageWeights(_DealRule):
    """Each stage's share of open amount won within a period, from the ``periods`` before."""

    min_past = 1

    def __init__(self, periods: int = 12) -> None:
        self.periods = periods

    def _learn(self, before, known):  # type: ignore[no-untyped-def]
        _need_stages(known, "learned_stage_weights")
        rows = [
            pd.DataFrame(
                {
                    "stage": q.snapshot.frame["stage"].astype(object).to_numpy(),
                    "amount": q.snapshot.frame["amount"].fillna(0.0).to_numpy(),
                    "won": q.outcomes["won_amount"].to_numpy(),
                }
            )
            for q in before[-self.periods :]
        ]
        if not rows:
            return {}, 0.0
        frame = pd.concat(rows, ignore_index=True)
        overall = frame["won"].sum() / max(frame["amount"].sum(), 1e-9)
        g = frame.groupby(frame["stage"].fillna("(unknown)"))[["won", "amount"]].sum()
        return (g["won"] / g["amount"].clip(lower=1e-9)).to_dict(), float(overall)

    def _weights(self, state, period, snap):  # type: ignore[no-untyped-def]
        table, overall = state
        stage = snap["stage"].astype(object).fillna("(unknown)")
        return stage.map(lambda s: table.get(s, overall)).to_numpy(dtype=float)


class Commit(_DealRule):
    """Deals in the commit stage(s) expected to close in the period, at full value.

    Parameters
    ----------
    stages : list of str, optional
        The commit stages; default the last open stage of the pipeline.
    """

    def __init__(self, stages: list[str] | None = None) -> None:
        self.stages = stages

    def _learn(self, before, known):  # type: ignore[no-untyped-def]
        _need_stages(known, "commit")
        chosen = self.stages or list(known.stages[-1:])
        return {normalise(s) for s in chosen}

    def _weights(self, state, period, snap):  # type: ignore[no-untyped-def]
        late = snap["stage"].map(lambda s: pd.notna(s) and normalise(s) in state).to_numpy(bool)
        return (late & in_period(snap, period)).astype(float)


class RunRate(Rule):
    """Last period's bookings, per segment."""

    min_past = 1

    def _point(self, state, period, snap, before):  # type: ignore[no-untyped-def]
        return before[-1].bookings, None

    def fit(self, known: Known) -> RunRate:
        if not known.past:
            raise DataError("run_rate needs one whole period before the first forecast")
        super().fit(known)
        return self


class LastYear(Rule):
    """The same period a year before, per segment (last period's when there is none)."""

    min_past = 1

    def fit(self, known: Known) -> LastYear:
        super().fit(known)
        self.fallbacks_ = 0  # counted for the forecast itself, not the past errors
        return self

    def _point(self, state, period, snap, before):  # type: ignore[no-untyped-def]
        year_ago = period.start - pd.DateOffset(years=1)
        same = [q for q in before if q.period.start == year_ago]
        if same:
            return same[0].bookings, None
        self.fallbacks_ += 1
        return before[-1].bookings, None


def stage_weighted(ctx: Any, probabilities: dict[str, float] | None = None) -> StageWeighted:
    """Builder of ``stage_weighted``."""
    return StageWeighted(probabilities)


def learned_stage_weights(ctx: Any, periods: int = 12) -> LearnedStageWeights:
    """Builder of ``learned_stage_weights``."""
    return LearnedStageWeights(periods)


def commit(ctx: Any, stages: list[str] | None = None) -> Commit:
    """Builder of ``commit``."""
    return Commit(stages)


def run_rate(ctx: Any) -> RunRate:
    """Builder of ``run_rate``."""
    return RunRate()


def last_year(ctx: Any) -> LastYear:
    """Builder of ``last_year``."""
    return LastYear()
