"""Leakage detection: columns that know the outcome, found on the training rows alone.

:func:`find_leaks` is a pure function of the training frame. It returns one
:class:`LeakFlag` per suspicious column and kind:

- ``single_feature_auc``: the column alone ranks the training rows with a
  ROC-AUC of ``auc_threshold`` or more. Numbers and dates are scored by their
  value (either direction, missing values placed at either end so a column
  missing exactly when the label is 0 counts) and by an out-of-fold target
  rate of their quantile bins; categories by an out-of-fold (cross-fitted)
  target rate, so a high-cardinality column cannot score well by memorising
  its rows.
- ``target_derived``: the data shows the column is a function of the outcome:
  it separates the classes perfectly, or one of its values (missing
  included) occurs with one class only, at a support that chance cannot
  explain (binomial p <= 1e-9) and for at least 5 % of that class.
- ``after_label_time``: a date column later than the label's time (the time a
  row is scored at) in most rows where both are set.
- ``id_like``: a text or whole-number column with a distinct value in
  (nearly) every row.
- ``near_pure_value``: a noisy leak's mark, one value (missing included) that
  is at least 95 % one class over 100 rows or more (a noisy leak is never quite
  100 %; a column already ``target_derived`` is not checked again), at odds
  far beyond the class's base rate: the odds of that class among the value's
  rows, at the lower end of a one-sided Clopper-Pearson bound (chance 1e-6),
  are at least 20 times its odds over all rows. A sales annotation ("closed
  by ...", 97 % converted over 2,000 leads, base rate 38 %) passes; an honest
  strong category does not: Telco's two-year contracts are 97 % non-churners,
  but against a 73 % base rate that is 6 times the odds at the bound.
- ``model_lift``: a quick model's cross-validated ROC-AUC jumps when the column
  is added to the others: the column carries most of the model's signal (a
  call's duration recorded after the call). Not a value check: it comes from
  :func:`salesml.classify.leakage_scan.scan_leaks`, which runs the model of
  :mod:`salesml.classify.leakage_model` after these checks.

Column names are never evidence: every flag rests on the values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta

from salesml.classify.leakage_column import Column as _Column
from salesml.classify.leakage_column import LeakFlag
from salesml.classify.ranking import grouped_auc as _grouped_auc

KINDS = (
    "single_feature_auc",
    "after_label_time",
    "id_like",
    "target_derived",
    "near_pure_value",
    "model_lift",
)
FOLDS = 5
BINS = 20
PURE_P = 1e-9  # chance of a value this large holding one class only, if unrelated
PURE_SHARE = 0.05  # ... and it must hold at least this share of that class
PURE_MIN_ROWS = 10
ID_SHARE = 0.99
ID_MIN_ROWS = 50
LATER_SHARE = 0.5
NEAR_PURE_SHARE = 0.95  # one class holds at least this share of the value's rows
NEAR_PURE_MIN_ROWS = 100  # ... over at least this many rows
NEAR_PURE_ODDS = 20.0  # ... at odds this many times the base odds, at the lower bound
NEAR_PURE_P = 1e-6  # the one-sided level of that bound


def _value_auc(col: _Column) -> tuple[float, float]:
    """Best ROC-AUC of a numeric column in either direction, missing values at either end;
    and that of its missingness alone."""
    assert col.number is not None
    pos, neg = col.pos, col.size - col.pos
    if col.missing == 0:
        auc = _grouped_auc(col.number, pos[:-1], neg[:-1])
        return max(auc, 1 - auc), 0.5
    best = 0.5
    for end in (-np.inf, np.inf):
        auc = _grouped_auc(np.append(col.number, end), pos, neg)
        best = max(best, auc, 1 - auc)
    flag = np.array([0.0, 1.0])
    miss = _grouped_auc(
        flag, np.array([pos[:-1].sum(), pos[-1]]), np.array([neg[:-1].sum(), neg[-1]])
    )
    return best, max(miss, 1 - miss)


def _oof_rate_auc(codes: np.ndarray, y: np.ndarray, seed: int) -> float:
    """ROC-AUC of the out-of-fold target rate of each code (smoothed towards the fold's mean).

    Each row's rate is estimated on the other folds only, so a code seen in one
    row (an id, a free-text value) gets the prior and cannot rank well.
    """
    n = len(y)
    k = int(codes.max()) + 1
    folds = np.random.default_rng(seed).permutation(n) % FOLDS
    cell = folds * k + codes
    in_n = np.bincount(cell, minlength=FOLDS * k).reshape(FOLDS, k)
    in_s = np.bincount(cell, weights=y, minlength=FOLDS * k).reshape(FOLDS, k)
    out_n = in_n.sum(axis=0) - in_n
    out_s = in_s.sum(axis=0) - in_s
    prior = out_s.sum(axis=1, keepdims=True) / np.maximum(out_n.sum(axis=1, keepdims=True), 1)
    rate = (out_s + prior) / (out_n + 1.0)  # the rate each fold's rows get, per code
    return _grouped_auc(rate.ravel(), in_s.ravel(), (in_n - in_s).ravel())


def _pure_value(col: _Column, y: np.ndarray) -> tuple[float, str] | None:
    """The value holding the largest share of one class while never occurring with the other.

    Returns ``(share of that class, evidence)`` when such a value passes the
    support and chance tests, else None.
    """
    n1 = y.sum()
    best: tuple[float, str] | None = None
    for cls, hits, n_cls in ((1, col.pos, n1), (0, col.size - col.pos, len(y) - n1)):
        rate = n_cls / len(y)
        if rate in (0.0, 1.0):
            continue
        size = col.size
        pure = (hits == size) & (size >= PURE_MIN_ROWS)
        pure &= size * np.log(rate) <= np.log(PURE_P)
        pure &= size >= PURE_SHARE * n_cls
        for code in np.flatnonzero(pure):
            share = size[code] / n_cls
            if best is None or share > best[0]:
                noun = "positives" if cls == 1 else "negatives"
                other = "negative" if cls == 1 else "positive"
                best = (
                    float(share),
                    f"value {col.label(code)} holds {share:.0%} of the {noun} "
                    f"({int(size[code]):,} rows) and never occurs with a {other}",
                )
    return best


def _near_pure_value(col: _Column, y: np.ndarray) -> LeakFlag | None:
    """The value most beyond the base rate among those nearly one class over many rows.

    For each value (missing included) and class: at least
    :data:`NEAR_PURE_MIN_ROWS` rows, at least :data:`NEAR_PURE_SHARE` of them in
    the class, and the lower Clopper-Pearson bound (one-sided, level
    :data:`NEAR_PURE_P`) of that share at odds :data:`NEAR_PURE_ODDS` times the
    class's odds over all rows or more. The flag's value is the share.
    """
    n = len(y)
    best: tuple[float, int, int, float, float] | None = None
    found = 0
    for cls, hits in ((1, col.pos), (0, col.size - col.pos)):
        base = float(hits.sum()) / n
        if base in (0.0, 1.0):
            continue
        size = col.size
        share = hits / np.maximum(size, 1)
        cand = np.flatnonzero((size >= NEAR_PURE_MIN_ROWS) & (share >= NEAR_PURE_SHARE))
        if len(cand) == 0:
            continue
        low = beta.ppf(NEAR_PURE_P, hits[cand], size[cand] - hits[cand] + 1)
        ratio = (low / (1 - low)) / (base / (1 - base))
        for code, r in zip(cand, ratio, strict=True):
            found += bool(r >= NEAR_PURE_ODDS)
            if r >= NEAR_PURE_ODDS and (best is None or r > best[3]):
                best = (float(share[code]), int(code), cls, float(r), base)
    if best is None:
        return None
    share, code, cls, ratio, base = best
    noun = "positives" if cls == 1 else "negatives"
    text = (
        f"value {col.label(code)}: {share:.1%} of its {int(col.size[code]):,} rows are {noun}, "
        f"against {base:.1%} of all rows (at least {ratio:,.0f} times the odds, allowing for "
        "chance)"
    )
    if found > 1:
        text += f", and {found - 1} more value{'s are' if found > 2 else ' is'} like it"
    text += (
        "; an honest predictor is rarely this sure over so many rows. "
        "Is it recorded after the outcome?"
    )
    return LeakFlag(col.name, "near_pure_value", round(share, 4), text)


def _id_like(col: _Column, kind: str) -> LeakFlag | None:
    present = len(col.codes) - col.missing
    if present < ID_MIN_ROWS or col.is_date or kind in ("datetime", "boolean"):
        return None
    if col.number is not None and not np.all(col.number == np.round(col.number)):
        return None
    distinct = len(col.uniques)
    share = distinct / present
    if share < ID_SHARE:
        return None
    text = f"{distinct:,} distinct values in {present:,} rows"
    if col.number is not None:
        whole = np.sort(col.number)
        if len(whole) > 1 and np.mean(np.diff(whole) == 1) >= 0.9:
            text += f", a sequence from {whole[0]:.0f} to {whole[-1]:.0f}"
    return LeakFlag(col.name, "id_like", round(float(share), 4), text)


def _stamps(values: pd.Series) -> pd.Series:
    """A date column as datetimes; text is read as ISO 8601, anything else missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values, format="ISO8601", errors="coerce")


