"""The pieces every leakage check shares: a flag and a column factorised once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.leakage_model import ColumnLift


@dataclass(frozen=True)
class LeakFlag:
    """One suspicion: the ``column``, its ``kind`` (see :data:`KINDS`), the measured
    ``value`` (ROC-AUC, share of rows, ...) and the ``evidence`` in words."""

    column: str
    kind: str
    value: float
    evidence: str
    model: ColumnLift | None = None

    def to_dict(self) -> dict[str, Any]:
        """The flag for the record; ``model`` (the quick model's figures) only when set."""
        out = asdict(self)
        out.pop("model")
        if self.model is not None:
            out["model"] = {
                "auc_without": round(self.model.auc_without, 4),
                "auc_with": round(self.model.auc_with, 4),
                "lift": round(self.model.lift, 4),
                "error_share": round(self.model.error_share, 4),
            }
        return out


@dataclass
class Column:
    """A column factorised once: value codes (missing is the last code), the positives and
    rows per code, the distinct values and, for numbers and dates, their numeric values."""

    name: str
    codes: np.ndarray
    uniques: Any
    size: np.ndarray
    pos: np.ndarray
    number: np.ndarray | None
    is_date: bool = False

    @classmethod
    def of(cls, values: pd.Series, y: np.ndarray) -> Column:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        k = len(uniques)
        codes = np.where(codes < 0, k, codes)
        size = np.bincount(codes, minlength=k + 1)
        pos = np.bincount(codes, weights=y, minlength=k + 1)
        number = None
        is_date = pd.api.types.is_datetime64_any_dtype(values)
        if is_date:
            number = np.asarray(uniques.asi8, dtype=float)
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            number = np.asarray(uniques, dtype=float)
        return cls(str(values.name), codes, uniques, size, pos, number, is_date)

    @property
    def missing(self) -> int:
        return int(self.size[-1])

    def label(self, code: int) -> str:
        if code == len(self.uniques):
            return "(missing)"
        value = self.uniques[code]
        if isinstance(value, pd.Timestamp):
            return repr(str(value))
        return repr(value.item() if hasattr(value, "item") else value)
