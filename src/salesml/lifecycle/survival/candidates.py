"""Survival candidates: the retention team's Kaplan-Meier rules and two models, as estimators.

Each takes the raw feature frame with every customer's duration and event flag,
and predicts each customer's survival curve on the grid of
:func:`~salesml.lifecycle.survival.curves.time_grid` (``grid_``):

- :class:`KaplanMeierRule`: one curve for everyone (the churn curve a retention
  team draws), or one per segment of ``by`` columns (contract type, plan), segments
  smaller than ``min_customers`` pooled into the overall curve;
- :class:`CoxModel`: Cox proportional hazards (scikit-survival, Efron ties, a ridge
  penalty), on imputed, scaled numbers and one-hot categories;
- :class:`HazardLightGBM`: a discrete-time hazard model: each customer becomes one
  row per interval they were at risk in, a LightGBM learns the chance of leaving
  in the interval, and the curve is the product of the chances of staying.

The models explain a customer's risk by :meth:`contributions`: per raw column,
what it adds to the log hazard (Cox) or to the log-odds of leaving in the
customer's next interval (path attribution on LightGBM's trees), positive for more risk.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from salesml.lifecycle.survival.curves import kaplan_meier, step, time_grid

MAX_INTERVALS = 36
MIN_AT_RISK = 50


class SurvivalEstimator(Protocol):
    """What the task needs of a candidate."""

    grid_: np.ndarray

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> SurvivalEstimator:
        """Learn from customers' features, durations and event flags."""

    def survival(self, X: pd.DataFrame) -> np.ndarray:
        """Each customer's ``S(t)`` on ``grid_``, shape ``(n, len(grid_))``."""


def _raw_of(names: list[str], safe: dict[str, str]) -> list[str]:
    """The raw column each encoded name comes from (longest safe-name prefix wins)."""
    by_length = sorted(safe.items(), key=lambda kv: -len(kv[1]))
    out = []
    for name in names:
        bare = name.split("__", 1)[1] if "__" in name else name
        bare = bare.removeprefix("missingindicator_")
        raw = next((r for r, s in by_length if bare == s or bare.startswith(s + "_")), bare)
        out.append(raw)
    return out


class KaplanMeierRule:
    """Kaplan-Meier survival, overall or per segment of ``by`` columns.

    Parameters
    ----------
    by : list of str
        Segment columns (empty: one curve for everyone).
    min_customers : int
        Segments with fewer training customers use the overall curve.
    """

    def __init__(self, by: list[str] | None = None, min_customers: int = 30) -> None:
        self.by = list(by or [])
        self.min_customers = min_customers

    def _keys(self, X: pd.DataFrame) -> pd.Series:
        missing = [c for c in self.by if c not in X.columns]
        if missing:
            raise KeyError(f"segment column(s) {', '.join(map(repr, missing))} not in the data")
        if not self.by:
            return pd.Series("all", index=X.index)
        parts = [X[c].astype(str).where(X[c].notna(), "(missing)") for c in self.by]
        key = parts[0]
        for p in parts[1:]:
            key = key + " | " + p
        return key

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> KaplanMeierRule:
        self.grid_ = time_grid(time)
        t, s = kaplan_meier(time, event)
        self.overall_ = step(t, s, self.grid_)
        keys = self._keys(X).to_numpy()
        self.curves_: dict[str, np.ndarray] = {}
        self.sizes_: dict[str, int] = {}
        for key in pd.unique(keys):
            mask = keys == key
            self.sizes_[str(key)] = int(mask.sum())
            if mask.sum() >= self.min_customers:
                t, s = kaplan_meier(time[mask], event[mask])
                self.curves_[str(key)] = step(t, s, self.grid_)
        return self

    def survival(self, X: pd.DataFrame) -> np.ndarray:
        keys = self._keys(X).to_numpy()
        out = np.tile(self.overall_, (len(X), 1))
        for key, curve in self.curves_.items():
            out[keys == key] = curve
        return out


