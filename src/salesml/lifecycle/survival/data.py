"""Customers in, a split out: the data half of a survival-churn experiment.

:func:`prepare_customers` reads the file, reads each customer's duration and
event flag (refusing missing or negative durations and unreadable flags, naming
the file, column and rows), guards the features against the duration, splits
train and test stratified by the event, and fixes the times the metrics are
measured at.

**The duration guard.** A feature that grows with the time a customer has been
here tells a survival model the answer: Telco's ``TotalCharges`` is about
``tenure x MonthlyCharges``. A numeric feature whose rank correlation with the
duration reaches :data:`ALONE` (0.8), or whose ratio to another numeric feature
reaches :data:`RATIO` (0.95), is left out and named on the screen and in the
report; ``data.allow`` keeps it when it is known at the start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.experiment.results import DataInfo
from salesml.lifecycle.survival.config import SurvivalExperiment

ALONE = 0.8
RATIO = 0.95
YES = {"yes", "true", "1", "1.0", "churned", "left", "y"}
NO = {"no", "false", "0", "0.0", "active", "stayed", "n"}
IBS_POINTS = 40


@dataclass
class SurvivalData(DataInfo):
    """Customers, events, the split, the features and what the duration guard left out."""

    unit: str = "month"
    events: int = 0
    train_rows: int = 0
    test_rows: int = 0
    median_duration: float = 0.0
    features: list[str] = field(default_factory=list)
    guarded: dict[str, str] = field(default_factory=dict)
    evaluation_times: list[float] = field(default_factory=list)
    horizons: list[float] = field(default_factory=list)
    value: str | None = None
    value_window: float = 12.0
    landmarks: list[float] = field(default_factory=list)
    as_of: str | None = None  # with start and end dates: the day durations run to
    ends_later: int = 0  # end dates after as_of, counted as still active


@dataclass(frozen=True)
class SurvivalPrepared:
    """What every candidate is fitted and judged on."""

    info: SurvivalData
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    t_train: np.ndarray
    t_test: np.ndarray
    e_train: np.ndarray
    e_test: np.ndarray
    test_ids: np.ndarray
    value_test: np.ndarray | None
    stored_times: np.ndarray  # where S is kept for the metrics: the IBS grid and eval times
    frame: pd.DataFrame = field(repr=False)  # the file as read (the export's input example)


def read_event(values: pd.Series, event_value: Any, where: str) -> np.ndarray:
    """The event flags (True: the customer left) from ``values``."""
    from salesml.experiment.labels import as_labels, label_key

    if values.isna().any():
        rows = np.flatnonzero(values.isna().to_numpy())[:5] + 1
        raise DataError(
            f"{where}: {int(values.isna().sum()):,} row(s) have no event value (data row "
            f"{', '.join(map(str, rows))}); a customer either left or is still here"
        )
    keys = values.map(label_key)
    labels = as_labels(event_value)
    if labels is not None:
        wanted = {label_key(v) for v in labels}
        return keys.isin(wanted).to_numpy()
    seen = {str(k).strip().lower() for k in keys.unique()}
    if seen <= YES | NO:
        return keys.map(lambda k: str(k).strip().lower() in YES).to_numpy(bool)
    shown = ", ".join(sorted(map(str, keys.unique()))[:8])
    raise DataError(
        f"{where}: cannot tell which values mean the customer left (values: {shown}); "
        "set data.event_value"
    )


def read_duration(values: pd.Series, where: str) -> np.ndarray:
    """Durations as floats, refusing missing, non-numeric and negative ones."""
    t = pd.to_numeric(values, errors="coerce")
    bad = t.isna() | (t < 0)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5] + 1
        raise DataError(
            f"{where}: {int(bad.sum()):,} row(s) have a missing, non-numeric or negative "
            f"duration (data row {', '.join(map(str, rows))}, e.g. {values.iloc[rows[0] - 1]!r})"
        )
    return t.to_numpy(float)


def guard_features(X: pd.DataFrame, duration: np.ndarray, allow: list[str]) -> dict[str, str]:
    """Numeric features that give the duration away, with why (see the module's notes)."""
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    d = pd.Series(duration).rank().to_numpy()
    found: dict[str, str] = {}

    def rho(v: pd.Series) -> float:
        ok = v.notna().to_numpy() & np.isfinite(v.to_numpy(float))
        if ok.sum() < 10 or v[ok].nunique() < 2:
            return 0.0
        return float(np.corrcoef(v[ok].rank().to_numpy(), d[ok])[0, 1])

    for c in numeric:
        r = rho(X[c].astype(float).reset_index(drop=True))
        if abs(r) >= ALONE:
            found[c] = f"rank correlation {r:.2f} with the duration"
    for a in numeric:
        for b in numeric:
            if a == b or a in found or b in found:
                continue
            den = X[b].astype(float).where(X[b].astype(float) != 0)
            r = rho((X[a].astype(float) / den).reset_index(drop=True))
            if abs(r) >= RATIO:
                found[a] = f"{a} / {b} has rank correlation {r:.2f} with the duration"
    return {c: why for c, why in found.items() if c not in allow}


def _times(values: np.ndarray, whole: bool) -> np.ndarray:
    return np.unique(np.round(values) if whole else values)


def prepare_customers(config: SurvivalExperiment) -> SurvivalPrepared:
    """Read, check, guard and split the customers of ``config``."""
    from sklearn.model_selection import train_test_split

    from salesml.io.data import check_unique_ids, ensure_data, load_table, require_columns

    d = config.data
    ensure_data(d.path, d.generate, config.source)
    table = load_table(d.path, date_format=d.date_format, read=d.read)
    frame, where = table.frame, str(d.path)
    given = [d.duration, d.event, d.start, d.end, d.id, d.value]
    roles = [c for c in given if c] + list(d.drop)
    require_columns(frame, roles, where, "configured")
    if d.id:
        check_unique_ids(frame, [d.id], where)
    if len(frame) < 40:
        raise DataError(f"{where}: {len(frame)} customers; a survival comparison needs 40 or more")
    as_of, ends_later = None, 0
    excluded: dict[str, str] = {}
    if d.start and d.end:
        from salesml.lifecycle.survival.dates import from_dates

        read = from_dates(frame, d.start, d.end, config.unit, d.as_of, where)
        keep = ~read.joined_later
        frame = frame[keep].reset_index(drop=True)
        time, event, as_of, ends_later = (
            read.time[keep],
            read.event[keep],
            read.as_of,
            read.ends_later,
        )
        if not keep.all():
            excluded[f"started after {as_of:%Y-%m-%d}"] = f"{int((~keep).sum()):,} rows"
        told = f"{d.end!r} set by {as_of:%Y-%m-%d}"
    else:
        duration, flag = str(d.duration), str(d.event)  # both given (the config's validator)
        time = read_duration(frame[duration], f"{where}: column {duration!r}")
        event = read_event(frame[flag], d.event_value, f"{where}: column {flag!r}")
        told = repr(flag)
    if event.sum() < 10:
        raise DataError(
            f"{where}: {int(event.sum())} customer(s) left ({told}); not enough data "
            "for a survival comparison (10 or more)"
        )
    leave_out = {c for c in (d.duration, d.event, d.start, d.end, d.id) if c} | set(d.drop)
    X = frame[[c for c in frame.columns if c not in leave_out]]
    guarded = guard_features(X, time, d.allow)
    X = X.drop(columns=list(guarded))
    ids = frame[d.id].astype(str).to_numpy() if d.id else np.arange(len(frame)).astype(str)
    tr, te = train_test_split(
        np.arange(len(frame)),
        test_size=config.split.test_size,
        random_state=config.split.seed,
        stratify=event,
    )
    whole = bool(np.allclose(time, np.round(time)))
    ends = float(np.quantile(time[te], 0.9))
    if config.evaluation_times:
        eval_times = np.asarray(config.evaluation_times, float)
    else:
        eval_times = _times(np.quantile(time[tr][event[tr]], [0.25, 0.5, 0.75]), whole)
    eval_times = eval_times[(eval_times > 0) & (eval_times < time[te].max())]
    if not len(eval_times):
        raise DataError(f"{where}: no evaluation time within the test customers' durations")
    first = float(max(time[te][time[te] > 0].min(), 1.0 if whole else 0.0))
    grid = _times(np.linspace(first, max(ends, first), IBS_POINTS), whole)
    h = float(max(config.horizons))
    # new customers (0) and those still here at each evaluation time, within the grid
    landmarks = np.concatenate([[0.0], eval_times])
    landmarks = landmarks[landmarks + h <= grid[-1]]
    stored = np.unique(np.concatenate([[0.0], grid, eval_times, landmarks + h]))
    info = SurvivalData(
        path=where,
        sha256=table.sha256,
        rows=len(frame),
        excluded=excluded,
        unit=config.unit,
        events=int(event.sum()),
        train_rows=len(tr),
        test_rows=len(te),
        median_duration=float(np.median(time)),
        features=list(X.columns),
        guarded=guarded,
        evaluation_times=[float(t) for t in eval_times],
        horizons=[float(h) for h in config.horizons],
        value=d.value,
        value_window=config.value_window,
        landmarks=[float(a) for a in landmarks],
        as_of=f"{as_of:%Y-%m-%d}" if as_of is not None else None,
        ends_later=ends_later,
    )
    value = pd.to_numeric(frame[d.value], errors="coerce").to_numpy(float) if d.value else None
    return SurvivalPrepared(
        info=info,
        X_train=X.iloc[tr],
        X_test=X.iloc[te],
        t_train=time[tr],
        t_test=time[te],
        e_train=event[tr],
        e_test=event[te],
        test_ids=ids[te],
        value_test=value[te] if value is not None else None,
        stored_times=stored,
        frame=frame,
    )