def _after(values: pd.Series, ref: pd.Series, ref_name: str) -> LeakFlag | None:
    stamps = _stamps(values)
    both = stamps.notna() & ref.notna()
    if both.sum() < PURE_MIN_ROWS:
        return None
    a, r = stamps[both], ref[both]
    if (r == r.dt.normalize()).all():  # the label time is a date: a same-day time is not later
        a = a.dt.normalize()
    later = a > r
    share = float(later.mean())
    if share < LATER_SHARE:
        return None
    days = (a[later] - r[later]).dt.total_seconds().median() / 86400
    return LeakFlag(
        str(values.name),
        "after_label_time",
        round(share, 4),
        f"later than {ref_name} in {share:.0%} of the {int(both.sum()):,} rows where both are "
        f"set (median {days:,.1f} days later)",
    )


def _scan_column(
    values: pd.Series, kind: str, y: np.ndarray, threshold: float, seed: int
) -> list[LeakFlag]:
    col = _Column.of(values, y)
    flags: list[LeakFlag] = []
    if col.missing == len(y):
        return flags
    id_flag = _id_like(col, kind)
    if id_flag is not None:
        flags.append(id_flag)
    miss_auc = 0.5
    if col.number is None:
        auc = _oof_rate_auc(col.codes, y, seed)
        how = "out-of-fold target rate of its values"
        separates = auc >= 0.999
    else:
        value_auc, miss_auc = _value_auc(col)
        edges = np.unique(np.quantile(col.number, np.linspace(0, 1, BINS + 1)[1:-1]))
        bin_of_code = np.append(np.searchsorted(edges, col.number), len(edges) + 1)
        binned_auc = _oof_rate_auc(bin_of_code[col.codes], y, seed)
        auc, how = value_auc, "its value"
        if binned_auc > value_auc:
            auc, how = binned_auc, "out-of-fold target rate of its value bins"
        separates = value_auc >= 0.999
    if auc >= threshold:
        text = f"ROC-AUC {auc:.3f} alone ({how})"
        if miss_auc >= threshold:
            text += f"; whether it is missing alone gives {miss_auc:.3f}"
        flags.append(LeakFlag(col.name, "single_feature_auc", round(auc, 4), text))
    pure = _pure_value(col, y)
    if pure is not None:
        flags.append(LeakFlag(col.name, "target_derived", round(pure[0], 4), pure[1]))
    elif separates:
        text = f"separates the classes perfectly (ROC-AUC {auc:.3f})"
        flags.append(LeakFlag(col.name, "target_derived", 1.0, text))
    else:
        near = _near_pure_value(col, y)
        if near is not None:
            flags.append(near)
    return flags


