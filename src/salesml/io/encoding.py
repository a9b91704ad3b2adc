"""Model-ready columns from a raw frame: the encoder every wing's models start with.

:class:`FrameEncoder` fixes the columns' types (numbers as floats, dates as calendar
parts, categories frozen at fit time with values unseen in train pooled as
``__other__``); :func:`encoding_steps` adds what an estimator of each kind takes
(pandas categoricals, one-hot with scaled numbers, or ordinal codes).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

MISSING = "__missing__"


def _safe_name(name: str, taken: set[str], suffixes: tuple[str, ...] = ("",)) -> str:
    """An ASCII-safe name for ``name`` such that no ``name + suffix`` is taken yet."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", str(name)).strip("_") or "col"
    out, i = base, 1
    while any(out + s in taken for s in suffixes):
        i += 1
        out = f"{base}_{i}"
    taken.update(out + s for s in suffixes)
    return out


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Turn a raw frame into model-ready columns with stable types.

    Numeric and boolean columns become floats; datetime columns become month,
    day of week and day of month; other columns become categories fixed at fit
    time (the ``max_categories`` most frequent, the rest pooled as
    ``__other__``, as are values unseen in train). Columns entirely
    missing in train are dropped (listed in ``dropped_``). Output names are
    ASCII-safe, so column names with spaces or accents work with every model.

    Parameters
    ----------
    categorical : {"category", "string"}
        ``"category"`` keeps pandas categoricals (native boosting support);
        ``"string"`` fills missing with ``__missing__`` for one-hot encoding.
    max_categories : int
        Most frequent levels kept per categorical column.
    """

    def __init__(self, categorical: str = "category", max_categories: int = 50) -> None:
        self.categorical = categorical
        self.max_categories = max_categories

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameEncoder:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("FrameEncoder needs a pandas DataFrame")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.dropped_ = [c for c in X.columns if X[c].isna().all()]
        self.kinds_: dict[str, str] = {}
        self.levels_: dict[str, list[str]] = {}
        for col in X.columns:
            if col in self.dropped_:
                continue
            values = X[col]
            if pd.api.types.is_datetime64_any_dtype(values):
                self.kinds_[col] = "datetime"
            elif pd.api.types.is_numeric_dtype(values):
                self.kinds_[col] = "numeric"
            else:
                self.kinds_[col] = "categorical"
                counts = values.dropna().astype(str).value_counts()
                self.levels_[col] = list(counts.index[: self.max_categories]) + ["__other__"]
        taken: set[str] = set()
        # A datetime column's outputs (name__month, ...) must not collide with other columns.
        date_suffixes = ("", "__month", "__dow", "__dom")
        self.names_ = {
            col: _safe_name(col, taken, date_suffixes if kind == "datetime" else ("",))
            for col, kind in self.kinds_.items()
        }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "kinds_")
        missing = [c for c in self.kinds_ if c not in X.columns]
        if missing:
            raise ValueError(f"columns missing at scoring time: {', '.join(map(str, missing))}")
        out: dict[str, Any] = {}
        for col, kind in self.kinds_.items():
            name, values = self.names_[col], X[col]
            if kind == "numeric":
                out[name] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
            elif kind == "datetime":
                dated = pd.api.types.is_datetime64_any_dtype(values)  # no parse: 10x faster
                ds = values if dated else pd.to_datetime(values, errors="coerce")
                out[f"{name}__month"] = ds.dt.month.astype(float).to_numpy()
                out[f"{name}__dow"] = ds.dt.dayofweek.astype(float).to_numpy()
                out[f"{name}__dom"] = ds.dt.day.astype(float).to_numpy()
            else:
                out[name] = self._categories(values, self.levels_[col])
        return pd.DataFrame(out, index=X.index)

    def _categories(self, values: pd.Series, levels: list[str]) -> Any:
        # Levels are the text of the train values; object columns may hold non-strings
        # (a True/False column with blanks reads as Python bools), so compare as text.
        # Columns of text already (the usual case) skip the conversion: 3x faster.
        if not _is_text(values):
            values = values.astype(str).where(values.notna(), None)
        codes = pd.Categorical(values, categories=levels[:-1]).codes.copy()
        unknown = np.flatnonzero(codes == -1)  # missing, or unseen -> __other__
        codes[unknown[pd.notna(values.to_numpy()[unknown])]] = len(levels) - 1
        if self.categorical == "string":
            return np.asarray([*levels, MISSING], dtype=object)[codes]  # code -1 -> MISSING
        return pd.Categorical.from_codes(codes, categories=levels)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "names_")
        names = []
        for col, kind in self.kinds_.items():
            n = self.names_[col]
            names += [f"{n}__month", f"{n}__dow", f"{n}__dom"] if kind == "datetime" else [n]
        return np.asarray(names, dtype=object)


def _is_text(values: pd.Series) -> bool:
    """Whether every non-missing value of ``values`` is a ``str`` (object or categorical)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(values.cat.categories) in ("string", "empty")
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string",
        "empty",
    )