class CoxModel:
    """Cox proportional hazards with a ridge penalty ``alpha`` (scikit-survival).

    With ``strata``, each segment of those columns gets its own baseline hazard
    (Breslow, from the shared coefficients): proportional hazards need hold only
    within a segment. On Telco they do not hold across contract types: with one
    baseline, the few month-to-month customers still there after five years would
    be given the hazard of the two-year contracts' late leavers, multiplied up.
    """

    def __init__(self, alpha: float = 1.0, strata: list[str] | None = None, seed: int = 0) -> None:
        self.alpha = alpha
        self.strata = strata
        self.seed = seed

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> CoxModel:
        from sklearn.pipeline import Pipeline
        from sksurv.linear_model import CoxPHSurvivalAnalysis
        from sksurv.util import Surv

        from salesml.io.encoding import encoding_steps

        time, event = np.asarray(time, float), np.asarray(event, bool)
        self.grid_ = time_grid(time)
        self.encode_ = Pipeline(encoding_steps("onehot")).fit(X)
        Z = self.encode_.transform(X)
        self.mean_ = Z.mean(axis=0)
        y = Surv.from_arrays(event=event, time=time)
        self.model_ = CoxPHSurvivalAnalysis(alpha=self.alpha, ties="efron").fit(Z, y)
        names = list(self.encode_[-1].get_feature_names_out())
        self.raw_ = _raw_of(names, self.encode_[0].names_)
        self.baselines_: dict[str, np.ndarray] = {}
        if self.strata:
            self.segments_ = KaplanMeierRule(by=self.strata)
            keys = self.segments_._keys(X).to_numpy()
            lp = self.model_.predict(Z)
            self.baselines_ = {
                str(k): _breslow(lp[keys == k], time[keys == k], event[keys == k], self.grid_)
                for k in pd.unique(keys)
                if event[keys == k].any()
            }
        return self

    def survival(self, X: pd.DataFrame) -> np.ndarray:
        Z = self.encode_.transform(X)
        fns = self.model_.predict_survival_function(Z, return_array=True)
        times = self.model_.unique_times_
        idx = np.searchsorted(times, self.grid_, side="right") - 1
        out = np.asarray(np.where(idx[None, :] >= 0, fns[:, np.clip(idx, 0, None)], 1.0), float)
        if self.baselines_:
            keys = self.segments_._keys(X).to_numpy()
            risk = np.exp(self.model_.predict(Z))
            for key, H in self.baselines_.items():
                m = keys == key
                out[m] = np.exp(-risk[m, None] * H[None, :])
        return out

    def contributions(self, X: pd.DataFrame, now: np.ndarray) -> pd.DataFrame:
        """Each raw column's term of the log hazard, against the average customer."""
        Z = self.encode_.transform(X)
        terms = (Z - self.mean_) * self.model_.coef_
        out = pd.DataFrame(terms, columns=range(terms.shape[1])).T.groupby(self.raw_).sum().T
        return out.set_axis(X.index)


