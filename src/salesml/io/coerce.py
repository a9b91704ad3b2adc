"""Columns coerced to a model's trained types, with errors a user can act on.

One coercion serves every way rows reach a salesml model: ``salesml score``
(pandas and Spark), the exported pyfunc's own ``predict`` (so
``mlflow.pyfunc.load_model(uri).predict(pd.read_csv(...))`` works), REST
serving and Spark UDFs.

- a required column that is missing is an error naming it and the model;
- extra columns are ignored;
- values are coerced to the trained type: integers where decimals were trained
  (and back), numbers written as text, ``yes``/``no`` and 0/1 booleans, dates as
  text (ISO 8601 or the day-first/month-first formats training reads), numbers
  in a text column; a value that cannot be coerced is an error naming the
  column, the row and the value;
- non-finite numbers (``inf``, ``-inf``, ``Infinity``) are refused the same way:
  no model was trained on them;
- missing values pass through: the model handles them as it did in training.

Types are MLflow's names (``double``, ``long``, ``boolean``, ``datetime``,
``string``); an exported salesml model keeps its inputs' types in its model card
as :data:`INPUT_TYPES`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import numpy as np
import pandas as pd

from salesml.errors import DataError

NUMERIC = ("double", "float", "long", "integer")
INPUT_TYPES = "input_types"  # the model card fact holding the trained input types
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
# frames conform_columns returned, by id, with the inputs they were conformed to: a
# model's own predict, handed such a frame by salesml score, need not coerce it again
_CONFORMED: dict[int, tuple[tuple[str, str], ...]] = {}


def _first_bad(values: pd.Series, bad: pd.Series, offset: int) -> str:
    pos = int(np.asarray(bad).nonzero()[0][0])
    value = values.iloc[pos]
    value = value.item() if isinstance(value, np.generic) else value  # inf, not np.float64(inf)
    return f"{value!r} in data row {offset + pos + 1}"


def _blank(values: pd.Series) -> pd.Series:
    """Missing values, and text that is only spaces."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        return values.isna() | values.astype(str).str.strip().eq("")
    return values.isna()


def conform_columns(
    frame: pd.DataFrame,
    inputs: Iterable[tuple[str, str]],
    where: str,
    model: str | None = None,
    offset: int = 0,
    optional: Iterable[str] = (),
) -> pd.DataFrame:
    """Columns ``inputs`` (``(name, type)`` pairs) of ``frame``, coerced to their types.

    Types are MLflow's: ``double``/``float``, ``long``/``integer``, ``boolean``,
    ``datetime``, ``string``; ``any`` passes the column through. Columns in
    ``optional`` may be missing (they are left out of the answer). A frame this
    function returned comes back as it is when asked again for the same inputs
    (``salesml score`` conforms a chunk, then the model's ``predict`` would again):
    change such a frame only through a copy.

    Parameters
    ----------
    where : str
        Where the rows come from (a file, ``model input``), for messages.
    model : str, optional
        The model's URI, for messages.
    offset : int
        Rows before ``frame`` in its file, so messages give the row in the file.

    Raises
    ------
    DataError
        One paragraph naming ``where``, the model, the column and (for a bad
        value) the value and its data row.
    """
    inputs = [(str(name), str(kind)) for name, kind in inputs]
    if _CONFORMED.get(id(frame)) == tuple(inputs):
        return frame
    skip = set(optional)
    names = [name for name, _ in inputs]
    missing = [c for c in names if c not in frame.columns and c not in skip]
    by = f" by model {model}" if model else " by the model"
    if missing:
        raise DataError(
            f"{where}: column(s) {', '.join(map(repr, missing))} required{by} "
            f"are missing; it needs {', '.join(names)}"
        )
    label = f" for model {model}" if model else ""
    out: dict[str, pd.Series] = {}
    for name, kind in inputs:
        if name not in frame.columns:
            continue
        values = frame[name]
        if isinstance(values, pd.DataFrame):
            raise DataError(f"{where}: column {name!r} appears more than once")
        try:
            out[name] = _coerce(values, kind, offset, where, str(name))
        except _Refused as exc:
            raise DataError(
                f"{where}: column {name!r} must {exc.need}{label} (got {exc.got}){exc.hint}"
            ) from None
    conformed = pd.DataFrame(out, index=frame.index)
    _CONFORMED[id(conformed)] = tuple(inputs)
    weakref.finalize(conformed, _CONFORMED.pop, id(conformed), None)
    return conformed


