"""Bookings metrics from a candidate's backtest predictions, with bootstrap CIs.

The predictions hold two kinds of rows (column ``level``):

- ``segment``: one per backtest period and segment (the resampled *units*):
  ``cutoff``, ``segment``, ``actual`` bookings, the forecast ``mean`` and the
  quantiles ``q05`` ... ``q95``;
- ``deal``: one per deal open at a period's start, for candidates that weigh
  deals: ``probability`` of being won in the period, ``expected`` value,
  ``won`` (0/1) and ``won_amount``.

Period metrics: ``mae`` (mean absolute error of period bookings), ``wape``
(absolute errors over actual bookings), ``bias`` (forecast minus actual over
actual), ``coverage_80`` (share of actuals inside the 80 % interval, q10 to
q90) and ``qloss`` (mean pinball loss over the quantiles, in money: lower is
a sharper, better calibrated distribution) and ``total_mae`` (the error of
all segments' bookings together, one unit per period). Deal metrics: ``deal_auc`` and
``deal_brier`` of "won this period", NaN for candidates without deal weights.
Each is a weighted statistic, so one code path gives the point (weights 1)
and every bootstrap replicate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.experiment.evaluation import MIN_UNITS, weighted_classification_metrics
from salesml.experiment.weighted import Statistic, weighted_mean, weighted_ratio
from salesml.pipeline.forecasts import QCOLS, QUANTILES

PERIOD_METRICS = ("mae", "wape", "bias", "coverage_80", "qloss", "total_mae")
DEAL_METRICS = ("deal_auc", "deal_brier")


def units(predictions: pd.DataFrame) -> pd.DataFrame:
    """The period x segment rows, in (cutoff, segment) order."""
    seg = predictions[predictions["level"] == "segment"]
    return seg.sort_values(["cutoff", "segment"], kind="stable").reset_index(drop=True)


def deals(predictions: pd.DataFrame) -> pd.DataFrame:
    """The deal rows, in (cutoff, deal) order."""
    d = predictions[predictions["level"] == "deal"]
    return d.sort_values(["cutoff", "opportunity_id"], kind="stable").reset_index(drop=True)


def _pinball(u: pd.DataFrame) -> np.ndarray:
    y = u["actual"].to_numpy(dtype=float)
    loss = np.zeros(len(u))
    for q, col in zip(QUANTILES, QCOLS, strict=True):
        diff = y - u[col].to_numpy(dtype=float)
        loss += np.maximum(q * diff, (q - 1) * diff)
    return loss / len(QUANTILES)


def period_statistic(predictions: pd.DataFrame, name: str) -> tuple[Statistic, int]:
    """Metric ``name`` as a statistic of unit weights, and the number of units."""
    u = units(predictions)
    y = u["actual"].to_numpy(dtype=float)
    f = u["mean"].to_numpy(dtype=float)
    if name == "mae":
        stat = weighted_mean(np.abs(f - y))
    elif name == "wape":
        stat = weighted_ratio(np.abs(f - y), np.abs(y))
    elif name == "bias":
        stat = weighted_ratio(f - y, np.abs(y))
    elif name == "coverage_80":
        inside = (u["q10"].to_numpy() <= y) & (y <= u["q90"].to_numpy())
        stat = weighted_mean(inside.astype(float))
    elif name == "qloss":
        stat = weighted_mean(_pinball(u))
    elif name == "total_mae":  # all segments together: one unit per period
        total = u.groupby("cutoff", sort=True)[["mean", "actual"]].sum()
        err = np.abs(total["mean"] - total["actual"]).to_numpy(dtype=float)
        return weighted_mean(err), len(err)
    else:
        raise KeyError(f"no bookings metric {name!r}")
    return stat, len(u)


def deal_statistic(predictions: pd.DataFrame, name: str) -> tuple[Statistic, int]:
    """``deal_auc`` or ``deal_brier`` as a statistic of deal weights, and the deals resampled.

    With fewer than :data:`MIN_UNITS` deals of the rarer outcome, the count
    returned is that number (too few for an interval); without deals, 0.
    """
    d = deals(predictions)
    key = {"deal_auc": "roc_auc", "deal_brier": "brier"}[name]
    if d.empty or d["won"].nunique() < 2:
        return (lambda w: np.full(1 if w is None else len(w), np.nan)), 0
    y = d["won"].to_numpy(dtype=float)
    p = d["probability"].to_numpy(dtype=float)

    def stat(w: np.ndarray | None) -> np.ndarray:
        return weighted_classification_metrics(y, p, w)[key]

    rarer = int(min(y.sum(), len(y) - y.sum()))  # the rarer class bounds what AUC can tell
    return stat, len(y) if enough(rarer) else rarer


def statistic(predictions: pd.DataFrame, name: str) -> tuple[Statistic, int]:
    """Any bookings metric as a weighted statistic, with the number of resampled units."""
    if name in DEAL_METRICS:
        return deal_statistic(predictions, name)
    return period_statistic(predictions, name)


def enough(n_units: int) -> bool:
    """Whether ``n_units`` units give an interval (:data:`MIN_UNITS`)."""
    return n_units >= MIN_UNITS