def encoding_steps(encoding: str) -> list[tuple[str, Any]]:
    """The steps that turn the raw frame into what an estimator of ``encoding`` takes."""
    if encoding == "native":  # pandas categoricals: LightGBM, HistGradientBoosting
        return [("encode", FrameEncoder(categorical="category"))]
    if encoding == "onehot":  # imputed, scaled numbers and one-hot categories: linear models
        numeric = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        )
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5)
        prep = ColumnTransformer(
            [
                ("num", numeric, make_column_selector(dtype_include="number")),
                ("cat", onehot, make_column_selector(dtype_exclude="number")),
            ],
            sparse_threshold=0.0,
        )
        return [("encode", FrameEncoder(categorical="string")), ("prep", prep)]
    if encoding == "ordinal":  # integer codes, numbers as they are (NaN kept): tree ensembles
        ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        prep = ColumnTransformer(
            [
                ("num", "passthrough", make_column_selector(dtype_include="number")),
                ("cat", ordinal, make_column_selector(dtype_exclude="number")),
            ],
            sparse_threshold=0.0,
        )
        return [("encode", FrameEncoder(categorical="string")), ("prep", prep)]
    raise ValueError(f"unknown encoding {encoding!r}; use native, onehot or ordinal")


def output_sources(pipeline: Any) -> list[str] | None:
    """The raw column behind each column a fitted pipeline's encoding steps output.

    For a pipeline made of :func:`encoding_steps` (a :class:`FrameEncoder` named
    ``encode``, optionally the ``prep`` column transformer) and an estimator: one raw
    column name per column of ``pipeline[:-1].transform(X)``, in order (a date's three
    calendar parts, a number's missing indicator and a category's one-hot columns all
    name their raw column). These steps encode each row on its own, so shuffling a raw
    column's values shuffles its output columns alike. None for any other pipeline.
    """
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2 or not isinstance(steps[0][1], FrameEncoder):
        return None
    encoder, names = steps[0][1], None
    if len(steps) == 2:
        names = list(encoder.get_feature_names_out())
    elif len(steps) == 3 and steps[1][0] == "prep" and isinstance(steps[1][1], ColumnTransformer):
        names = [n.split("__", 1)[1] for n in steps[1][1].get_feature_names_out()]
    if names is None:
        return None
    safe = {v: k for k, v in encoder.names_.items()}
    out = []
    for name in names:
        base = name.removeprefix("missingindicator_")
        for suffix in ("__month", "__dow", "__dom"):
            if base.endswith(suffix) and base.removesuffix(suffix) in safe:
                base = base.removesuffix(suffix)
        if base not in safe:  # one-hot output: "<column>_<value>", longest column first
            base = max((s for s in safe if base.startswith(f"{s}_")), key=len)
        out.append(safe[base])
    return out
