"""What an exported classifier returns: probability, 0-100 score, tier and reasons.

:class:`LeadScorer` wraps a fitted candidate (model or baseline) with what was
fixed at training time: the feature columns and their kinds, the tier cut
points (from the training scores) and the explainer. Its :meth:`score`
returns, per row:

- ``probability``: the calibrated probability of the positive class;
- ``score``: 0-100. For rule baselines, their points (what the sales team's
  scorecard says); for models, 100 x probability, so a score of 40 means a 40 %
  chance;
- ``tier``: A, B, C or D by the training cut points: A is the top 10 % of
  training rows by score, B the next 20 %, C the next 30 %, D the rest (above
  :data:`TIER_SAMPLE` training rows, of a seeded sample of that many);
- ``reason_1`` .. ``reason_3``: the strongest drivers of that row's score
  (see :mod:`salesml.classify.reasons`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.models import CalibratedModel
from salesml.classify.reasons import N_REASONS, Explainer
from salesml.io.schema import column_type

TIER_SHARES = {"A": 0.10, "B": 0.20, "C": 0.30, "D": 0.40}
OUTPUT_COLUMNS = ["probability", "score", "tier", *(f"reason_{i + 1}" for i in range(N_REASONS))]


def tier_cuts(scores: np.ndarray, shares: dict[str, float] = TIER_SHARES) -> list[float]:
    """Score thresholds of tiers A, B, C (descending) so tiers hold ``shares`` of ``scores``."""
    cum = np.cumsum(list(shares.values()))[:-1]
    return [float(np.quantile(scores, 1 - c)) for c in cum]


def assign_tiers(scores: np.ndarray, cuts: list[float]) -> np.ndarray:
    """``"A"`` for scores at or above ``cuts[0]``, ``"B"`` at or above ``cuts[1]``, ... else ``"D"``.

    Where ties make cut points coincide, tied rows go to the lowest of those
    tiers: a constant score (the prior) puts every row in C, not A.
    """
    names = list(TIER_SHARES)
    out = np.full(len(scores), names[-1], dtype=object)
    lower = -np.inf
    for name, cut in reversed(list(zip(names[:-1], cuts, strict=True))):
        if cut > lower:
            out[scores >= cut] = name
        lower = cut
    return out


class LeadScorer:
    """A fitted candidate that speaks sales: probability, score, tier and reasons.

    Parameters
    ----------
    estimator : fitted estimator
        The candidate as fitted on the training rows.
    X_train : DataFrame
        The training features (fixes columns, kinds, tier cuts and the explainer).
    """

    def __init__(self, estimator: Any, X_train: pd.DataFrame) -> None:
        self.estimator = estimator
        self.features = [str(c) for c in X_train.columns]
        # integers as doubles: a row with a missing value scores like a complete one
        self.kinds = {c: column_type(X_train[c]) for c in X_train.columns}
        self.points_based = hasattr(estimator, "points")
        self.explainer = Explainer(estimator, X_train)
        self.cuts = tier_cuts(self._scores(_tier_rows(X_train))[1])

    def _scores(
        self, X: pd.DataFrame, logodds: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and 0-100 scores; from ``logodds`` (the explainer's pass over the
        trees) when the model is one refitted booster, so the trees are read once."""
        p = None
        if logodds is not None and isinstance(self.estimator, CalibratedModel):
            p = self.estimator.calibrate(_sigmoid(logodds))
        if p is None:
            p = self.estimator.predict_proba(X)[:, 1]
        score = self.estimator.points(X) if self.points_based else 100.0 * p
        return p, np.round(np.asarray(score, dtype=float), 1)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of ``frame`` in training order, typed as at training time."""
        X = frame[self.features].copy()
        for col, kind in self.kinds.items():
            if kind == "double":
                X[col] = pd.to_numeric(X[col], errors="coerce").astype(float)
            elif kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(X[col]):
                X[col] = pd.to_datetime(X[col], errors="coerce")
            elif kind == "boolean" and X[col].isna().any():
                X[col] = X[col].astype(object)
        return X

    def score(self, frame: pd.DataFrame, reasons: bool = True, exact: bool = False) -> pd.DataFrame:
        """Probability, score, tier and (unless ``reasons`` is false) reasons per row.

        ``exact`` explains LightGBM with TreeSHAP rather than path attribution (slow).
        """
        X = self.prepare(frame)
        texts: list[Any] = [None] * N_REASONS
        if reasons:
            values, labels, logodds = self.explainer.explain(X, exact=exact)
            texts = self.explainer.texts(X, values, labels)
            p, score = self._scores(X, logodds)
        else:
            p, score = self._scores(X)
        out = pd.DataFrame(
            {"probability": p, "score": score, "tier": assign_tiers(score, self.cuts)},
            index=frame.index,
        )
        for i, text in enumerate(texts):
            out[f"reason_{i + 1}"] = text if text is not None else ""
        return out

    def tier_table(self, X: pd.DataFrame, y: np.ndarray) -> list[dict[str, Any]]:
        """Per tier: its score range, rows, positives and positive rate on ``X, y``."""
        _, score = self._scores(self.prepare(X))
        tiers = assign_tiers(score, self.cuts)
        bounds = [np.inf, *self.cuts, -np.inf]
        rows = []
        for i, name in enumerate(TIER_SHARES):
            mask = tiers == name
            rows.append(
                {
                    "tier": name,
                    "min_score": None if i == len(self.cuts) else round(bounds[i + 1], 1),
                    "rows": int(mask.sum()),
                    "positives": int(y[mask].sum()),
                    "rate": float(y[mask].mean()) if mask.any() else None,
                }
            )
        return rows

    def top_drivers(self, X: pd.DataFrame, k: int = 10) -> list[dict[str, Any]]:
        """Mean absolute contribution per column (or rule) over ``X``, largest first."""
        values, labels = self.explainer.contributions(self.prepare(X))
        if values.shape[1] == 0:
            return []
        strength = np.abs(values).mean(axis=0)
        order = np.argsort(-strength, kind="stable")[:k]
        unit = self.explainer.unit
        return [{"driver": labels[j], "mean_abs": float(strength[j]), "unit": unit} for j in order]


# Tier cut points are quantiles of the training scores: a seeded sample of this many
# rows fixes them within a small fraction of a point (a million leads: 30 s less).
TIER_SAMPLE = 200_000


def _tier_rows(X: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """``X``, or a seeded sample of ``limit`` (default :data:`TIER_SAMPLE`) of its rows in
    their order."""
    limit = TIER_SAMPLE if limit is None else limit
    if len(X) <= limit:
        return X
    rows = np.sort(np.random.default_rng(0).choice(len(X), size=limit, replace=False))
    return X.iloc[rows]


def _sigmoid(logodds: np.ndarray) -> np.ndarray:
    """LightGBM's probability of raw log-odds, to the last bit: C's ``exp`` (``math.exp``,
    the same libm function the booster calls; numpy's vectorised ``exp`` differs from it
    in the last bit for about 5 % of values)."""
    import math

    return 1.0 / (1.0 + np.frompyfunc(math.exp, 1, 1)(-logodds).astype(float))
