"""Rule-based scoring baselines, written as scikit-learn classifiers.

Each baseline produces the 0-100 points score a sales team would use
(:meth:`points`), the per-row points behind it (:meth:`contributions`, the
"reasons"), and a probability from an isotonic map of the score fitted on the
training rows (:meth:`predict_proba`). They take the raw feature frame, so an
exported baseline scores the same rows a model does.

- :class:`ScorecardClassifier`: explicit rules from the YAML config
  (BANT for leads; contract, tenure and support rules for churn).
- :class:`ControlPointsClassifier`: the hand method of points relative to a
  control conversion rate, learned on train only.
- The floor is scikit-learn's ``DummyClassifier(strategy="prior")``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from salesml.errors import DataError

_NUMERIC_OPS = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}


def _as_frame(X: Any) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TypeError("rule-based baselines need a pandas DataFrame with named columns")
    return X


def _as_number(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _matches(values: pd.Series, targets: list[Any]) -> np.ndarray:
    texts = {str(t) for t in targets}
    hits = values.isin(targets) | values.astype(str).isin(texts)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        # A quoted YAML number ("3") matches 3 and 3.0 in a numeric column too.
        numbers = [n for n in map(_as_number, targets) if n is not None]
        if numbers:
            hits |= values.isin(numbers)
    return hits.to_numpy()


def rule_mask(X: pd.DataFrame, rule: dict[str, Any]) -> np.ndarray:
    """Rows where every condition of ``rule`` holds (conditions are ANDed).

    Missing values never satisfy a comparison; use ``missing: true`` for them.
    """
    col = rule["column"]
    if col not in X.columns:
        raise DataError(f"scorecard rule column {col!r} not in the data")
    values = X[col]
    mask = np.ones(len(X), dtype=bool)
    if rule.get("in") is not None:
        mask &= _matches(values, list(rule["in"]))
    if rule.get("not_in") is not None:
        mask &= ~_matches(values, list(rule["not_in"])) & values.notna().to_numpy()
    if rule.get("eq") is not None:
        mask &= _matches(values, [rule["eq"]])
    if rule.get("ne") is not None:
        mask &= ~_matches(values, [rule["ne"]]) & values.notna().to_numpy()
    if rule.get("missing") is not None:
        mask &= values.isna().to_numpy() == bool(rule["missing"])
    ops = [op for op in _NUMERIC_OPS if rule.get(op) is not None]
    if ops:
        numeric = pd.to_numeric(values, errors="coerce")
        # Dates convert to nanoseconds, which a rule like ``ge: 2024`` would compare silently.
        dates = pd.api.types.is_datetime64_any_dtype(values)
        if dates or (numeric.isna().all() and values.notna().any()):
            raise DataError(
                f"scorecard rule on column {col!r} compares numbers, but it is not numeric"
            )
        arr = numeric.to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            for op in ops:
                mask &= _NUMERIC_OPS[op](arr, float(rule[op]))
    return mask


class PointsBaseline(ClassifierMixin, BaseEstimator):
    """Shared tail of every baseline: isotonic map from 0-100 points to probability."""

    def _fit_calibration(self, points: np.ndarray, y: np.ndarray) -> None:
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise DataError(f"{type(self).__name__}: the training target has one class only")
        self.isotonic_ = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
        self.isotonic_.fit(points, (y == self.classes_[1]).astype(float))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class: isotonic map of :meth:`points` fitted on train."""
        check_is_fitted(self, "isotonic_")
        p1 = self.isotonic_.predict(self.points(X))
        return np.column_stack([1 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        p1 = self.predict_proba(X)[:, 1]  # checks the fit before classes_ is read
        return self.classes_[(p1 >= 0.5).astype(int)]

    def points(self, X: Any) -> np.ndarray:
        """The 0-100 score."""
        return self._points(self.contributions(X).to_numpy())

    def _points(self, contributions: np.ndarray) -> np.ndarray:
        return np.clip(self._scale(contributions.sum(axis=1)), 0.0, 100.0)

    def proba_from_contributions(self, contributions: np.ndarray) -> np.ndarray:
        """:meth:`predict_proba` of rows given as their :meth:`contributions` (an array)."""
        check_is_fitted(self, "isotonic_")
        p1 = self.isotonic_.predict(self._points(np.asarray(contributions, dtype=float)))
        return np.column_stack([1 - p1, p1])

    def contribution_sources(self, labels: list[Any]) -> list[str | None]:
        """The raw column behind each :meth:`contributions` column (None: points every
        row gets); a row's contribution in that column depends on that column alone."""
        return [str(c) for c in labels]

    def _scale(self, raw: np.ndarray) -> np.ndarray:
        return raw


def prior(seed: int) -> Any:
    """The floor: scikit-learn's ``DummyClassifier(strategy="prior")``."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def scorecard(seed: int, rules: list[dict[str, Any]], **params: Any) -> ScorecardClassifier:
    """A :class:`ScorecardClassifier` from config rules (``seed`` is unused: rules are fixed)."""
    return ScorecardClassifier(rules=rules, **params)


def control_points(seed: int, **params: Any) -> ControlPointsClassifier:
    """A :class:`ControlPointsClassifier` (deterministic; ``seed`` is unused)."""
    return ControlPointsClassifier(**params)


class ScorecardClassifier(PointsBaseline):
    """Points from explicit rules, clipped to 0-100.

    Parameters
    ----------
    rules : list of dict
        Each ``{"column": ..., "points": ..., <condition>: ...}`` with conditions
        ``in, not_in, eq, ne, lt, le, gt, ge, missing`` (all must hold).
        Rules are parsed, never evaluated as code.
    base_points : float, default 0
        Points every row starts with.
    """

    def __init__(self, rules: list[dict[str, Any]] | None = None, base_points: float = 0.0) -> None:
        self.rules = rules
        self.base_points = base_points

    def fit(self, X: Any, y: Any) -> ScorecardClassifier:
        """Check every rule's column exists, then fit the points-to-probability map."""
        X = _as_frame(X)
        if not self.rules:
            raise DataError("scorecard: no rules given")
        missing = sorted({r["column"] for r in self.rules} - set(map(str, X.columns)))
        if missing:
            raise DataError(
                f"scorecard: rule column(s) {', '.join(map(repr, missing))} not in the data"
            )
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self._fit_calibration(self.points(X), y)
        return self

    def contributions(self, X: Any) -> pd.DataFrame:
        """Points earned by each row from each rule (one column per rule)."""
        X = _as_frame(X)
        cols = {}
        for i, rule in enumerate(self.rules or []):
            label = f"{i}:{rule['column']}"
            cols[label] = np.where(rule_mask(X, rule), float(rule["points"]), 0.0)
        out = pd.DataFrame(cols, index=X.index)
        out.insert(0, "base", float(self.base_points))
        return out

    def contribution_sources(self, labels: list[Any]) -> list[str | None]:
        """The base points, then each rule's column."""
        rules = {f"{i}:{r['column']}": str(r["column"]) for i, r in enumerate(self.rules or [])}
        return [rules.get(str(label)) for label in labels]


class ControlPointsClassifier(PointsBaseline):
    """Points by each attribute's conversion rate relative to the control rate.

    The control rate is the positive rate on train. Every categorical value and
    every numeric quantile bin (missing is its own bin) earns
    ``rate / control - 1`` points, its rate shrunk toward the control with
    ``smoothing`` pseudo-rows so rare values earn little. Points are summed
    over attributes and rescaled to 0-100 by the train range.

    Parameters
    ----------
    n_bins : int, default 5
        Quantile bins per numeric column.
    smoothing : float, default 20
        Pseudo-count pulling small groups' rates toward the control rate.
    max_levels : int, default 50
        Categorical columns with more distinct values are skipped.
    """

    def __init__(self, n_bins: int = 5, smoothing: float = 20.0, max_levels: int = 50) -> None:
        self.n_bins = n_bins
        self.smoothing = smoothing
        self.max_levels = max_levels

    def _keys(self, X: pd.DataFrame, col: str) -> pd.Series:
        values = X[col]
        if col in self.bin_edges_:
            codes = np.searchsorted(self.bin_edges_[col], values.to_numpy(dtype=float), "right")
            keys = pd.Series(codes.astype(str), index=X.index)
        else:
            keys = values.astype(str)
        return keys.where(values.notna(), "<missing>")

    def fit(self, X: Any, y: Any) -> ControlPointsClassifier:
        """Learn the control rate and every attribute's points on train."""
        X = _as_frame(X)
        yv = np.asarray(y)
        classes = np.unique(yv)
        target = (yv == classes[-1]).astype(float)
        self.control_rate_ = float(target.mean())
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.bin_edges_: dict[str, np.ndarray] = {}
        self.points_table_: dict[str, dict[str, float]] = {}
        for col in X.columns:
            values = X[col]
            if values.notna().sum() == 0:
                continue
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                qs = np.linspace(0, 1, self.n_bins + 1)[1:-1]
                self.bin_edges_[col] = np.unique(np.nanquantile(values.to_numpy(float), qs))
            elif pd.api.types.is_datetime64_any_dtype(values) or values.nunique() > self.max_levels:
                continue
            keys = self._keys(X, col)
            grouped = pd.DataFrame({"k": keys.to_numpy(), "t": target}).groupby("k")["t"]
            pos, n = grouped.sum(), grouped.count()
            rate = (pos + self.smoothing * self.control_rate_) / (n + self.smoothing)
            self.points_table_[col] = (rate / max(self.control_rate_, 1e-12) - 1.0).to_dict()
        raw = self.contributions(X).to_numpy().sum(axis=1)
        self.raw_min_, self.raw_max_ = float(raw.min()), float(raw.max())
        self._fit_calibration(self.points(X), yv)
        return self

    def contributions(self, X: Any) -> pd.DataFrame:
        """Lift points each row earns from each attribute (0 for values unseen in train)."""
        check_is_fitted(self, "points_table_")
        X = _as_frame(X)
        cols = {
            col: self._column_points(X[col], col, table)
            for col, table in self.points_table_.items()
        }
        return pd.DataFrame(cols, index=X.index)

    def _column_points(self, values: pd.Series, col: str, table: dict[str, float]) -> np.ndarray:
        """Each row's points from ``col``: looked up once per distinct value."""
        codes, uniques = pd.factorize(values)  # missing values: code -1
        distinct = pd.DataFrame({col: pd.Series(uniques, dtype=values.dtype)})
        points = self._keys(distinct, col).map(table).fillna(0.0).to_numpy(dtype=float)
        return np.append(points, table.get("<missing>", 0.0))[codes]

    def _scale(self, raw: np.ndarray) -> np.ndarray:
        span = max(self.raw_max_ - self.raw_min_, 1e-12)
        return 100.0 * (raw - self.raw_min_) / span
