"""Rows in, a split out: the data half of a lead-conversion or churn experiment.

:func:`prepare_rows` loads and validates the file, maps the target to labels
(leaving open rows out, :mod:`salesml.classify.labels`), chooses the features,
splits train and test, checks each class has enough rows for the run's folds
and CIs (:mod:`salesml.classify.class_counts`) and runs the leakage guard, and
returns everything the fits need in one frozen :class:`ClassificationPrepared`.
Documented handling of awkward input is in :mod:`salesml.classify.task`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.classify.class_counts import check_class_counts, class_rows, small_data_warnings
from salesml.classify.config import ClassificationExperiment
from salesml.classify.labels import map_labels
from salesml.classify.leakage_guard import guard_features
from salesml.errors import DataError
from salesml.experiment.results import ClassificationData
from salesml.io.data import (
    check_unique_ids,
    ensure_data,
    load_table,
    read_frame,
    require_columns,
    scalar,
)


def feature_frame(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model input: ``features`` of ``frame``, integer columns as floats.

    Exported models declare integer features as doubles, so rows with a missing
    value score as well as complete ones. Use this on new rows before scoring.
    """
    X = frame[features].copy()
    for col in X.columns:
        if pd.api.types.is_integer_dtype(X[col]) and not pd.api.types.is_bool_dtype(X[col]):
            X[col] = X[col].astype(float)
    return X


@dataclass(frozen=True)
class ClassificationPrepared:
    """What every candidate of a classification run is fitted and judged on.

    ``info`` is the summary's data block; ``test_keys`` the test rows' positions
    in the file (``row``) and ids, the keys of every candidate's predictions;
    ``notes`` the one-line verdicts on the data for the screen, in order: the
    labels (when rows were left out as open or a class has several values), the
    small-data warning, the leakage guard's (``guard_lines`` holds them all too,
    for :meth:`ClassificationTask.notes`).
    """

    info: ClassificationData
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    test_keys: pd.DataFrame
    train_window: tuple[str, str] | None
    notes: tuple[str, ...]

    @property
    def guard_lines(self) -> tuple[str, ...]:
        """Every one-line verdict on the data (:attr:`notes`), under the name the task reads."""
        return self.notes


