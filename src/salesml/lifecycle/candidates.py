"""Customer-value candidates: the rules CRM teams use and the models, as estimators.

Each gets :class:`ValueData` (the customers' summary at the end of the
calibration period and, for those that learn a mapping, an earlier cut of the
same period with what followed it) and predicts, per customer, the number of
purchases and the spend over the holdout horizon:

- :class:`LastPeriod`: a customer goes on buying at their own past rate and spend;
- :class:`RfmSegments`: recency x frequency quintile cells, each with the
  purchase rate its customers showed after the earlier cut, spend by monetary
  quintile;
- :class:`BgNbdGammaGamma`: BG/NBD purchases times Gamma-Gamma spend;
- :class:`LightGbmRfm`: a LightGBM (Poisson) on the RFM features, trained on the earlier cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.lifecycle.bgnbd import BetaGeo
from salesml.lifecycle.spend import GammaGamma

QUINTILES = 5


@dataclass(frozen=True)
class ValueData:
    """What a candidate may use: everything recorded up to the calibration end.

    ``summary``: frequency, recency, T, monetary per customer at the calibration
    end; ``horizon``: the holdout's length (time units); ``train_summary``,
    ``train_purchases``, ``train_spend`` and ``train_horizon``: the same summary
    at an earlier cut, and each of those customers' purchases and spend from the
    cut to the calibration end.
    """

    summary: pd.DataFrame
    horizon: float
    train_summary: pd.DataFrame
    train_purchases: pd.Series
    train_spend: pd.Series
    train_horizon: float


@dataclass
class ValueForecast:
    """Per customer (the summary's index): ``purchases``, ``spend``; ``p_alive`` or None."""

    frame: pd.DataFrame
    p_alive: np.ndarray | None = None


def _mean_value(summary: pd.DataFrame) -> float:
    m = summary.loc[summary["frequency"] > 0, "monetary"]
    return float(m.mean()) if len(m) else 0.0


class LastPeriod:
    """Each customer's past repeat rate (repeat purchases over their time as a customer)."""

    def fit(self, data: ValueData) -> LastPeriod:
        self.mean_value_ = _mean_value(data.summary)
        return self

    def predict(self, data: ValueData) -> ValueForecast:
        s = data.summary
        rate = (s["frequency"] / s["T"].where(s["T"] > 0)).fillna(0.0)
        purchases = rate * data.horizon
        value = s["monetary"].where(s["frequency"] > 0, self.mean_value_)
        return ValueForecast(pd.DataFrame({"purchases": purchases, "spend": purchases * value}))


def _features(s: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": s["frequency"],
            "recency": s["recency"],
            "T": s["T"],
            "since_last": s["T"] - s["recency"],
            "monetary": s["monetary"],
        }
    )


class RfmSegments:
    """Recency x frequency quintile cells with their later purchase rate; spend by monetary."""

    def fit(self, data: ValueData) -> RfmSegments:
        s = data.train_summary
        if s.empty:
            raise DataError("rfm_segments: no customers before the earlier cut to learn from")
        self.edges_ = {
            "since_last": _edges(s["T"] - s["recency"]),
            "frequency": _edges(s["frequency"]),
            "monetary": _edges(s.loc[s["frequency"] > 0, "monetary"]),
        }
        cells = self._cells(s)
        rate = data.train_purchases.reindex(s.index, fill_value=0) / data.train_horizon
        self.rate_ = rate.groupby(cells).mean()
        self.overall_rate_ = float(rate.mean())
        spent = data.train_spend.reindex(s.index, fill_value=0)
        bought = data.train_purchases.reindex(s.index, fill_value=0)
        band = _band(s["monetary"], self.edges_["monetary"]).where(s["frequency"] > 0, -1)
        per = (spent.groupby(band).sum() / bought.groupby(band).sum()).replace(np.inf, np.nan)
        self.value_ = per.fillna(float(spent.sum() / max(bought.sum(), 1)))
        return self

    def _cells(self, s: pd.DataFrame) -> pd.Series:
        r = _band(s["T"] - s["recency"], self.edges_["since_last"])
        f = _band(s["frequency"], self.edges_["frequency"])
        return r * 10 + f

    def predict(self, data: ValueData) -> ValueForecast:
        s = data.summary
        rate = self._cells(s).map(self.rate_).fillna(self.overall_rate_)
        purchases = rate * data.horizon
        band = _band(s["monetary"], self.edges_["monetary"]).where(s["frequency"] > 0, -1)
        value = band.map(self.value_).fillna(float(self.value_.mean()))
        return ValueForecast(pd.DataFrame({"purchases": purchases, "spend": purchases * value}))


