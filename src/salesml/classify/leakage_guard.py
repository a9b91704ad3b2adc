"""The leakage guard of a classification experiment: find, then warn, fail or drop.

:func:`guard_features` runs :func:`salesml.classify.leakage_scan.scan_leaks` (the
value checks of :mod:`salesml.classify.leakage`, then the quick-model check of
:mod:`salesml.classify.leakage_model`) on the training rows of the candidate
features, before anything is fitted, and applies the config's ``leakage`` block:

- ``on_flag: warn`` (default): one line per flag on screen; training goes on.
- ``on_flag: fail``: a :class:`~salesml.errors.DataError` listing the flags
  and how to proceed; nothing is trained or logged.
- ``on_flag: drop``: the flagged columns leave the features (listed under
  ``data.excluded`` in the summary).
- ``allow: [col, ...]``: flags on these columns are recorded as ``allowed``
  and change nothing.

The label's time (when a row is scored) is ``data.label_time``, else
``data.time`` when it holds dates. The guard's record (``data.leakage`` in
``summary.json``, ``leakage.json`` in MLflow) holds every flag with the
action taken (a flag from the model check also holds ``model``: the quick
model's ROC-AUC with and without the column) and, under ``model_check``, what
the model check measured in its first round, with the number of ``rounds``
(None when it did not run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.config import ClassificationExperiment
from salesml.classify.leakage_scan import scan_leaks
from salesml.errors import DataError
from salesml.io.data import require_columns

ACTIONS = {"warn": "warned", "fail": "failed", "drop": "dropped"}


@dataclass
class GuardResult:
    """What the guard decided: the features kept, the record for the summary,
    the columns it dropped (with why) and the lines to show on screen."""

    features: list[str]
    record: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def label_time_column(config: ClassificationExperiment) -> tuple[str | None, str]:
    """The label's time column and the config key it comes from."""
    if config.data.label_time is not None:
        return config.data.label_time, "data.label_time"
    return config.data.time, "data.time"


def _check_label_time(
    frame: pd.DataFrame, column: str, key: str, kinds: dict[str, str], where: str
) -> None:
    require_columns(frame, [column], where, key.removeprefix("data."))
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        example = values.dropna().head(1).tolist()
        raise DataError(
            f"{where}: {key} column {column!r} is not a date column (read as "
            f"{kinds.get(column, str(values.dtype))}, e.g. {example[0] if example else None!r}); "
            "name the column with the time each row is scored at, or set data.date_format"
        )
    if values.isna().mean() > 0.5:
        raise DataError(
            f"{where}: {key} column {column!r} is missing in {values.isna().mean():.0%} of rows"
        )


