"""The leakage guard's model check: how much of a quick model's skill one column carries.

A value-based check looks at one column at a time, so a leak that is noisy
(a call's duration recorded after the call, ROC-AUC 0.82 alone) passes it even
when it makes a model nearly perfect. :func:`model_check` measures that: a
small LightGBM (:data:`TREES` trees, cross-validated over :data:`FOLDS` folds
on at most :data:`MAX_ROWS` training rows) is scored with every column, then
without each of the :data:`TOP` columns it relies on most (by split gain), and
with each column named in ``extra`` added. A removed column is flagged when it
carries most of the signal, all four of:

- the model's ROC-AUC is at least :data:`LIFT_MIN` (0.03) higher with it;
- it removes at least :data:`ERROR_SHARE_MIN` (a quarter) of the ranking errors
  the model makes without it: ``(auc_with - auc_without) / (1 - auc_without)``;
- with it the model is nearly right: ROC-AUC :data:`AUC_WITH_MIN` (0.85) or more;
- its lift is :data:`DOMINANCE_MIN` (3) times the largest lift of any other
  column left out that is not itself strong (at least :data:`DOMINANCE_FLOOR`),
  so one column stands out while two independent leaks do not hide each other
  (:func:`salesml.classify.leakage_scan.scan_leaks` flags the larger, then
  checks the rest again without it).

An honest strong predictor rarely does all that: what it knows is mostly known
by other columns too (Telco's ``Contract``: tenure and the services tell the
same story, so leaving it out costs 0.005), or it lifts a weak model without
making it nearly right. A leak knows the outcome itself, so the model without
it keeps most of its errors and the model with it loses most of them.
Measured (``tests/classify/test_leakage_model.py``,
``benchmarks/bench_leakage.py``): on the shipped experiments (IBM Telco, Olist,
the synthetic leads and customers) the largest error share is 0.15 and the
largest lift 0.04 (the synthetic ``contract_type``, with 8 % to 10 % from the
next columns); on noisy leaks built from the same data the error share is 0.45
to 0.65, the model with the leak at 0.89 or more. The brief's field cases: a
call's ``duration`` (0.81 to 0.955: error share 0.76), sales annotations (0.86
to 0.984: 0.89).

Everything is seeded: the subsample, the folds and LightGBM (one thread,
deterministic), so the same frame gives the same figures.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_ROWS = 10_000
FOLDS = 3
TREES = 60
TOP = 3
MAX_CATEGORIES = 50
LIFT_MIN = 0.03
ERROR_SHARE_MIN = 0.25
AUC_WITH_MIN = 0.85
DOMINANCE_MIN = 3.0
DOMINANCE_FLOOR = 0.01
MIN_CLASS_ROWS = 30  # fewer rows of either class in the subsample: no model check

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "min_data_per_group": 20,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
    "max_bin": 63,
    "verbosity": -1,
    "num_threads": 1,
    "deterministic": True,
    "force_col_wise": True,
}


@dataclass(frozen=True)
class ColumnLift:
    """The quick model's cross-validated ROC-AUC with and without one column.

    ``how`` is ``"removed"`` (the column is one the full model relies on most and
    was left out) or ``"added"`` (the column was added to the checked columns).
    ``error_share`` is the share of the ranking errors without the column that the
    column removes; ``strong`` says whether it meets :data:`LIFT_MIN`,
    :data:`ERROR_SHARE_MIN` and :data:`AUC_WITH_MIN` (whether it is flagged is
    :meth:`ModelCheck.suspicious`).
    """

    column: str
    how: str
    auc_with: float
    auc_without: float
    gain_share: float | None = None

    @property
    def lift(self) -> float:
        return self.auc_with - self.auc_without

    @property
    def error_share(self) -> float:
        return self.lift / max(1.0 - self.auc_without, 1e-9)

    @property
    def strong(self) -> bool:
        return (
            self.lift >= LIFT_MIN
            and self.error_share >= ERROR_SHARE_MIN
            and self.auc_with >= AUC_WITH_MIN
        )

    def words(self) -> str:
        """The lift in a sentence, for a column another check flagged."""
        return (
            f"With it a quick model's cross-validated ROC-AUC goes from "
            f"{self.auc_without:.2f} to {self.auc_with:.2f} (+{self.lift:.3f})."
        )


@dataclass(frozen=True)
class ModelCheck:
    """What the model check did: rows, folds and trees used, the columns in the model,
    its ROC-AUC with all of them, the lifts measured and the seconds it took."""

    rows: int
    folds: int
    trees: int
    columns: tuple[str, ...]
    auc: float
    lifts: tuple[ColumnLift, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def _others(self, lift: ColumnLift) -> list[float]:
        """How far leaving out each other removed column moves the model (absolute)."""
        return [abs(x.lift) for x in self.lifts if x.how == "removed" and x is not lift]

    def dominance(self, lift: ColumnLift) -> float:
        """The lift over the largest lift of any other removed column that is not itself
        strong (floored at :data:`DOMINANCE_FLOOR`), so two leaks do not hide each other."""
        plain = [
            abs(x.lift) for x in self.lifts if x.how == "removed" and not x.strong and x is not lift
        ]
        return lift.lift / max([DOMINANCE_FLOOR, *plain])

    def suspicious(self, lift: ColumnLift) -> bool:
        """A removed column is flagged when it is strong and dominates the others."""
        return lift.how == "removed" and lift.strong and self.dominance(lift) >= DOMINANCE_MIN

    def explain(self, lift: ColumnLift) -> str:
        """Why a removed column is suspicious, with the largest move any other column makes."""
        others = self._others(lift)
        text = (
            f"with {lift.column!r} a quick model's cross-validated ROC-AUC jumps from "
            f"{lift.auc_without:.2f} to {lift.auc_with:.2f} (+{lift.lift:.3f}): it removes "
            f"{lift.error_share:.0%} of the ranking errors the other "
            f"{len(self.columns) - 1} columns leave"
        )
        if others:
            text += f"; leaving out any other column moves it by {max(others):.3f} at most"
        return text + ". Is its value known when a row is scored?"

    def to_dict(self) -> dict[str, object]:
        """The record's ``model_check`` block (JSON-ready, rounded)."""
        return {
            "rows": self.rows,
            "folds": self.folds,
            "trees": self.trees,
            "columns": len(self.columns),
            "roc_auc": round(self.auc, 4),
            "lift_min": LIFT_MIN,
            "error_share_min": ERROR_SHARE_MIN,
            "auc_with_min": AUC_WITH_MIN,
            "dominance_min": DOMINANCE_MIN,
            "lifts": [
                {
                    "column": x.column,
                    "how": x.how,
                    "auc_with": round(x.auc_with, 4),
                    "auc_without": round(x.auc_without, 4),
                    "lift": round(x.lift, 4),
                    "error_share": round(x.error_share, 4),
                }
                for x in self.lifts
            ],
            "seconds": round(self.seconds, 3),
        }


