"""The outcome of a classification run: which values of the target column count as 1, 0 or open.

A CRM export rarely holds 0/1. A lead table says ``yes``/``no``; an opportunity
pipeline says ``Won``, ``Lost``, ``Engaging``, ``Prospecting``. ``data.positive``
names the value(s) that count as 1 and ``data.negative`` those that count as 0;
with ``negative`` given, every other row is *open* (a deal not yet decided, or a
blank target) and is left out of training and evaluation, counted per value.
Without ``negative`` the column must be binary, as it always was: every row not
positive is 0.

:func:`map_labels` is a pure function of the column and the config's values;
values compare by :func:`~salesml.classify.config.label_key` (text exactly, or
numbers when both read as numbers). What it finds is recorded in the run's data
block (:class:`~salesml.experiment.results.ClassificationData`: ``labels``,
``open_rows``, ``open_values``, ``class_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.config import Label, as_labels, label_key
from salesml.errors import DataError
from salesml.io.data import scalar

# Distinct values named in a message before "and N more".
SHOWN_VALUES = 8
BLANK = "(blank)"


@dataclass(frozen=True)
class LabelMap:
    """A target column turned into 0/1 labels for the rows that have one.

    Attributes
    ----------
    target : str
        The column.
    y : ndarray of int
        1 or 0 for each labelled row, in file order.
    kept : ndarray of int
        The labelled rows' positions in the file.
    positive, negative : tuple
        The values counted as 1 and as 0, as the file holds them;
        ``negative_given`` says whether the config named the latter.
    open_values : dict
        Rows left out per value (text; blanks as ``(blank)``), most frequent first.
    """

    target: str
    y: np.ndarray
    kept: np.ndarray
    positive: tuple[Any, ...]
    negative: tuple[Any, ...]
    negative_given: bool
    open_values: dict[str, int]

    @property
    def positive_rows(self) -> int:
        return int(self.y.sum())

    @property
    def negative_rows(self) -> int:
        return int(len(self.y) - self.y.sum())

    @property
    def open_rows(self) -> int:
        return int(sum(self.open_values.values()))

    def describe(self, label: int) -> str:
        """``converted = yes`` or ``stage in Won, Closed Won``: the rows of class ``label``."""
        values = self.positive if label == 1 else self.negative
        shown = ", ".join(str(scalar(v)) for v in values)
        return f"{self.target} {'=' if len(values) == 1 else 'in'} {shown}"

    def record(self) -> dict[str, Any]:
        """The summary's ``labels``: the column, the values of each class and their rows."""
        return {
            "target": self.target,
            "positive": [scalar(v) for v in self.positive],
            "negative": [scalar(v) for v in self.negative] if self.negative_given else None,
            "positive_rows": self.positive_rows,
            "negative_rows": self.negative_rows,
        }

    def line(self) -> str | None:
        """One line for the screen when rows were left out or several values make a class."""
        if not self.negative_given and len(self.positive) == 1:
            return None
        head = (
            f"labels: {self.positive_rows:,} positive ({self.describe(1)}), "
            f"{self.negative_rows:,} negative ({self.describe(0)})"
        )
        if not self.open_rows:
            return head + "; no open rows"
        return (
            f"{head}; {self.open_rows:,} open rows left out of training and evaluation "
            f"({present(self.open_values)})"
        )