def prepare_rows(cfg: ClassificationExperiment) -> ClassificationPrepared:
    """Load, validate and split the rows of a classification experiment; run the leakage guard.

    A pure function of the config and the file: everything the fits need, in one
    frozen :class:`ClassificationPrepared`.

    Raises
    ------
    DataError
        Naming the file, the column and the problem.
    """
    dc = cfg.data
    where = str(dc.path)
    ensure_data(dc.path, dc.generate, cfg.source)
    table = load_table(dc.path, date_format=dc.date_format, read=dc.read)
    frame = table.frame
    if dc.label_from is not None:
        if dc.target in frame.columns:
            raise DataError(
                f"{where}: data.target {dc.target!r} already exists; label_from would overwrite it"
            )
        try:
            keys = read_frame(dc.label_from.path, columns=[dc.label_from.key])
        except DataError as exc:
            raise DataError(f"{exc} (data.label_from of {cfg.source})") from exc
        keys = keys[dc.label_from.key]
        require_columns(frame, [dc.label_from.key], where, "label_from.key")
        frame[dc.target] = frame[dc.label_from.key].isin(set(keys.dropna())).astype(int)
    require_columns(frame, [dc.target], where, "target")
    require_columns(frame, dc.id_columns, where, "id")
    require_columns(frame, dc.drop, where, "drop")
    if dc.time:
        require_columns(frame, [dc.time], where, "time")
    labels = map_labels(frame[dc.target], dc.positive, dc.negative, where)
    if dc.id_columns:
        check_unique_ids(frame, dc.id_columns, where)
    if labels.open_rows:  # open deals: neither positive nor negative, left out
        frame = frame.iloc[labels.kept].reset_index(drop=True)
    y = pd.Series(labels.y, name=dc.target)
    kinds = table.schema.to_dict()
    notes = table.schema.notes
    excluded: dict[str, str] = {}
    features = []
    for col in frame.columns:
        if col == dc.target or col in dc.id_columns or col in dc.drop:
            continue
        if dc.label_from is not None and col == dc.label_from.key:
            excluded[col] = "label key"
        elif kinds.get(col) in ("id", "text"):
            excluded[col] = f"{kinds[col]} column"
        elif frame[col].isna().all():
            excluded[col] = "entirely missing"
        elif frame[col].nunique(dropna=False) == 1:
            excluded[col] = f"constant: every row is {scalar(frame[col].iloc[0])!r}"
        else:
            features.append(col)
    if not features:
        why = "; ".join(f"{c}: {r}" for c, r in excluded.items())
        raise DataError(
            f"{where}: no feature columns left after removing target, id and drop columns"
            + (f" (left out: {why})" if why else "")
        )
    train, test = _split(cfg, frame, y, where, notes)
    rows = class_rows(y.iloc[train].to_numpy(), y.iloc[test].to_numpy())
    for part in ("train", "test"):
        if min(rows[part].values()) == 0:
            there = ", ".join(f"{n:,} {w}" for w, n in rows[part].items())
            raise DataError(
                f"{where}: target column {dc.target!r} has one class only in the {part} part "
                f"of the split ({there} rows there; {labels.positive_rows:,} positive "
                f"({labels.describe(1)}) and {labels.negative_rows:,} negative in all); "
                "use more data or another split"
            )
    check_class_counts(labels, rows, cfg, where)
    warnings = small_data_warnings(labels, rows, cfg)
    guard = guard_features(frame, y, train, features, kinds, cfg, where)
    features = guard.features
    excluded.update(guard.dropped)
    X = feature_frame(frame, features)
    train_window = None
    if dc.time:
        ts = pd.to_datetime(frame[dc.time].iloc[train], errors="coerce")
        train_window = (f"{ts.min():%Y-%m-%d}", f"{ts.max():%Y-%m-%d}")
    # the predictions' keys: the row's position, and its id(s) as text where they fit
    ids = [c for c in dc.id_columns if c not in ("row", "label", "probability", "candidate")]
    keys = frame[ids].iloc[test].astype(str).reset_index(drop=True)
    info = ClassificationData(
        path=str(dc.path),
        sha256=table.sha256,
        rows=table.rows,
        excluded=excluded,
        positive_rate=round(float(y.mean()), 4),
        train_rows=len(train),
        test_rows=len(test),
        split=cfg.split.method,
        features=features,
        leakage=guard.record,
        labels=labels.record(),
        open_rows=labels.open_rows,
        open_values=labels.open_values,
        class_rows=rows,
        warnings=warnings,
    )
    label_line = labels.line()
    return ClassificationPrepared(
        info=info,
        X_train=X.iloc[train],
        X_test=X.iloc[test],
        y_train=y.iloc[train].to_numpy(),
        y_test=y.iloc[test].to_numpy(),
        test_keys=keys.assign(row=labels.kept[test].astype("int64")),
        train_window=train_window,
        notes=(*([label_line] if label_line else []), *warnings, *guard.lines),
    )


def _split(
    config: ClassificationExperiment,
    frame: pd.DataFrame,
    y: pd.Series,
    where: str,
    notes: dict[str, str],
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row positions: by time, or stratified/random with the split's seed."""
    sc = config.split
    n = len(frame)
    n_test = int(round(n * sc.test_size))
    if n_test < 2 or n - n_test < 2:
        raise DataError(f"{where}: {n} rows are too few to split with test_size={sc.test_size}")
    if sc.method == "time":
        ts = pd.to_datetime(frame[config.data.time], errors="coerce")
        if ts.isna().any():
            time = config.data.time
            note = notes.get(str(time), "")
            detail = f" ({note})" if "read as missing" in note else ""
            raise DataError(
                f"{where}: time column {time!r} has {int(ts.isna().sum())} missing or "
                f"unparseable values{detail}; the time split needs every date "
                "(data.date_format gives their format)"
            )
        order = np.argsort(ts.to_numpy(), kind="mergesort")
        return np.sort(order[: n - n_test]), np.sort(order[n - n_test :])
    from sklearn.model_selection import train_test_split

    strat = y if sc.method == "stratified" and y.value_counts().min() >= 2 else None
    train, test = train_test_split(
        np.arange(n), test_size=n_test, random_state=sc.seed, stratify=strat
    )
    return np.sort(train), np.sort(test)