def _breslow(lp: np.ndarray, time: np.ndarray, event: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Breslow's cumulative baseline hazard on ``grid`` for linear predictors ``lp``.

    Where fewer than :data:`MIN_AT_RISK` customers are left at risk, a handful of
    leavers would set the hazard of everyone that far out (one leaver among ten
    low-risk stayers makes a high-risk customer's next months look certain); from
    there on the baseline hazard keeps its average rate of the stretch before.
    """
    risk = np.exp(lp - lp.max())
    ts, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event, minlength=len(ts))
    at_risk = np.bincount(inverse, weights=risk, minlength=len(ts))[::-1].cumsum()[::-1]
    count = np.bincount(inverse, minlength=len(ts))[::-1].cumsum()[::-1]
    cum = np.cumsum(np.where(at_risk > 0, deaths / np.where(at_risk > 0, at_risk, 1), 0.0))
    cum = cum * np.exp(-lp.max())  # back to the scale of exp(lp)
    H = step(ts, cum, grid, before=0.0)
    supported = ts[count >= MIN_AT_RISK]
    if len(supported) and supported[-1] < grid[-1]:
        last = float(supported[-1])
        start = last * 0.75
        h_last, h_start = step(ts, cum, np.array([last, start]), before=0.0)
        rate = (h_last - h_start) / (last - start) if last > start else 0.0
        H = np.where(grid > last, h_last + rate * (grid - last), H)
    return H


class HazardLightGBM:
    """A discrete-time hazard LightGBM: P(leave in an interval | here at its start, features).

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM's own.
    seed : int
        LightGBM's random state.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def _edges(self, time: np.ndarray, event: np.ndarray) -> np.ndarray:
        end = float(self.grid_[-1])
        whole = np.allclose(time, np.round(time))
        if whole and end <= MAX_INTERVALS:
            return np.arange(0.0, end + 1.0)
        qs = np.quantile(time[event] if event.any() else time, np.linspace(0, 1, MAX_INTERVALS))
        edges = np.unique(np.concatenate([[0.0], np.round(qs) if whole else qs, [end]]))
        return edges[edges <= end]

    def _rows(self, Z: pd.DataFrame, starts: np.ndarray) -> pd.DataFrame:
        """Each customer once per interval start in ``starts`` (customer-major)."""
        k = len(starts)
        rows = Z.iloc[np.repeat(np.arange(len(Z)), k)].reset_index(drop=True)
        rows["interval_start__"] = np.tile(starts, len(Z))
        return rows

    def fit(self, X: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> HazardLightGBM:
        from lightgbm import LGBMClassifier

        from salesml.io.encoding import FrameEncoder

        time, event = np.asarray(time, float), np.asarray(event, bool)
        self.grid_ = time_grid(time)
        self.edges_ = self._edges(time, event)
        self.encode_ = FrameEncoder(categorical="category").fit(X)
        Z = self.encode_.transform(X).reset_index(drop=True)
        lo, hi = self.edges_[:-1], self.edges_[1:]
        at_risk = time[:, None] > lo[None, :]  # here at the interval's start
        left = event[:, None] & at_risk & (time[:, None] <= hi[None, :])
        who, which = np.nonzero(at_risk)
        rows = Z.iloc[who].reset_index(drop=True)
        rows["interval_start__"] = lo[which]
        y = left[who, which].astype(int)
        self.model_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            random_state=self.seed,
            n_jobs=2,
            verbose=-1,
        ).fit(rows, y)
        return self

    def hazards(self, X: pd.DataFrame) -> np.ndarray:
        """P(leave in each interval | here at its start), shape ``(n, intervals)``."""
        Z = self.encode_.transform(X).reset_index(drop=True)
        lo = self.edges_[:-1]
        p = self.model_.predict_proba(self._rows(Z, lo))[:, 1]
        return p.reshape(len(Z), len(lo))

    def survival(self, X: pd.DataFrame) -> np.ndarray:
        h = np.clip(self.hazards(X), 0.0, 1.0 - 1e-12)
        log_stay = np.log1p(-h)
        at_edges = np.concatenate([np.zeros((len(h), 1)), np.cumsum(log_stay, axis=1)], axis=1)
        # within an interval the chance of staying falls geometrically
        k = np.clip(np.searchsorted(self.edges_, self.grid_, side="right") - 1, 0, len(h[0]) - 1)
        width = self.edges_[k + 1] - self.edges_[k]
        frac = np.clip((self.grid_ - self.edges_[k]) / np.where(width > 0, width, 1), 0, 1)
        return np.exp(at_edges[:, k] + log_stay[:, k] * frac[None, :])

    def contributions(self, X: pd.DataFrame, now: np.ndarray) -> pd.DataFrame:
        """Each raw column's part of the log-odds of leaving in the customer's next interval.

        Path attribution on the booster's trees (:mod:`salesml.experiment.tree_paths`):
        one leaf lookup per tree, where TreeSHAP would cost some 40 predictions.
        """
        from salesml.experiment.tree_paths import leaf_sum, tree_paths

        Z = self.encode_.transform(X).reset_index(drop=True)
        idx = np.searchsorted(self.edges_, np.asarray(now, float), side="right") - 1
        Z["interval_start__"] = self.edges_[np.clip(idx, 0, len(self.edges_) - 2)]
        if "paths_" not in self.__dict__:
            self.paths_, self.offsets_, self.leaf_values_ = tree_paths(self.model_.booster_)
        parts = [
            leaf_sum(
                self.model_.predict(Z.iloc[i : i + 10_000], pred_leaf=True),
                self.paths_,
                self.offsets_,
                self.leaf_values_,
            )[0]
            for i in range(0, len(Z), 10_000)
        ]
        contrib = np.vstack(parts) if parts else np.zeros((0, Z.shape[1]))
        names = list(Z.columns)
        raw = _raw_of(names[:-1], self.encode_.names_) + ["interval_start__"]
        out = pd.DataFrame(contrib, columns=range(len(names))).T.groupby(raw).sum().T
        return out.drop(columns="interval_start__").set_axis(X.index)


def kaplan_meier_rule(seed: Any) -> KaplanMeierRule:
    """Builder: one Kaplan-Meier curve for everyone."""
    return KaplanMeierRule()


def kaplan_meier_segments(
    seed: Any, by: list[str] | None = None, min_customers: int = 30
) -> KaplanMeierRule:
    """Builder: a Kaplan-Meier curve per segment of ``by`` (required)."""
    if not by:
        raise ValueError("kaplan_meier_segments needs params.by: the segment columns")
    return KaplanMeierRule(by=by, min_customers=min_customers)


def cox(seed: Any, alpha: float = 1.0, strata: list[str] | None = None) -> CoxModel:
    """Builder: Cox proportional hazards."""
    return CoxModel(alpha=alpha, strata=strata, seed=int(seed))


def hazard_lightgbm(
    seed: Any,
    n_estimators: int = 300,
    learning_rate: float = 0.05,
    num_leaves: int = 15,
    min_child_samples: int = 50,
) -> HazardLightGBM:
    """Builder: the discrete-time hazard LightGBM."""
    return HazardLightGBM(n_estimators, learning_rate, num_leaves, min_child_samples, int(seed))