def _edges(values: pd.Series) -> np.ndarray:
    qs = np.quantile(values, np.linspace(0, 1, QUINTILES + 1)[1:-1]) if len(values) else []
    return np.unique(qs)


def _band(values: pd.Series, edges: np.ndarray) -> pd.Series:
    return pd.Series(np.searchsorted(edges, values.to_numpy(), side="right"), index=values.index)


class BgNbdGammaGamma:
    """BG/NBD expected purchases over the horizon times Gamma-Gamma expected spend."""

    def fit(self, data: ValueData) -> BgNbdGammaGamma:
        self.purchases_ = BetaGeo().fit(data.summary)
        self.spend_ = GammaGamma().fit(data.summary)
        return self

    def predict(self, data: ValueData) -> ValueForecast:
        s = data.summary
        purchases = self.purchases_.expected_purchases(data.horizon, s)
        spend = purchases * self.spend_.expected_spend(s)
        frame = pd.DataFrame({"purchases": purchases, "spend": spend}, index=s.index)
        return ValueForecast(frame, self.purchases_.p_alive(s))


class LightGbmRfm:
    """LightGBM (Poisson) on RFM features: purchases after the earlier cut, rescaled to the horizon."""

    def __init__(self, seed: int = 0, **params: Any) -> None:
        self.seed, self.params = seed, params

    def fit(self, data: ValueData) -> LightGbmRfm:
        import lightgbm as lgb

        s = data.train_summary
        if s.empty:
            raise DataError("lightgbm_rfm: no customers before the earlier cut to learn from")
        y = data.train_purchases.reindex(s.index, fill_value=0).to_numpy(dtype=float)
        settings = {
            "objective": "poisson", "n_estimators": 300, "learning_rate": 0.03,
            "num_leaves": 15, "min_child_samples": 30, "verbose": -1, "n_jobs": 1,
            **self.params, "random_state": self.seed,
        }  # fmt: skip
        self.model_ = lgb.LGBMRegressor(**settings).fit(_features(s), y)
        self.scale_ = data.horizon / data.train_horizon
        self.mean_value_ = _mean_value(data.summary)
        return self

    def predict(self, data: ValueData) -> ValueForecast:
        s = data.summary
        purchases = self.model_.predict(_features(s)) * self.scale_
        value = s["monetary"].where(s["frequency"] > 0, self.mean_value_).to_numpy()
        frame = pd.DataFrame({"purchases": purchases, "spend": purchases * value}, index=s.index)
        return ValueForecast(frame)


def last_period(ctx: Any) -> LastPeriod:
    """Builder of ``last_period``."""
    return LastPeriod()


def rfm_segments(ctx: Any) -> RfmSegments:
    """Builder of ``rfm_segments``."""
    return RfmSegments()


def bgnbd_gamma_gamma(ctx: Any) -> BgNbdGammaGamma:
    """Builder of ``bgnbd_gamma_gamma``."""
    return BgNbdGammaGamma()


def lightgbm_rfm(ctx: Any, **params: Any) -> LightGbmRfm:
    """Builder of ``lightgbm_rfm`` (``ctx`` is the experiment's seed)."""
    return LightGbmRfm(int(ctx), **params)
