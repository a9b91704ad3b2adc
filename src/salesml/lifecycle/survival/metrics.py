"""Survival metrics as statistics of bootstrap weights (one point, or one value per replicate).

Everything is computed from a candidate's stored test predictions (one row per
customer: ``time``, ``event``, ``risk``, ``S`` at the evaluation times as
``s_<t>`` columns, optionally ``value`` and ``lost_pred``), so a reopened run
recomputes any metric without refitting. Censoring is handled by inverse
probability of censoring weights (IPCW) from the test customers' own censoring
distribution, as scikit-survival's estimators do (whose results these equal at
unit weights: ``tests/lifecycle/test_survival_metrics.py``):

- ``c_harrell``: Harrell's concordance of the risk score;
- ``c_uno``: Uno's IPCW concordance, truncated at the last evaluation time;
- ``ibs``: the integrated Brier score over the evaluation grid (lower is better);
- ``auc_<t>``: cumulative/dynamic ROC-AUC at time ``t``, ``mean_auc`` their mean;
- ``calibration_<t>``: mean predicted minus observed (IPCW) share gone by ``t``,
  ``calibration`` the mean absolute of those;
- ``landmark_brier`` and ``landmark_calibration``: the exported score judged as it is
  used: at each landmark ``a`` (the evaluation times), the customers still there get
  P(leave within ``h`` | here at ``a``) (``h`` the longest horizon), against whether they
  left by ``a + h`` (IPCW given uncensored to ``a``); Brier score and mean absolute
  calibration error, averaged over landmarks;
- ``value_top_decile``: the share of the value lost to churn within the value
  window held by the tenth of customers with the highest predicted loss.

Pairwise statistics (concordance, AUC) are bilinear in the weights; above
:data:`PAIR_LIMIT` customers they use a fixed, seeded sample of that many.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from salesml.experiment.weighted import Statistic, weighted_mean, weighted_ratio
from salesml.lifecycle.survival.curves import step

PAIR_LIMIT = 2500
_S = re.compile(r"^s_(.+)$")


def s_column(t: float) -> str:
    """The predictions' column of ``S(t)``."""
    return f"s_{t:g}"


def stored_times(predictions: pd.DataFrame) -> np.ndarray:
    """The times ``S`` is stored at, in order."""
    return np.array(sorted(float(m.group(1)) for c in predictions if (m := _S.match(str(c)))))


def censoring(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The censoring distribution's Kaplan-Meier ``G(t) = P(C > t)``.

    At a time with both events and censorings, the censorings count after the
    events (the customers who left are not at risk of being censored).
    """
    times, inverse = np.unique(time, return_inverse=True)
    cens = np.bincount(inverse, weights=~event, minlength=len(times))
    dead = np.bincount(inverse, weights=event, minlength=len(times))
    at_risk = np.bincount(inverse, minlength=len(times))[::-1].cumsum()[::-1] - dead
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - cens / at_risk, 1.0)
    return times, np.cumprod(factor)


def _inverse(g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(g > 0, 1.0 / np.where(g > 0, g, 1.0), 0.0)


class Frame:
    """The arrays every metric reads, from one candidate's predictions (sorted by customer)."""

    def __init__(self, predictions: pd.DataFrame) -> None:
        p = predictions.sort_values("customer", kind="stable")
        self.time = p["time"].to_numpy(float)
        self.event = p["event"].to_numpy(float) > 0
        self.risk = p["risk"].to_numpy(float)
        self.times = stored_times(p)
        self.S = p[[s_column(t) for t in self.times]].to_numpy(float)
        self.eval_times = sorted({float(v) for v in str(p["eval_times"].iloc[0]).split()})
        marks = str(p["landmarks"].iloc[0]) if "landmarks" in p else ""
        self.landmarks = sorted({float(v) for v in marks.split()})
        self.landmark_h = float(p["landmark_h"].iloc[0]) if "landmark_h" in p else float("nan")
        self.value = p["value"].to_numpy(float) if "value" in p else None
        self.lost_pred = p["lost_pred"].to_numpy(float) if "lost_pred" in p else None
        self.window = float(p["value_window"].iloc[0]) if "value_window" in p else None
        gt, gs = censoring(self.time, self.event)
        self.g_at = lambda t: step(gt, gs, t)
        self.ipcw = np.where(self.event, _inverse(self.g_at(self.time)), 0.0)

    def s(self, t: float) -> np.ndarray:
        return self.S[:, int(np.searchsorted(self.times, t))]


def _kept(n: int) -> np.ndarray:
    """The customers pairwise statistics use: all, or a fixed seeded sample of PAIR_LIMIT."""
    if n <= PAIR_LIMIT:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, PAIR_LIMIT, replace=False))