def find_leaks(
    frame: pd.DataFrame,
    target: str,
    label_time: str | None = None,
    kinds: dict[str, str] | None = None,
    auc_threshold: float = 0.95,
    seed: int = 0,
    columns: list[str] | None = None,
) -> list[LeakFlag]:
    """Flag the columns of a training frame that look like they leak the outcome, by value.

    The value checks of the module; :func:`salesml.classify.leakage_scan.scan_leaks`
    adds the model check.

    Parameters
    ----------
    frame : DataFrame
        The training rows: candidate feature columns, the target and, if given,
        ``label_time``.
    target : str
        The 0/1 target column.
    label_time : str, optional
        The column with the time each row's label is predicted at; date columns
        later than it are flagged ``after_label_time``.
    kinds : dict, optional
        Column kinds from :class:`salesml.io.schema.Schema` (``numeric``,
        ``categorical``, ``datetime``, ``boolean``); dtypes decide otherwise.
    auc_threshold : float
        Single-feature ROC-AUC from which a column is flagged.
    seed : int
        Seeds the folds of the out-of-fold target rates.
    columns : list of str, optional
        The columns to check; default every column but ``target`` and ``label_time``.

    Returns
    -------
    list of LeakFlag
        In column order; a column may carry several kinds.
    """
    kinds = kinds or {}
    y = frame[target].to_numpy(dtype=float)
    ref = None
    if label_time is not None:
        ref = _stamps(frame[label_time])
    flags: list[LeakFlag] = []
    if columns is None:
        columns = [c for c in frame.columns if c not in (target, label_time)]
    for col in columns:
        values = frame[col]
        kind = kinds.get(str(col), "")
        flags += _scan_column(values, kind, y, auc_threshold, seed)
        is_date = kind == "datetime" or pd.api.types.is_datetime64_any_dtype(values)
        if ref is not None and is_date and col != label_time:
            late = _after(values, ref, str(label_time))
            if late is not None:
                flags.append(late)
    return flags