class _Refused(Exception):
    """A column's value that cannot be coerced: what the column needs and what it got."""

    def __init__(self, need: str, got: str, hint: str = "") -> None:
        super().__init__(need)
        self.need, self.got, self.hint = need, got, hint


def _coerce(values: pd.Series, kind: str, offset: int, where: str, name: str) -> pd.Series:
    """``values`` as type ``kind``; raises :class:`_Refused` for a value it cannot be."""
    if kind in NUMERIC:
        return _numbers(values, kind, offset, where, name)
    if kind == "boolean":
        return _booleans(values, offset)
    if kind == "datetime":
        return _dates(values, offset, where, name)
    if kind == "string":
        return _texts(values)
    return values  # "any" and types salesml does not write: the model takes them as they are


def _numbers(values: pd.Series, kind: str, offset: int, where: str, name: str) -> pd.Series:
    blank = _blank(values)
    if pd.api.types.is_bool_dtype(values):
        num = values.astype(float)
    else:
        num = pd.to_numeric(values.where(~blank), errors="coerce")
    bad = num.isna().to_numpy() & ~blank.to_numpy()
    if bad.any() and pd.api.types.infer_dtype(values, skipna=True) == "string":
        # written as training reads them: 1,234.50, 1.234,5, EUR 120, 12.5 % (as 0.125)
        from salesml.io.numbers import read_numbers

        try:
            read, _ = read_numbers(pd.DataFrame({name: values.where(~blank)}), where)
        except DataError:  # ambiguous alone (1,200: which decimal mark?): refused below
            read = pd.DataFrame({name: num})
        num = pd.to_numeric(read[name], errors="coerce")
        bad = num.isna().to_numpy() & ~blank.to_numpy()
    if bad.any():
        raise _Refused("be numeric", _first_bad(values, bad, offset))
    num = num.astype(float)
    infinite = np.isinf(num.to_numpy())
    if infinite.any():
        raise _Refused(
            "hold finite numbers",
            _first_bad(values, infinite, offset),
            "; leave the value blank if it is unknown",
        )
    if kind in ("long", "integer"):
        fraction = num.notna() & (num % 1 != 0)
        if blank.any() or fraction.any():
            raise _Refused("hold whole numbers", _first_bad(values, blank | fraction, offset))
        return num.astype("int64")
    return num


def _booleans(values: pd.Series, offset: int) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values
    blank = _blank(values)
    text = values.astype(str).str.strip().str.lower()
    bad = ~(text.isin(_TRUE) | text.isin(_FALSE)) & ~blank
    if bad.any():
        raise _Refused("be true/false", _first_bad(values, bad, offset))
    flags = text.isin(_TRUE)
    return flags if not blank.any() else flags.astype(object).where(~blank, None)


def _dates(values: pd.Series, offset: int, where: str, name: str) -> pd.Series:
    """Dates as datetimes, read as training reads them: ISO 8601 text or one of the
    formats training reads, UTC offsets by :func:`salesml.io.timestamps.parse_dates`."""
    from salesml.io.schema import DATE_FORMATS
    from salesml.io.timestamps import naive, parse_dates

    if pd.api.types.is_datetime64_any_dtype(values):
        return naive(values)
    blank = _blank(values)
    given = values.where(~blank)
    dates, _ = parse_dates(given, "ISO8601", where, name)
    bad = dates.isna() & ~blank
    if bad.any() and pd.api.types.is_object_dtype(values):
        for fmt in DATE_FORMATS:  # the whole column in one format, as at training
            other, _ = parse_dates(given, fmt, where, name)
            if not (other.isna() & ~blank).any():
                return other
    if bad.any():
        raise _Refused("hold dates", _first_bad(values, bad, offset))
    return dates


def _texts(values: pd.Series) -> pd.Series:
    """Text, with numbers written as their text (``3``, not ``3.0``) and missing as None."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # each category converted once
        categories = _texts(pd.Series(values.cat.categories)).to_numpy()
        codes = values.cat.codes.to_numpy()
        text = np.append(categories, None).astype(object)[codes]  # code -1: missing
        return pd.Series(text, index=values.index, name=values.name)
    present = values.notna()
    if pd.api.types.is_float_dtype(values):
        whole = present & (values % 1 == 0) & (values.abs() < 1e15)
        ints = values.where(whole, 0).astype("int64").astype(str)
        text = values.astype(str).where(~whole, ints)
    elif pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values
    else:
        text = values.map(lambda v: v if isinstance(v, str) else str(v))
    return text.astype(object).where(present, None)