def value_counts(values: pd.Series) -> dict[str, int]:
    """Rows per value as text (blanks as ``(blank)``), most frequent first, ties in file order."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    counts = np.bincount(codes, minlength=len(uniques))
    order = sorted(range(len(uniques)), key=lambda i: -counts[i])
    return {_text(uniques[i]): int(counts[i]) for i in order}


def present(counts: dict[str, int], limit: int = SHOWN_VALUES) -> str:
    """``'Lost' (412), 'Won' (120) and 3 more``: the first ``limit`` of ``counts``."""
    items = [f"{v!r} ({n:,})" if v != BLANK else f"{v} ({n:,})" for v, n in counts.items()]
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def _text(value: Any) -> str:
    return BLANK if pd.isna(value) else str(scalar(value))


def map_labels(
    values: pd.Series,
    positive: Label | list[Label] | None,
    negative: Label | list[Label] | None,
    where: str,
) -> LabelMap:
    """Map a target column to 1 (``positive``), 0 (``negative``) and open rows.

    Parameters
    ----------
    values : Series
        The target column, named.
    positive, negative : value, list of values or None
        As in the config (``data.positive``, ``data.negative``).
    where : str
        The file, for messages.

    Raises
    ------
    DataError
        Naming the file, the column and the value: a configured value that never
        occurs (listing the values present, most frequent first); without
        ``negative``, missing values, one class only or more than one value
        besides the positive ones.
    """
    name = values.name
    codes, uniques = pd.factorize(values)  # blanks: code -1
    keys = [label_key(u) for u in uniques]
    pos = as_labels(positive)
    neg = as_labels(negative)
    if neg is None:
        return _binary(values, pos, codes, uniques, keys, where)
    counts = value_counts(values)
    is_pos = _matching(pos or (), keys, "data.positive", name, counts, uniques, where)
    is_neg = _matching(neg, keys, "data.negative", name, counts, uniques, where)
    row_pos = np.append(is_pos, False)[codes]  # code -1 (blank) indexes the appended False
    row_neg = np.append(is_neg, False)[codes]
    kept = np.flatnonzero(row_pos | row_neg)
    open_counts = value_counts(values[~(row_pos | row_neg)])
    return LabelMap(
        target=str(name),
        y=row_pos[kept].astype(int),
        kept=kept,
        positive=tuple(uniques[is_pos]),
        negative=tuple(uniques[is_neg]),
        negative_given=True,
        open_values=open_counts,
    )


def _matching(
    labels: tuple[Label, ...],
    keys: list[str | float],
    key: str,
    column: Any,
    counts: dict[str, int],
    uniques: Any,
    where: str,
) -> np.ndarray:
    """Which distinct values of the column the configured ``labels`` name; each must occur."""
    hits = np.zeros(len(keys), dtype=bool)
    for label in labels:
        found = np.array([k == label_key(label) for k in keys], dtype=bool)
        if not found.any():
            raise DataError(_never_occurs(label, key, column, counts, where))
        hits |= found
    return hits


def _never_occurs(label: Label, key: str, column: Any, counts: dict[str, int], where: str) -> str:
    role = key.removeprefix("data.")
    near = [v for v in counts if v != BLANK and v.strip().lower() == str(label).strip().lower()]
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return (
        f"{where}: {role} label {label!r} never occurs in target column {column!r} "
        f"({key}; the column holds, most frequent first: {present(counts)}){hint}"
    )


def _binary(
    values: pd.Series,
    pos: tuple[Label, ...] | None,
    codes: np.ndarray,
    uniques: Any,
    keys: list[str | float],
    where: str,
) -> LabelMap:
    """Today's rule without ``data.negative``: every row not positive is 0, the column binary."""
    name = values.name
    missing = int((codes == -1).sum())
    if missing:
        first = int(np.flatnonzero(codes == -1)[0])
        raise DataError(
            f"{where}: target column {name!r} has {missing} missing values (e.g. data row "
            f"{first + 1}); drop or fill those rows first, or name the values that count as "
            "0 in data.negative to leave every other row out"
        )
    counts = value_counts(values)
    if len(uniques) == 1:
        raise DataError(
            f"{where}: target column {name!r} has one class only ({scalar(uniques[0])!r} in all "
            f"{len(values)} rows); a classification target needs both outcomes"
        )
    if (pos is None or len(pos) == 1) and len(uniques) > 2:
        raise DataError(_not_binary(name, counts, where))
    if pos is None:
        if not set(keys) <= {0.0, 1.0}:
            raise DataError(
                f"{where}: target column {name!r} has values {sorted(map(str, counts))}; "
                "set data.positive to the value that counts as 1"
            )
        pos = (1,)
    is_pos = _matching(pos, keys, "data.positive", name, counts, uniques, where)
    if is_pos.sum() == len(uniques) or len(uniques) - is_pos.sum() > 1:
        raise DataError(_not_binary(name, counts, where, uniques[is_pos]))
    row_pos = is_pos[codes]
    return LabelMap(
        target=str(name),
        y=row_pos.astype(int),
        kept=np.arange(len(values)),
        positive=tuple(uniques[is_pos]),
        negative=tuple(uniques[~is_pos]),
        negative_given=False,
        open_values={},
    )


def _not_binary(column: Any, counts: dict[str, int], where: str, positives: Any = None) -> str:
    """More than one value would count as 0 (or none would): name data.negative."""
    if positives is not None and len(positives) == len(counts):
        detail = "every value is named in data.positive, so no row would count as 0"
    else:
        detail = "a classification target must be binary"
    return (
        f"{where}: target column {column!r} has {len(counts)} distinct values "
        f"({present(counts)}); {detail}; name the value(s) that count as 1 in data.positive "
        "and those that count as 0 in data.negative (rows with any other value, such as "
        "open deals, are then left out)"
    )