def _pairs(
    score: np.ndarray, weight: np.ndarray, comparable: np.ndarray, keep: np.ndarray
) -> Statistic:
    """``sum w_i w_j weight_i comp_ij credit_ij / sum w_i w_j weight_i comp_ij`` over ``keep``.

    ``score`` and ``weight`` are per customer; ``comparable`` is already restricted to ``keep``.
    """
    s, wt = score[keep], weight[keep]
    # single precision for the replicates: half the memory and time of the matrix products
    den_m = (wt[:, None] * comparable).astype(np.float32)
    num_m = den_m * ((s[:, None] > s[None, :]) + np.float32(0.5) * (s[:, None] == s[None, :]))

    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            d = den_m.sum(dtype=float)
            return np.array([num_m.sum(dtype=float) / d if d else np.nan])
        w = w[:, keep].astype(np.float32)
        num = np.einsum("bi,bi->b", w @ num_m, w, dtype=float)
        den = np.einsum("bi,bi->b", w @ den_m, w, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    return stat


def _comparable(f: Frame, keep: np.ndarray, tau: float | None = None) -> np.ndarray:
    """Harrell's comparable pairs among the ``keep`` customers (the earlier one left)."""
    t, e = f.time[keep], f.event[keep]
    ti, tj = t[:, None], t[None, :]
    comp = e[:, None] & ((ti < tj) | ((ti == tj) & ~e[None, :]))
    if tau is not None:
        comp &= ti < tau
    return comp


def _brier_terms(f: Frame) -> np.ndarray:
    """Each customer's integrated Brier score term over the stored times."""
    keep = f.times > 0  # S(0) = 1 is stored for the landmarks, not integrated
    times, S = f.times[keep], f.S[:, keep]
    cases = (f.time[:, None] <= times[None, :]) & f.event[:, None]
    controls = f.time[:, None] > times[None, :]
    g_t = _inverse(f.g_at(times))
    bs = S**2 * cases * f.ipcw[:, None] + (1 - S) ** 2 * controls * g_t[None, :]
    if len(times) < 2:
        return bs[:, 0]
    return np.trapezoid(bs, times, axis=1) / (times[-1] - times[0])


def _auc(f: Frame, t: float) -> Statistic:
    keep = _kept(len(f.time))
    cases = (f.time <= t) & f.event
    controls = f.time > t
    pairs = cases[keep][:, None] & controls[keep][None, :]
    return _pairs(1.0 - f.s(t), f.ipcw * cases, pairs, keep)


def _calibration(f: Frame, t: float) -> Statistic:
    gone = ((f.time <= t) & f.event) * f.ipcw
    return weighted_mean(1.0 - f.s(t) - gone)


def _abs_mean(stats: list[Statistic]) -> Statistic:
    return lambda w: np.mean(np.abs(np.column_stack([s(w) for s in stats])), axis=1)


def _landmark(f: Frame, a: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """At landmark ``a``: who is still here, P(leave within h | here), Brier terms, observed."""
    h = f.landmark_h
    here = f.time > a
    sa, sah = f.s(a), f.s(a + h)
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = np.where(sa > 0, 1.0 - sah / np.where(sa > 0, sa, 1.0), 1.0)
    g_a, g_ah = f.g_at(np.array([a, a + h]))
    left = here & f.event & (f.time <= a + h)
    stayed = f.time > a + h
    w_left = g_a * _inverse(f.g_at(f.time))  # 1 / P(uncensored to T | uncensored to a)
    w_stay = g_a / g_ah if g_ah > 0 else 0.0
    brier = (1 - risk) ** 2 * left * w_left + risk**2 * stayed * w_stay
    return here.astype(float), risk, brier, left * w_left


def _landmark_brier(f: Frame) -> Statistic:
    parts = [_landmark(f, a) for a in f.landmarks]
    stats = [weighted_ratio(brier * here, here) for here, _, brier, _ in parts]
    return lambda w: np.mean(np.column_stack([s(w) for s in stats]), axis=1)


def _landmark_calibration(f: Frame) -> Statistic:
    parts = [_landmark(f, a) for a in f.landmarks]
    stats = [
        (weighted_ratio(risk * here, here), weighted_ratio(observed * here, here))
        for here, risk, _, observed in parts
    ]
    return lambda w: np.mean(np.abs(np.column_stack([p(w) - o(w) for p, o in stats])), axis=1)


def _value_top_decile(f: Frame) -> Statistic:
    if f.value is None or f.lost_pred is None or f.window is None:
        return lambda w: np.array([np.nan]) if w is None else np.full(len(w), np.nan)
    lost = f.value * np.clip(f.window - f.time, 0, None) * ((f.time < f.window) & f.event)
    weighted = lost * f.ipcw
    top = f.lost_pred >= np.quantile(f.lost_pred, 0.9)
    return weighted_ratio(weighted * top, weighted)


def statistic(predictions: pd.DataFrame, name: str, frame: Frame | None = None) -> Statistic:
    """Metric ``name`` of one candidate's predictions as a statistic of customer weights."""
    f = frame or Frame(predictions)
    tau = f.times[-1] if len(f.times) else None
    keep = _kept(len(f.time))
    if name == "c_harrell":
        return _pairs(f.risk, np.ones(len(f.time)), _comparable(f, keep), keep)
    if name == "c_uno":
        return _pairs(f.risk, f.ipcw**2, _comparable(f, keep, tau), keep)
    if name == "ibs":
        return weighted_mean(_brier_terms(f))
    if name == "mean_auc":
        aucs = [_auc(f, t) for t in f.eval_times]
        return lambda w: np.nanmean(np.column_stack([a(w) for a in aucs]), axis=1)
    if name == "calibration":
        return _abs_mean([_calibration(f, t) for t in f.eval_times])
    if name == "value_top_decile":
        return _value_top_decile(f)
    if name in ("landmark_brier", "landmark_calibration") and not f.landmarks:
        return lambda w: np.array([np.nan]) if w is None else np.full(len(w), np.nan)
    if name == "landmark_brier":
        return _landmark_brier(f)
    if name == "landmark_calibration":
        return _landmark_calibration(f)
    if name.startswith("auc_"):
        return _auc(f, float(name[4:]))
    if name.startswith("calibration_"):
        return _calibration(f, float(name[len("calibration_") :]))
    raise KeyError(f"no survival metric {name!r}")
