"""Load tables, infer column kinds, validate targets; write tables atomically.

:func:`load_table` reads a CSV or Parquet file without ever modifying it and
returns a :class:`Table`: the frame, a printable :class:`Schema` of inferred
column kinds (numeric, categorical, datetime, boolean, id, text) and the
file's sha256 fingerprint.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salesml.errors import DataError

KINDS = ("numeric", "categorical", "datetime", "boolean", "id", "text")
_BOOL_WORDS = {"yes", "no", "true", "false", "y", "n", "t", "f", "0", "1"}


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
        lines = [f"{'column':<{width}}  {'kind':<11}  {'dtype':<14}  missing  distinct"]
        for c in self.columns:
            lines.append(
                f"{c.name:<{width}}  {c.kind:<11}  {c.dtype:<14}  {c.missing:7.1%}  {c.n_unique:8d}"
            )
        return "\n".join(lines)


@dataclass
class Table:
    """A loaded data file: ``frame``, its ``schema``, ``path`` and ``sha256``."""

    frame: pd.DataFrame
    schema: Schema
    path: Path | None = None
    sha256: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.frame)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_frame(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix) into a DataFrame, never modifying it.

    Raises
    ------
    DataError
        If the file is missing, has another suffix, is empty or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        # Outside the try: DataError is a ValueError, which is re-wrapped below.
        raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    try:
        if suffix == ".csv" and _has_huge_exponent(path):
            frame = _typed_columns(pd.read_csv(path, usecols=columns, dtype=str))
        elif suffix == ".csv":
            frame = pd.read_csv(path, usecols=columns, low_memory=False)
        else:
            frame = pd.read_parquet(path, columns=columns)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: cannot be parsed ({exc})") from exc
    except ValueError as exc:  # usecols not found, corrupt parquet
        raise DataError(f"{path}: {exc}") from exc
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"{path}: the file has no data rows")
    return frame


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temp file beside ``path``, then rename it into place.

    Readers never see half a file, and a failing write leaves any existing
    ``path`` untouched. The result gets the usual umask-based permissions.

    Raises
    ------
    DataError
        If the folder cannot be created or written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # e.g. a parent "folder" that is a file, or no permission
        raise DataError(f"{path}: cannot write there ({exc})") from exc
    os.close(fd)
    try:
        # mkstemp creates the file 0600; give the result the usual umask-based mode.
        os.chmod(tmp, 0o666 & ~_umask())
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame to CSV or Parquet by suffix, atomically (see :func:`atomic_write`).

    Raises
    ------
    DataError
        If the suffix is not supported or the folder cannot be created or written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise DataError(f"{path}: unsupported output type {suffix!r}; use .csv or .parquet")
    if suffix == ".csv":
        return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


# Exponents are bounded: pandas < 3 crashes the interpreter when its number
# parser meets hash-like text such as "401013266745e5661589292315434968"
# (seen on the Olist mql_id column), so only text matching these patterns is
# ever handed to it.
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"
_INTEGER = r"[+-]?\d{1,18}"


_HUGE_EXPONENT = re.compile(rb"\d[eE][+-]?\d{4}")


def _has_huge_exponent(path: Path, chunk: int = 1 << 22) -> bool:
    """Whether the file holds text like ``12e4567`` that pandas' CSV parser crashes on."""
    tail = b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            if _HUGE_EXPONENT.search(tail + block):
                return True
            tail = block[-8:]
    return False


def _typed_column(values: pd.Series) -> pd.Series:
    nonnull = values.dropna()
    if nonnull.empty:
        return values.astype(float)
    if nonnull.str.fullmatch(_INTEGER).all():
        return pd.to_numeric(values)
    if nonnull.str.fullmatch(_NUMBER).all():
        return pd.to_numeric(values).astype(float)
    if set(nonnull.unique()) <= {"True", "False"}:
        flags = values.map({"True": True, "False": False})
        return flags.astype(bool) if len(nonnull) == len(values) else flags
    return values


