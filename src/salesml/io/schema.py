"""Column kinds inferred from a table: numeric, categorical, datetime, boolean, id, text.

:func:`infer_schema` converts numeric-like text and date-like text and
returns a printable :class:`Schema`; :func:`salesml.io.data.load_table` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesml.io.timestamps import parse_dates

KINDS = ("numeric", "categorical", "datetime", "boolean", "id", "text")
_BOOL_WORDS = {"yes", "no", "true", "false", "y", "n", "t", "f", "0", "1"}
# A number as text; exponents are bounded (see salesml.io.data on pandas' parser).
NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"


def column_type(values: pd.Series, integer: str = "double") -> str:
    """A column's type in a model signature: boolean, ``integer`` (long or double), double,
    datetime or string."""
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return integer
    if pd.api.types.is_numeric_dtype(values):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    return "string"


@dataclass(frozen=True)
class ColumnInfo:
    """One column: inferred kind, pandas dtype, share missing, distinct values."""

    name: str
    kind: str
    dtype: str
    missing: float
    n_unique: int


@dataclass(frozen=True)
class Schema:
    """Inferred column kinds of a table; ``str(schema)`` prints a table."""

    columns: tuple[ColumnInfo, ...]
    notes: dict[str, str] = field(default_factory=dict)

    def kind(self, name: str) -> str:
        for col in self.columns:
            if col.name == name:
                return col.kind
        raise KeyError(name)

    def names(self, *kinds: str) -> list[str]:
        """Column names of the given kinds, in file order."""
        return [c.name for c in self.columns if c.kind in kinds]

    def to_dict(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.columns}

    def __str__(self) -> str:
        width = max([len(c.name) for c in self.columns] + [6])
        lines = [f"{'column':<{width}}  {'kind':<11}  {'dtype':<14}  missing  distinct  read as"]
        for c in self.columns:
            lines.append(
                f"{c.name:<{width}}  {c.kind:<11}  {c.dtype:<14}  {c.missing:7.1%}  {c.n_unique:8d}"
                f"  {self.notes.get(c.name, '')}".rstrip()
            )
        return "\n".join(lines)


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """``(codes, distinct, counts)``: each row's code (-1: missing), the distinct values
    as an object Series, and how many rows hold each. A CRM column repeats a few
    values, so the checks below look at each distinct value once."""
    codes, uniques = pd.factorize(values)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    return codes, distinct, np.bincount(codes[codes >= 0], minlength=len(distinct))


def _numeric_like(values: pd.Series) -> pd.Series | None:
    # Text that is numbers but for a few blanks (Telco's TotalCharges); see _NUMBER.
    codes, text, counts = _distinct(values)
    parts, numbers, others, present = [], [], 0, counts.sum()
    for start in range(0, len(text), 20_000):  # stop once too many rows are not numbers
        stripped = text.iloc[start : start + 20_000].astype(str).str.strip()
        number = stripped.str.fullmatch(NUMBER).to_numpy(dtype=bool)
        others += counts[start : start + 20_000][~number & stripped.ne("").to_numpy()].sum()
        if others > 0.02 * present:  # more than 2 % of the filled rows, whatever is blank
            return None
        parts.append(stripped)
        numbers.append(number)
    stripped = pd.concat(parts) if parts else text.astype(str)
    blank = stripped.eq("").to_numpy()
    is_number = np.concatenate(numbers) if numbers else np.zeros(0, dtype=bool)
    filled = counts[~blank].sum()
    if filled == 0 or counts[~blank & is_number].sum() / filled < 0.98:
        return None
    if stripped[~blank].str.match(r"[+-]?0\d").any():
        return None  # codes with leading zeros (zip codes, ids) stay text
    number = np.full(len(text) + 1, np.nan)  # the last: missing (code -1)
    number[:-1][is_number] = stripped[is_number].astype(float).to_numpy()
    return pd.Series(number[codes], index=values.index, dtype=float)


# Tried after ISO 8601 when no date_format is given: day first before month first
# (European CRM exports); a column where every day is 12 or less reads day first.
DATE_FORMATS = (
    "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y", "%m-%d-%Y",
    "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S",
)  # fmt: skip


def _datetime_like(
    values: pd.Series, date_format: str | None, where: str, name: str
) -> tuple[pd.Series, str, str | None] | None:
    """Dates, the format they were read with and a note on UTC offsets (None if none)."""
    nonnull = values.dropna().astype(str)
    if nonnull.empty:
        return None
    codes, distinct, counts = _distinct(nonnull)  # each distinct text measured once
    if np.median(np.repeat(distinct.str.len().to_numpy(), counts)) < 6:
        return None
    first = codes[:500]  # the first 500 values, as their distinct texts and counts
    seen = np.unique(first)
    sample = distinct.iloc[seen].reset_index(drop=True)
    weight = np.bincount(first)[seen]
    # ``date_format`` is for the non-ISO columns; ISO 8601 columns are still dates.
    formats = (date_format, "ISO8601") if date_format else ("ISO8601", *DATE_FORMATS)
    for fmt in formats:
        parsed = parse_dates(sample, fmt, where, name)[0].notna().to_numpy()
        if weight[parsed].sum() / len(first) >= 0.95:
            dates, note = parse_dates(values, fmt, where, name)
            return dates, fmt, note
    return None


def _note_lost(
    notes: dict[str, str], name: str, raw: pd.Series, converted: pd.Series, what: str
) -> None:
    """Note the values of ``raw`` that converting to ``what`` turned into missing ones."""
    lost = converted.isna() & raw.notna() & raw.astype(str).str.strip().ne("")
    if lost.any():
        first = int(lost.to_numpy().nonzero()[0][0])
        text = (
            f"{int(lost.sum())} value(s) not {what}, read as missing "
            f"(e.g. {raw.iloc[first]!r} in data row {first + 1})"
        )
        notes[name] = f"{notes[name]}; {text}" if name in notes else text


def _text_kind(text: pd.Series) -> str:
    """boolean, id, text or categorical, for a column of text (missing values dropped).

    Measured on the distinct values and their counts, as if on every row.
    """
    if text.empty:
        return "categorical"
    _, distinct, counts = _distinct(text)
    lowered = set(distinct.str.strip().str.lower().unique()[:3])
    mean_length = (distinct.str.len().to_numpy() * counts).sum() / len(text)
    spaced = counts[distinct.str.contains(" ").to_numpy(dtype=bool)].sum() / len(text)
    if len(distinct) == 2 and lowered <= _BOOL_WORDS:
        return "boolean"
    if len(distinct) >= 0.95 * len(text) and len(text) > 20:
        return "text" if mean_length > 30 and spaced > 0.5 else "id"
    if mean_length > 40 and spaced > 0.5:
        return "text"
    return "categorical"


def infer_schema(
    frame: pd.DataFrame, date_format: str | None = None, where: str = "data"
) -> tuple[pd.DataFrame, Schema]:
    """Infer each column's kind, converting numeric-like text and date-like text.

    Text columns whose non-blank values are all numbers become numeric (blanks
    become missing), except codes with leading zeros; ISO dates (or
    ``date_format``) become datetimes, those with UTC offsets read in one zone
    (:func:`salesml.io.timestamps.parse_dates`). The input frame is not
    modified; ``where`` (the file) is named in errors.

    Raises
    ------
    DataError
        For a date column mixing values with and without a UTC offset.

    Returns
    -------
    frame : DataFrame
        A converted copy.
    schema : Schema
    """
    out = frame.copy()
    infos = []
    notes: dict[str, str] = {}
    n = len(out)
    for name in out.columns:
        col = out[name]
        kind = "categorical"
        if pd.api.types.is_bool_dtype(col):
            kind = "boolean"
        elif pd.api.types.is_datetime64_any_dtype(col):
            kind = "datetime"
        elif pd.api.types.is_numeric_dtype(col):
            uniq = col.dropna().unique()
            if len(uniq) == 2 and set(np.asarray(uniq, dtype=float)) <= {0.0, 1.0}:
                kind = "boolean"
            elif (
                pd.api.types.is_integer_dtype(col)
                and col.is_unique
                and str(name).lower().endswith("id")
            ):
                kind = "id"
            else:
                kind = "numeric"
        else:
            as_num = _numeric_like(col)
            as_dt = (
                None if as_num is not None else _datetime_like(col, date_format, where, str(name))
            )
            if as_num is not None:
                out[name] = as_num
                kind = "numeric"
                _note_lost(notes, str(name), col, as_num, "numbers")
                col = as_num
            elif as_dt is not None:
                converted, fmt, offsets = as_dt
                out[name] = converted
                kind = "datetime"
                if fmt != "ISO8601":
                    notes[str(name)] = f"dates {fmt}"
                if offsets:
                    notes[str(name)] = (
                        f"{notes[str(name)]}; {offsets}" if name in notes else offsets
                    )
                _note_lost(notes, str(name), col, converted, "dates")
                col = converted
            else:
                kind = _text_kind(col.dropna().astype(str))
        infos.append(
            ColumnInfo(
                name=str(name),
                kind=kind,
                dtype=str(col.dtype),
                missing=float(col.isna().mean()) if n else 0.0,
                n_unique=int(col.nunique(dropna=True)),
            )
        )
    return out, Schema(tuple(infos), notes)
