"""The deal-by-deal bookings model: each open deal's chance to be won this period, plus new deals.

A LightGBM classifier learns, from the snapshots at the start of past periods
and what became of each deal by the period's end, the probability that an
open deal is won within the period, from what the snapshot knew: its age,
amount, stage and time in it, how far off and how often pushed its expected
close date was, its owner's record and its segment, and the period's length
and whether it closes a quarter. The period's bookings are the sum of the
deals' expected values plus what deals not yet created will book (the mean of
the same months' past "created and won inside the period" bookings, per
segment). The interval comes from simulating the deals' outcomes and drawing
a past period's new-deal bookings (:func:`~salesml.pipeline.forecasts.simulate`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.pipeline.forecasts import QCOLS, PeriodForecast, simulate
from salesml.pipeline.periods import Known, Period, stage_index

FEATURES = (
    "age_days", "log_amount", "stage_index", "days_in_stage", "stage_changes",
    "days_to_expected_close", "expected_in_period", "pushes", "owner_win_rate",
    "owner_closed", "segment", "period_days", "quarter_end",
)  # fmt: skip


def deal_features(
    snap: pd.DataFrame,
    segments: pd.Series,
    period: Period,
    stages: tuple[str, ...],
    segments_all: tuple[str, ...],
) -> pd.DataFrame:
    """The model's inputs for a snapshot's deals (blank where the snapshot cannot tell)."""
    close = snap["expected_close"]
    return pd.DataFrame(
        {
            "age_days": snap["age_days"].to_numpy(dtype=float),
            "log_amount": np.log1p(snap["amount"].clip(lower=0).to_numpy(dtype=float)),
            "stage_index": stage_index(snap["stage"], stages),
            "days_in_stage": snap["days_in_stage"].to_numpy(dtype=float),
            "stage_changes": snap["stage_changes"].to_numpy(dtype=float),
            "days_to_expected_close": snap["days_to_expected_close"].to_numpy(dtype=float),
            "expected_in_period": ((close >= period.start) & (close < period.end))
            .fillna(False)
            .to_numpy(dtype=float),
            "pushes": snap["pushes"].to_numpy(dtype=float),
            "owner_win_rate": snap["owner_win_rate"].to_numpy(dtype=float),
            "owner_closed": snap["owner_closed"].to_numpy(dtype=float),
            "segment": pd.Categorical(segments.to_numpy(), categories=list(segments_all)),
            "period_days": float(period.days),
            "quarter_end": float(period.quarter_end),
        },
        columns=list(FEATURES),
    )


class DealModel:
    """LightGBM on deal snapshots, summed into period bookings, plus not-yet-created deals.

    Parameters
    ----------
    train_periods : int
        Past periods whose opening snapshots train the model (the latest ones).
    new_deals : bool
        Add the bookings of deals created inside the period.
    seed : int
        Seeds LightGBM and the simulation.
    **params
        LightGBM's own parameters (``n_estimators``, ``learning_rate``, ...).
    """

    def __init__(
        self,
        train_periods: int = 12,
        new_deals: bool = True,
        seed: int = 0,
        calibration_periods: int = 6,
        **params: Any,
    ) -> None:
        self.train_periods, self.new_deals, self.seed = train_periods, new_deals, seed
        self.calibration_periods = calibration_periods
        self.params = params

    def fit(self, known: Known) -> DealModel:
        self._fit_model(known)
        self.spread_ = self._spread(known)
        return self

    def _spread(self, known: Known) -> float:
        """How much the simulated interval must widen for the model's past forecasts to fall in it.

        For each of the last ``calibration_periods`` whole periods, a model fitted
        on the periods before it forecasts it; each error is measured against
        the simulated 80 % interval's half on its side (q90 - mean above, mean -
        q10 below), and the 80th percentile of those ratios (at least 1) scales
        every quantile's distance from the mean: split-conformal calibration,
        from forecasts that were made out of sample. Independent deal draws miss
        what moves many deals at once (a quarter-end rush, a slow month).
        """
        scores: list[float] = []
        past = known.past
        for j in range(max(1, len(past) - self.calibration_periods), len(past)):
            q = past[j]
            sub = Known(
                q.period, q.snapshot, q.segments, past[:j], known.segments_all, known.stages
            )
            try:
                fc = DealModel(self.train_periods, self.new_deals, self.seed, 0, **self.params)
                by = fc.fit(sub).predict(sub).by_segment
            except DataError:  # too little before it to fit: no calibration from it
                continue
            err = q.bookings.reindex(by.index).to_numpy() - by["mean"].to_numpy()
            side = np.where(err > 0, by["q90"] - by["mean"], by["mean"] - by["q10"])
            ok = side > 0
            scores.extend(np.abs(err[ok]) / side[ok])
        if len(scores) < 5:
            return 1.0
        return max(1.0, float(np.quantile(scores, 0.8)))

    def _fit_model(self, known: Known) -> None:
        import lightgbm as lgb

        past = known.past[-self.train_periods :]
        if not past:
            raise DataError("deal_lightgbm needs whole periods before the first forecast")
        X = pd.concat(
            [
                deal_features(
                    q.snapshot.frame, q.segments, q.period, known.stages, known.segments_all
                )
                for q in past
            ],
            ignore_index=True,
        )
        y = np.concatenate([q.outcomes["won"].to_numpy(dtype=int) for q in past])
        if len(y) == 0 or y.min() == y.max():
            raise DataError(
                f"deal_lightgbm: the {len(past)} period(s) before {known.period.label} had "
                f"{len(y)} open deal(s) at their start"
                + (", all with the same outcome" if len(y) else "")
                + "; nothing to learn from"
            )
        settings = {
            "n_estimators": 300,
            "learning_rate": 0.03,
            # small trees, many deals per leaf: a few thousand deal-periods, a tenth won
            "num_leaves": 7,
            "min_child_samples": 50,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "reg_lambda": 1.0,
            "verbose": -1,
            "n_jobs": 1,
            **self.params,
            "random_state": self.seed,
        }
        self.model_ = lgb.LGBMClassifier(**settings).fit(X, y)
        self.new_ = {s: np.array([q.new_bookings[s] for q in past]) for s in known.segments_all}
        self.trained_rows_ = len(y)
        self.spread_ = 1.0

    def predict(self, known: Known) -> PeriodForecast:
        snap = known.snapshot.frame
        X = deal_features(snap, known.segments, known.period, known.stages, known.segments_all)
        p = self.model_.predict_proba(X)[:, 1] if len(X) else np.zeros(0)
        amount = snap["amount"].fillna(0.0).to_numpy(dtype=float)
        seed = self.seed + int(known.period.start.value // 86_400_000_000_000)
        by = simulate(
            p,
            amount,
            known.segments.to_numpy(),
            known.segments_all,
            self.new_ if self.new_deals else None,
            seed,
        )
        qs = list(QCOLS)
        by[qs] = (
            by[qs].sub(by["mean"], axis=0).mul(self.spread_).add(by["mean"], axis=0).clip(lower=0)
        )
        deals = pd.DataFrame(
            {
                "opportunity_id": snap["opportunity_id"].to_numpy(),
                "probability": p,
                "expected": p * amount,
            }  # fmt: skip
        )
        return PeriodForecast(by, deals)


def deal_lightgbm(
    ctx: Any,
    train_periods: int = 12,
    new_deals: bool = True,
    calibration_periods: int = 6,
    **params: Any,
) -> DealModel:
    """Builder of ``deal_lightgbm`` (``ctx`` is the experiment's seed)."""
    return DealModel(train_periods, new_deals, int(ctx), calibration_periods, **params)