def _typed_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Type a CSV read as text: integers, floats and booleans as pandas would."""
    return frame.apply(_typed_column) if len(frame) else frame


def _numeric_like(values: pd.Series) -> pd.Series | None:
    # Text that is numbers but for a few blanks (Telco's TotalCharges); see _NUMBER.
    stripped = values.astype(str).str.strip()
    blank = stripped.eq("") | values.isna()
    is_number = stripped.str.fullmatch(_NUMBER)
    if blank.all() or is_number[~blank].mean() < 0.98:
        return None
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[is_number] = stripped[is_number].astype(float)
    return out


def _datetime_like(values: pd.Series, date_format: str | None) -> pd.Series | None:
    nonnull = values.dropna().astype(str)
    if nonnull.empty or nonnull.str.len().median() < 6:
        return None
    sample = nonnull.iloc[:500]
    # ``date_format`` is for the non-ISO columns; ISO 8601 columns are still dates.
    for fmt in (date_format, "ISO8601") if date_format else ("ISO8601",):
        if pd.to_datetime(sample, format=fmt, errors="coerce").notna().mean() >= 0.95:
            return pd.to_datetime(values, format=fmt, errors="coerce")
    return None


def infer_schema(
    frame: pd.DataFrame, date_format: str | None = None
) -> tuple[pd.DataFrame, Schema]:
    """Infer each column's kind, converting numeric-like text and date-like text.

    Text columns whose non-blank values are all numbers become numeric (blanks
    become missing); ISO dates (or ``date_format``) become datetimes. The input
    frame is not modified.

    Returns
    -------
    frame : DataFrame
        A converted copy.
    schema : Schema
    """
    out = frame.copy()
    infos = []
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
            as_dt = None if as_num is not None else _datetime_like(col, date_format)
            if as_num is not None:
                out[name] = col = as_num
                kind = "numeric"
            elif as_dt is not None:
                out[name] = col = as_dt
                kind = "datetime"
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
    return out, Schema(tuple(infos))


def load_table(path: str | Path, date_format: str | None = None) -> Table:
    """Load a CSV or Parquet file with inferred column kinds.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.parquet``. The file is only read.
    date_format : str, optional
        strftime format of date columns that are not ISO 8601 (e.g. ``%d-%m-%Y``).

    Returns
    -------
    Table
        ``frame`` (numeric-like text and dates converted), ``schema``, ``sha256``.
    """
    frame = read_frame(path)
    frame, schema = infer_schema(frame, date_format)
    return Table(frame=frame, schema=schema, path=Path(path), sha256=file_sha256(path))


def require_columns(frame: pd.DataFrame, columns: list[str], where: str, role: str) -> None:
    """Raise a DataError naming every missing column, the role and the file."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:30]))
        raise DataError(
            f"{where}: {role} column(s) {', '.join(map(repr, missing))} not in the data; "
            f"available columns: {shown}"
        )


def binary_target(values: pd.Series, positive: object, where: str) -> pd.Series:
    """Map a two-valued target column to 0/1 with ``positive`` as 1.

    ``positive`` may be omitted when the values are already 0/1 or booleans.
    Missing target values are an error.
    """
    name = values.name
    if values.isna().any():
        raise DataError(
            f"{where}: target column {name!r} has {int(values.isna().sum())} missing values; "
            "drop or fill those rows first"
        )
    distinct = pd.unique(values)
    if len(distinct) > 2:
        shown = ", ".join(map(repr, list(distinct)[:6]))
        raise DataError(
            f"{where}: target column {name!r} has {len(distinct)} distinct values ({shown}); "
            "a classification target must be binary"
        )
    if positive is None:
        if set(distinct) <= {0, 1}:
            positive = 1
        else:
            raise DataError(
                f"{where}: target column {name!r} has values {sorted(map(str, distinct))}; "
                "set data.positive to the value that counts as 1"
            )
    as_text = values.astype(str)
    hits = (values == positive) | (as_text == str(positive))
    if not hits.any():
        raise DataError(
            f"{where}: positive label {positive!r} never occurs in target column {name!r} "
            f"(values: {sorted(map(str, distinct))})"
        )
    return hits.astype(int).rename(name)


def check_unique_ids(frame: pd.DataFrame, ids: list[str], where: str) -> None:
    """Raise a DataError when the id column(s) repeat, showing an example."""
    dup = frame.duplicated(subset=ids, keep=False)
    if dup.any():
        example = frame.loc[dup, ids].iloc[0].tolist()
        raise DataError(
            f"{where}: id column(s) {', '.join(ids)} must be unique; "
            f"{int(dup.sum())} rows share an id (e.g. {example})"
        )
