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


def _numeric_like(values: pd.Series) -> pd.Series | None:
    # Text that is numbers but for a few blanks (Telco's TotalCharges); see _NUMBER.
    stripped = values.astype(str).str.strip()
    blank = stripped.eq("") | values.isna()
    is_number = stripped.str.fullmatch(NUMBER)
    if blank.all() or is_number[~blank].mean() < 0.98:
        return None
    if stripped[~blank].str.match(r"[+-]?0\d").any():
        return None  # codes with leading zeros (zip codes, ids) stay text
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[is_number] = stripped[is_number].astype(float)
    return out


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
    if nonnull.empty or nonnull.str.len().median() < 6:
        return None
    sample = nonnull.iloc[:500]
    # ``date_format`` is for the non-ISO columns; ISO 8601 columns are still dates.
    formats = (date_format, "ISO8601") if date_format else ("ISO8601", *DATE_FORMATS)
    for fmt in formats:
        if parse_dates(sample, fmt, where, name)[0].notna().mean() >= 0.95:
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
                text = col.dropna().astype(str)
                lowered = set(text.str.strip().str.lower().unique()[:3])
                nunique = text.nunique()
                if nunique == 2 and lowered <= _BOOL_WORDS:
                    kind = "boolean"
                elif nunique >= 0.95 * max(len(text), 1) and len(text) > 20:
                    long_text = text.str.len().mean() > 30 and text.str.contains(" ").mean() > 0.5
                    kind = "text" if long_text else "id"
                elif text.str.len().mean() > 40 and text.str.contains(" ").mean() > 0.5:
                    kind = "text"
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
