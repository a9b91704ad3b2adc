"""The exported bookings model: an opportunities export in, this period's forecast out.

:class:`BookingsPredictor` holds the deal model refitted on every whole period
and reads an opportunities export as the training one was read (the same
column roles and won/lost values). ``predict(frame, params)`` forecasts the
period containing ``as_of`` (default: the day after the export's last record;
``period``: the kind backtested, or the period's name, ``2025-01`` or
``2025Q1``, which must contain ``as_of``; another kind is refused, since the
model learned one) and returns

- one row per open deal (``level`` = ``deal``): its segment, stage and amount,
  the probability it is won by the period's end, the expected value and the
  three known features that raise that probability most (``reason_1`` ..);
  from a day inside the period, a whole period's probability is spread over
  the days left, ``1 - (1 - p) ** (days left / days in the period)``;
- one row per segment and one ``total`` row (``level`` = ``segment``):
  ``booked`` (won since the period began), ``mean`` and the 80 % interval
  ``q10``-``q90`` and median ``q50`` of the period's bookings.

The export shows each deal as it is now, so an ``as_of`` before its last day
is refused (that needs the stage history; the backtest has it). Time in stage,
stage changes and pushes are unknown without it: the model sees them blank.
The runner logs it as a :class:`~salesml.tracking.pickled.PickledExport` (MLflow model
from code, ``salesml/tracking/pickled_entry.py``; the predictor is stored with cloudpickle).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from salesml.crm.opportunities import OpportunityColumns, StatusValues, read_opportunities
from salesml.crm.snapshot import from_export
from salesml.experiment.card import ModelCard
from salesml.pipeline.deals import FEATURES, DealModel, deal_features
from salesml.pipeline.forecasts import QCOLS, simulate
from salesml.pipeline.periods import ALL, FREQ, Period, segment_of

TOTAL = "total"
_TEXT = {
    "age_days": lambda v: f"open {v:.0f} days",
    "log_amount": lambda v: f"amount {np.expm1(v):,.0f}",
    "days_in_stage": lambda v: f"{v:.0f} days in stage",
    "stage_changes": lambda v: f"{v:.0f} stage changes",
    "days_to_expected_close": lambda v: f"expected to close in {v:.0f} days",
    "expected_in_period": lambda v: "due this period" if v else "not due this period",
    "pushes": lambda v: f"close date pushed {v:.0f} times",
    "owner_win_rate": lambda v: f"owner wins {v:.0%}",
    "owner_closed": lambda v: f"owner closed {v:.0f} deals this year",
    "segment": lambda v: f"segment {v}",
    "period_days": lambda v: f"{v:.0f} days left in the period",
    "quarter_end": lambda v: "the period closes a quarter" if v else "mid-quarter",
}


def period_of(as_of: pd.Timestamp, kind: str) -> Period:
    """The month or quarter containing ``as_of``, from ``as_of`` to its end."""
    p = pd.Period(as_of, freq=FREQ[kind])
    return Period(as_of, (p + 1).start_time, str(p))


class BookingsPredictor:
    """The deal model, fitted on every whole period, and how to read an export (see module)."""

    def __init__(
        self,
        model: DealModel,
        roles: OpportunityColumns,
        status: StatusValues,
        period: str,
        segments: tuple[str, ...],
        stages: tuple[str, ...],
        card: ModelCard,
    ) -> None:
        self.model, self.roles, self.status, self.period = model, roles, status, period
        self.segments, self.stages, self.card = segments, stages, card

    def metadata(self) -> dict[str, Any]:
        facts = {"period": self.period, "segments": list(self.segments), **self.card.facts}
        return replace(self.card, facts=facts).to_metadata()

    def predict(self, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Per-deal probabilities and the period's bookings by segment (see the module).

        Raises
        ------
        ValueError
            For an ``as_of`` before the export's day or an unknown ``period``;
            :class:`~salesml.errors.DataError` for an export that cannot be read.
        """
        params = params or {}
        opps = read_opportunities(pd.DataFrame(frame), "model input", self.roles, self.status)
        f = opps.frame
        stamps = [f["created"].max(), f.loc[f["status"].ne("open"), "close"].max()]
        last = max(s for s in stamps if pd.notna(s))
        if params.get("as_of"):
            as_of = pd.Timestamp(params["as_of"])
        else:  # the export holds that day whole: the forecast is made the day after
            as_of = last.normalize() + pd.Timedelta(days=1)
        period = self._period(as_of, params.get("period"))
        kind = self.period
        snap = from_export(opps, as_of).frame
        segment = segment_of(opps).reindex(snap["opportunity_id"]).reset_index(drop=True)
        segment = segment.where(segment.isin(self.segments), ALL if ALL in self.segments else None)
        X = deal_features(snap, segment, period, self.stages, self.segments)
        booster = self.model.model_.booster_
        full = period_of(pd.Period(as_of, freq=FREQ[kind]).start_time, kind)
        X["period_days"] = float(full.days)  # the model learned whole periods
        p = booster.predict(X) if len(X) else np.zeros(0)
        # part of the period left: the same daily chance of a win over fewer days
        p = 1 - (1 - p) ** (period.days / full.days)
        amount = snap["amount"].fillna(0.0).to_numpy(float)
        deals = pd.DataFrame(
            {
                "level": "deal",
                "segment": segment.astype(object).to_numpy(),
                "opportunity_id": snap["opportunity_id"].to_numpy(),
                "stage": snap["stage"].astype(object).to_numpy(),
                "amount": amount,
                "probability": p,
                "expected": p * amount,
            }
        )
        if len(X):
            contrib = booster.predict(X, pred_contrib=True)[:, : len(FEATURES)]
            deals = deals.join(_reasons(contrib, X, snap))
        rollup = self._rollup(opps, p, amount, segment.to_numpy(), period, kind)
        out = pd.concat([deals, rollup], ignore_index=True)
        out["period"], out["as_of"] = period.label, f"{as_of:%Y-%m-%d}"
        return out

    def _period(self, as_of: pd.Timestamp, asked: str | None) -> Period:
        """The period to forecast: the one containing ``as_of``, of the kind backtested.

        ``asked`` may repeat the kind (``month``) or name the period (``2025-01``,
        ``2025Q1``), which must contain ``as_of``.
        """
        kind = self.period
        if asked and asked in FREQ and asked != kind:
            raise ValueError(
                f"period {asked}: this model was backtested on {kind}s; a {asked} forecast "
                f"needs an experiment with period: {asked}"
            )
        if asked and asked not in FREQ:
            try:
                named = pd.Period(asked, freq=FREQ[kind])
            except ValueError:
                raise ValueError(
                    f"period {asked!r}: give {kind} or a {kind} like "
                    f"{pd.Period(as_of, freq=FREQ[kind])}"
                ) from None
            if not named.start_time <= as_of < (named + 1).start_time:
                raise ValueError(
                    f"period {asked}: the forecast is made on {as_of:%Y-%m-%d}, outside it; "
                    f"give --as-of a day inside {named}"
                )
        return period_of(as_of, kind)

    def _rollup(
        self,
        opps: Any,
        p: np.ndarray,
        amount: np.ndarray,
        segment: np.ndarray,
        period: Period,
        kind: str,
    ) -> pd.DataFrame:
        """Bookings by segment and in total: won so far, plus the open and new deals' draws."""
        m, f = self.model, opps.frame
        begun = pd.Period(period.start, freq=FREQ[kind]).start_time
        won = f["status"].eq("won") & (f["close"] >= begun) & (f["close"] < period.start)
        by_deal = segment_of(opps).reindex(f["opportunity_id"]).to_numpy()
        booked = f["amount"].where(won, 0.0).groupby(by_deal).sum()
        booked = booked.reindex(list(self.segments), fill_value=0.0)
        booked[TOTAL] = booked.sum()
        share = period.days / max((period.end - begun).days, 1)  # the part of the period left
        new = {s: v * share for s, v in m.new_.items()} if m.new_deals else None
        seed = m.seed + int(period.start.value // 86_400_000_000_000)
        by = simulate(p, amount, segment, self.segments, new, seed)
        total_new = {TOTAL: sum(new.values())} if new else None
        total = simulate(p, amount, np.full(len(p), TOTAL), (TOTAL,), total_new, seed)
        both = pd.concat([by, total])
        qs = list(QCOLS)
        spread = both[qs].sub(both["mean"], axis=0).mul(m.spread_)
        both[qs] = spread.add(both["mean"], axis=0).clip(lower=0)
        cols = ["mean", "q10", "q50", "q90"]
        both[cols] = both[cols].add(booked.reindex(both.index).to_numpy()[:, None])
        out = both[cols].reset_index(names="segment")
        out.insert(0, "level", "segment")
        out.insert(2, "booked", booked.reindex(out["segment"]).to_numpy())
        return out


def _reasons(contrib: np.ndarray, X: pd.DataFrame, snap: pd.DataFrame) -> pd.DataFrame:
    """The (up to) three known features raising each deal's probability most, in words."""
    # only what is known about the deal: a blank feature (no stage history) is no reason
    contrib = np.where(X.isna().to_numpy(), -np.inf, contrib)
    order = np.argsort(-contrib, axis=1)[:, :3]
    rows = []
    for i, top in enumerate(order):
        texts = []
        for j in top:
            if contrib[i, j] <= 0:
                texts.append(None)
                continue
            name = FEATURES[j]
            value = X.iloc[i, j]
            if name == "stage_index":
                texts.append(f"stage {snap['stage'].iloc[i]}")
            elif name == "segment":
                texts.append(f"segment {value}")
            else:
                texts.append(_TEXT[name](float(value)))
        rows.append(texts)
    return pd.DataFrame(rows, columns=["reason_1", "reason_2", "reason_3"], index=X.index)