def encode(frame: pd.DataFrame) -> tuple[np.ndarray, list[bool]]:
    """The columns as a float matrix for LightGBM, and which of them are categorical.

    Numbers and booleans as floats, dates as days since 1970, anything else as the
    code of one of its :data:`MAX_CATEGORIES` most frequent values (the rest share
    one code); missing stays missing.
    """
    out = np.empty((len(frame), frame.shape[1]), dtype=float)
    categorical = []
    for j, col in enumerate(frame.columns):
        values = frame[col]
        is_cat = False
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = values.dt.tz_localize(None) if values.dt.tz is not None else values
            number = stamps.to_numpy(dtype="datetime64[ns]").astype("int64") / 86_400e9
            out[:, j] = np.where(values.isna().to_numpy(), np.nan, number)
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[:, j] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        else:
            text = values.astype(str).where(values.notna())
            top = list(text.value_counts().index[:MAX_CATEGORIES])
            codes = pd.Categorical(text, categories=top).codes.astype(float)
            codes[(codes == -1) & text.notna().to_numpy()] = len(top)
            codes[codes == -1] = np.nan
            out[:, j] = codes
            is_cat = True
        categorical.append(is_cat)
    return out, categorical


class _Scorer:
    """Cross-validated ROC-AUC of the quick model on any subset of the encoded columns."""

    def __init__(
        self, X: np.ndarray, y: np.ndarray, categorical: list[bool], seed: int, trees: int
    ) -> None:
        self.X, self.y, self.categorical, self.trees = X, y, categorical, trees
        self.params = {**PARAMS, "seed": seed}
        rng = np.random.default_rng(seed)
        # stratified folds: each class dealt round-robin after a seeded shuffle
        self.folds = np.empty(len(y), dtype=int)
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            self.folds[rng.permutation(idx)] = np.arange(len(idx)) % FOLDS

    def score(self, cols: list[int]) -> tuple[float, np.ndarray]:
        """ROC-AUC of the out-of-fold predictions, and each column's share of split gain."""
        return self.score_many([cols])[0]

    def score_many(
        self, col_sets: list[list[int]], n_jobs: int = 1
    ) -> list[tuple[float, np.ndarray]]:
        """:meth:`score` of each column set; the ``len(col_sets) * FOLDS`` fits run on
        ``n_jobs`` threads (each single-threaded and seeded: the figures do not depend on it)."""
        from salesml.classify.ranking import roc_auc
        from salesml.runtime.threads import thread_map

        jobs = [(cols, k) for cols in col_sets if cols for k in range(FOLDS)]
        fits = iter(thread_map(lambda job: self._fold(*job), jobs, n_jobs))
        out = []
        for cols in col_sets:
            if not cols:
                out.append((0.5, np.zeros(0)))
                continue
            oof = np.zeros(len(self.y))
            gain = np.zeros(len(cols))
            for k in range(FOLDS):
                held, fold_gain = next(fits)
                oof[self.folds == k] = held
                gain += fold_gain
            total = gain.sum()
            out.append((roc_auc(oof, self.y), gain / total if total > 0 else gain))
        return out

    def _fold(self, cols: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Fold ``k``'s held-out predictions and split gains of the model on ``cols``."""
        import lightgbm as lgb

        fit, held = self.folds != k, self.folds == k
        cats = [i for i, c in enumerate(cols) if self.categorical[c]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = lgb.Dataset(
                self.X[np.ix_(fit, cols)],
                self.y[fit],
                categorical_feature=cats,
                free_raw_data=True,
                params={"verbosity": -1, "max_bin": PARAMS["max_bin"]},
            )
            booster = lgb.train(self.params, data, num_boost_round=self.trees)
            return booster.predict(self.X[np.ix_(held, cols)]), booster.feature_importance("gain")


def model_check(
    frame: pd.DataFrame,
    y: np.ndarray,
    columns: list[Any],
    extra: list[Any] | None = None,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
    top: int = TOP,
    trees: int = TREES,
    n_jobs: int = 1,
) -> ModelCheck | None:
    """Measure how much of a quick model's ROC-AUC single columns carry.

    Parameters
    ----------
    frame : DataFrame
        The training rows; holds ``columns`` and ``extra``.
    y : ndarray
        Their 0/1 labels.
    columns : list of str
        The columns of the model. The ``top`` it gains most from are each left out
        once (``how="removed"``). Needs two or more: with one, nothing is compared.
    extra : list of str, optional
        Columns to add to ``columns`` one at a time (``how="added"``), e.g. those
        another check flagged, to put a number on what they add.
    seed : int
        Seeds the subsample, the folds and LightGBM.
    max_rows : int
        A larger frame is subsampled (seeded, both classes kept in proportion).
    top, trees : int
        Columns left out in turn; trees per fit.
    n_jobs : int
        Threads the fits run on (-1: every core); the figures do not depend on it.

    Returns
    -------
    ModelCheck or None
        None when there are fewer than two columns, or fewer than
        :data:`MIN_CLASS_ROWS` rows of either class.
    """
    started = time.perf_counter()
    extra = [c for c in (extra or []) if c not in columns]
    y = np.asarray(y, dtype=float)
    if len(columns) < 2 and not extra:
        return None
    rows = np.arange(len(y))
    if len(y) > max_rows:
        rng = np.random.default_rng(seed)
        rows = np.sort(
            np.concatenate(
                [
                    rng.choice(idx, round(max_rows * len(idx) / len(y)), replace=False)
                    for idx in (np.flatnonzero(y == 0), np.flatnonzero(y == 1))
                ]
            )
        )
    ys = y[rows]
    if min(ys.sum(), len(ys) - ys.sum()) < MIN_CLASS_ROWS:
        return None
    names = [*columns, *extra]
    X, categorical = encode(frame.iloc[rows][names])
    scorer = _Scorer(X, ys, categorical, seed, trees)
    base = list(range(len(columns)))
    auc, gain = scorer.score_many([base], n_jobs)[0]
    ranked = []
    if len(columns) >= 2:
        ranked = [i for i in np.argsort(-gain, kind="stable")[:top] if gain[i] > 0]
    scored = scorer.score_many(
        [[j for j in base if j != i] for i in ranked]
        + [[*base, len(columns) + k] for k in range(len(extra))],
        n_jobs,
    )
    lifts: list[ColumnLift] = [
        ColumnLift(str(columns[i]), "removed", auc, without, float(gain[i]))
        for i, (without, _) in zip(ranked, scored, strict=False)
    ]
    for k, col in enumerate(extra):
        with_it, _ = scored[len(ranked) + k]
        lifts.append(ColumnLift(str(col), "added", with_it, auc))
    return ModelCheck(
        rows=len(rows),
        folds=FOLDS,
        trees=trees,
        columns=tuple(map(str, columns)),
        auc=auc,
        lifts=tuple(lifts),
        seconds=time.perf_counter() - started,
    )