def _kinds_of(flags: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_column: dict[str, list[dict[str, Any]]] = {}
    for f in flags:
        by_column.setdefault(f["column"], []).append(f)
    return by_column


def _failure(where: str, active: list[dict[str, Any]]) -> DataError:
    by_column = _kinds_of(active)
    listed = "; ".join(
        f"{col!r} (" + ", ".join(f"{f['kind']}: {f['evidence']}" for f in fs) + ")"
        for col, fs in by_column.items()
    )
    many = len(by_column) > 1
    return DataError(
        f"{where}: leakage guard (leakage.on_flag: fail): {len(by_column)} "
        f"{'columns look like they leak' if many else 'column looks like it leaks'} the "
        f"outcome, so nothing was trained: {listed}. Remove them with data.drop, "
        "list a column known to be fine in leakage.allow, or set leakage.on_flag to warn or drop."
    )


def _lines(record: dict[str, Any]) -> list[str]:
    active = [f for f in record["flags"] if f["action"] != "allowed"]
    allowed = sorted({f["column"] for f in record["flags"] if f["action"] == "allowed"})
    tail = f"; allowed by leakage.allow: {', '.join(allowed)}" if allowed else ""
    checked = f"{record['columns_checked']} columns in {record['seconds']:.2f} s"
    model = record.get("model_check")
    if model:
        checked += f"; quick model ROC-AUC {model['roc_auc']:.2f} on {model['rows']:,} rows"
    if not active:
        return [f"leakage guard: no flags ({checked}{tail})"]
    lines = [
        f"leakage {'warning' if f['action'] == 'warned' else 'flag, dropped'}: "
        f"{f['column']} ({f['kind']}): {f['evidence']}"
        for f in active
    ]
    columns = sorted({f["column"] for f in active})
    if record["on_flag"] == "drop":
        verdict = f"dropped {', '.join(columns)} before training"
    else:
        noun = "column" if len(columns) == 1 else "columns"
        verdict = (
            f"{len(columns)} {noun} flagged, training goes on; fix: data.drop or leakage.allow"
        )
    return [*lines, f"leakage guard: {verdict} ({checked}{tail})"]


def guard_features(
    frame: pd.DataFrame,
    y: pd.Series,
    train: np.ndarray,
    features: list[str],
    kinds: dict[str, str],
    config: ClassificationExperiment,
    where: str,
) -> GuardResult:
    """Check the candidate features on the training rows and apply ``config.leakage``.

    Parameters
    ----------
    frame : DataFrame
        The whole table as loaded (target, features, time columns).
    y : Series
        The 0/1 target of every row.
    train : ndarray
        Positions of the training rows; only they are looked at.
    features : list of str
        The candidate features (id, text, dropped columns already left out).
    kinds : dict
        Column kinds from the table's schema.
    config : ClassificationExperiment
    where : str
        The data file, for error messages.

    Returns
    -------
    GuardResult

    Raises
    ------
    DataError
        With ``on_flag: fail`` and a flag not allowed; when ``leakage.allow`` or the
        label's time column is not in the data; when dropping leaves no feature.
    """
    lc = config.leakage
    require_columns(frame, lc.allow, where, "leakage.allow")
    label_time, key = label_time_column(config)
    if key == "data.time" and label_time is not None:
        # data.time may be a period number for a time split: then no date is judged by it
        if not pd.api.types.is_datetime64_any_dtype(frame[label_time]):
            label_time = None
    elif label_time is not None:
        _check_label_time(frame, label_time, key, kinds, where)
    target = "__salesml_target__"
    scan = frame.iloc[train][[*features, *([label_time] if label_time else [])]]
    scan = scan.loc[:, ~scan.columns.duplicated()].assign(**{target: y.iloc[train].to_numpy()})
    started = time.perf_counter()
    found = scan_leaks(
        scan,
        target,
        label_time,
        kinds,
        lc.auc_threshold,
        config.split.seed,
        columns=features,
        n_jobs=config.evaluation.n_jobs,
    )
    seconds = time.perf_counter() - started
    flags = [
        {
            **f.to_dict(),
            "action": "allowed" if f.column in map(str, lc.allow) else ACTIONS[lc.on_flag],
        }
        for f in found.flags
    ]
    record = {
        "on_flag": lc.on_flag,
        "auc_threshold": lc.auc_threshold,
        "label_time": label_time,
        "columns_checked": len(features),
        "seconds": round(seconds, 3),
        "flags": flags,
        "model_check": None
        if found.model is None
        else {**found.model.to_dict(), "rounds": len(found.rounds)},
    }
    active = [f for f in flags if f["action"] != "allowed"]
    if active and lc.on_flag == "fail":
        raise _failure(where, active)
    dropped: dict[str, str] = {}
    if lc.on_flag == "drop":
        for col, fs in _kinds_of(active).items():
            dropped[col] = "leakage: " + ", ".join(f["kind"] for f in fs)
        features = [c for c in features if str(c) not in dropped]
        if not features:
            raise DataError(
                f"{where}: the leakage guard dropped every feature ({', '.join(dropped)}); "
                "check the target and data.drop, or list a column in leakage.allow"
            )
    return GuardResult(features, record, dropped, _lines(record))
