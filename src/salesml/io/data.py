"""Load tables, infer column kinds, validate targets; write tables atomically.

:func:`load_table` reads a CSV or Parquet file without ever modifying it and
returns a :class:`Table`: the frame, a printable :class:`~salesml.io.schema.Schema`
of inferred column kinds (numeric, categorical, datetime, boolean, id, text)
and the file's sha256 fingerprint.

Every reader (``run``, ``data inspect``, ``funnel``, forecast scoring) goes
through :func:`read_frame`, which reads files as people write them:

- the CSV dialect is sniffed (:mod:`salesml.io.dialect`);
- a header repeating a name and nested Parquet columns are refused, and
  codes with leading zeros stay text (:mod:`salesml.io.columns`);
- numbers with thousands separators (``1,234.56``, ``1.234,56``, ``1 234,56``,
  ``1'234.56``), decimal commas, currencies and percent signs (``12.5%`` is
  0.125) are read as numbers, ambiguous columns decided by the file's decimal
  mark or refused (:mod:`salesml.io.numbers`);
- dates with UTC offsets, even across a daylight-saving change, are read in
  one zone, UTC (period stamps at one local time of day keep it), by
  :func:`load_table` and the forecast (:mod:`salesml.io.timestamps`).

pandas' warnings about these never reach the screen: each decision is a note
of the :class:`~salesml.io.schema.Schema` that ``data inspect`` prints.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.io.paths import missing_reason
from salesml.io.schema import NUMBER, Schema, infer_schema


@dataclass
class Table:
    """A loaded data file: ``frame``, its ``schema``, ``path`` and ``sha256``."""

    frame: pd.DataFrame
    schema: Schema
    path: Path | None = None
    sha256: str = ""
    dialect: Any = None

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


def read_frame(
    path: str | Path, columns: list[str] | None = None, read: Any = None
) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file (by suffix) into a DataFrame, never modifying it.

    A CSV's delimiter, decimal mark and encoding are sniffed
    (:func:`salesml.io.dialect.sniff_csv`) unless ``read`` (``data.read`` of a
    config: ``sep``, ``decimal``, ``encoding``) gives them. Numbers written with
    thousands separators, currencies or percent signs are read as numbers
    (:mod:`salesml.io.numbers`); codes with leading zeros stay text
    (:mod:`salesml.io.columns`).

    Raises
    ------
    DataError
        If the file is missing, has another suffix, is empty or cannot be parsed;
        if its header repeats a name; if a Parquet column is nested; if a column
        of formatted numbers is ambiguous or mixes currencies.
    """
    return _read(Path(path), columns, read)[0]


def _read(
    path: Path, columns: list[str] | None, read: Any
) -> tuple[pd.DataFrame, Any, dict[str, str]]:
    from salesml.io.columns import check_parquet, csv_header, keep_zero_codes, refuse_duplicates
    from salesml.io.dialect import sniff_csv
    from salesml.io.filecheck import encoding_problem, scan_csv
    from salesml.io.numbers import read_numbers, refuse_ambiguous_points

    if not path.is_file():
        raise DataError(f"{path}: {missing_reason(path, 'data file')}")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq", ".xlsx", ".xlsm"):
        # Outside the try: DataError is a ValueError, which is re-wrapped below.
        raise DataError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .xlsx")
    given = getattr(read, "decimal", None)
    if suffix in (".xlsx", ".xlsm"):
        frame = _read_excel(path, columns, getattr(read, "sheet", None))
        frame, notes = read_numbers(frame, str(path), given, given is not None)
        return frame, None, notes
    dialect = None
    notes: dict[str, str] = {}
    huge = suffix == ".csv" and scan_csv(path)  # outside the try, as above
    if suffix != ".csv":
        check_parquet(path, columns)
    try:
        if suffix == ".csv":
            asked = {k: getattr(read, k, None) for k in ("sep", "decimal", "encoding")}
            dialect = sniff_csv(path, **asked)
            opts = {"sep": dialect.sep, "decimal": dialect.decimal, "encoding": dialect.encoding}
            header = csv_header(path, dialect.sep, dialect.encoding)
        if suffix == ".csv" and huge:
            frame = _typed_columns(pd.read_csv(path, usecols=columns, dtype=str, **opts))
        elif suffix == ".csv":
            frame = pd.read_csv(path, usecols=columns, low_memory=False, **opts)
        else:
            frame = pd.read_parquet(path, columns=columns)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except UnicodeDecodeError as exc:
        enc_given = getattr(read, "encoding", None) is not None
        raise DataError(
            encoding_problem(path, dialect.encoding if dialect else "utf-8", enc_given)
        ) from exc
    except (pd.errors.ParserError, OSError) as exc:
        raise DataError(f"{path}: cannot be parsed ({' '.join(str(exc).split())})") from exc
    except ValueError as exc:  # usecols not found, corrupt parquet
        raise DataError(f"{path}: {exc}") from exc
    if dialect is not None:
        refuse_duplicates(header, str(path))
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"{path}: the file has no data rows")
    if dialect is not None and not huge:
        frame, notes = keep_zero_codes(frame, path, opts)
        if not dialect.decimal_shown:
            refuse_ambiguous_points(frame, path, opts)
    if dialect is not None and dialect.decimal == ",":  # pandas read them with decimal commas
        floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
        notes.update({str(c): "numbers with decimal ','" for c in floats})
    known = dialect.decimal if dialect is not None and dialect.decimal_shown else None
    frame, number_notes = read_numbers(frame, str(path), given or known, given is not None)
    return frame, dialect, {**notes, **number_notes}


def _read_excel(path: Path, columns: list[str] | None, sheet: str | int | None) -> pd.DataFrame:
    """One sheet of an Excel workbook (default the first), as exported by a CRM or by hand."""
    import zipfile

    from openpyxl import load_workbook

    try:
        names = load_workbook(path, read_only=True).sheetnames
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise DataError(f"{path}: not a readable Excel workbook ({exc})") from exc
    if isinstance(sheet, str) and sheet not in names:
        raise DataError(
            f"{path}: no sheet {sheet!r}; the workbook has {', '.join(map(repr, names))}"
        )
    if isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise DataError(
            f"{path}: sheet {sheet} does not exist; the workbook has {len(names)} sheet(s)"
        )
    from salesml.io.columns import excel_header, refuse_duplicates

    refuse_duplicates(excel_header(path, sheet), str(path))
    # Cells as stored (dtype=object): pandas would read text cells such as "01067" as numbers.
    frame = pd.read_excel(
        path, sheet_name=sheet or 0, usecols=columns, engine="openpyxl", dtype=object
    ).infer_objects()
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"{path}: sheet {sheet or names[0]!r} has no data rows")
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
_NUMBER = NUMBER
_INTEGER = r"[+-]?\d{1,18}"
_ZERO_CODE = r"[+-]?0\d+"


def _typed_column(values: pd.Series) -> pd.Series:
    nonnull = values.dropna()
    if nonnull.empty:
        return values.astype(float)
    if nonnull.str.strip().str.fullmatch(_ZERO_CODE).any():
        return values  # codes with leading zeros (zip codes, ids): text
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


def load_table(path: str | Path, date_format: str | None = None, read: Any = None) -> Table:
    """Load a CSV or Parquet file with inferred column kinds.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.parquet``. The file is only read.
    date_format : str, optional
        strftime format of date columns that are not ISO 8601 (e.g. ``%d-%m-%Y``);
        without it, common day-first and month-first formats are tried.
    read : optional
        ``sep``, ``decimal``, ``encoding`` for a CSV (default: sniffed).

    Returns
    -------
    Table
        ``frame`` (numeric-like text and dates converted), ``schema`` (whose notes
        say how each odd column was read: formatted numbers, codes kept as text,
        dates with UTC offsets), ``sha256`` and, for a CSV, the ``dialect`` it
        was read with.

    Raises
    ------
    DataError
        As :func:`read_frame`; also for a date column mixing values with and
        without a UTC offset (:mod:`salesml.io.timestamps`).
    """
    frame, dialect, notes = _read(Path(path), None, read)
    frame, schema = infer_schema(frame, date_format, where=str(path))
    for name, note in schema.notes.items():
        notes[name] = f"{notes[name]}; {note}" if name in notes else note
    schema = Schema(schema.columns, notes)
    return Table(frame, schema, Path(path), file_sha256(path), dialect)


def ensure_data(path: Path, generate: Any, config: Any = None) -> None:
    """Create ``path`` with the synthetic generator ``generate`` describes, if it is missing.

    Parameters
    ----------
    path : Path
        The config's ``data.path``.
    generate : GenerateConfig or None
        ``{kind, rows, seed}`` (and ``weeks``); nothing is done when None or the file exists.
    config : Path, optional
        The config file, named when ``path`` is not a file.

    Raises
    ------
    DataError
        When ``path`` is missing (and nothing generates it) or is a folder.
    """
    if generate is not None and not path.exists():
        from salesml.synthetic import generate as make

        options = {"weeks": generate.weeks} if getattr(generate, "weeks", None) else {}
        write_frame(make(generate.kind, generate.rows, generate.seed, **options), path)
    if not path.is_file():
        what = missing_reason(path, "data file")
        source = f" of {config}" if config else ""
        raise DataError(f"{path}: {what} (data.path{source})")


def scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so messages show ``3``, not ``np.int64(3)``)."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


def require_columns(frame: pd.DataFrame, columns: list[str], where: str, role: str) -> None:
    """Raise a DataError naming every missing column, the role and the file."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:30]))
        raise DataError(
            f"{where}: {role} column(s) {', '.join(map(repr, missing))} not in the data; "
            f"available columns: {shown}"
        )


def check_unique_ids(frame: pd.DataFrame, ids: list[str], where: str) -> None:
    """Raise a DataError when an id is blank or the id column(s) repeat, showing examples."""
    part = frame[ids]
    blank = part.isna() | part.apply(lambda c: c.astype(str).str.strip().eq(""))
    if blank.to_numpy().any():
        rows = np.flatnonzero(blank.any(axis=1).to_numpy())
        column = next(c for c in ids if blank[c].any())
        shown = ", ".join(str(r + 1) for r in rows[:5])
        raise DataError(
            f"{where}: id column {column!r} is blank in {len(rows):,} row(s) (data row "
            f"{shown}{' ...' if len(rows) > 5 else ''}); every row needs an id to be scored "
            "and traced, or leave data.id out"
        )
    dup = frame.duplicated(subset=ids, keep=False)
    if dup.any():
        example = frame.loc[dup, ids].iloc[0].tolist()
        raise DataError(
            f"{where}: id column(s) {', '.join(ids)} must be unique; "
            f"{int(dup.sum())} rows share an id (e.g. {example})"
        )


def join_table(frame: pd.DataFrame, join: Any, where: str) -> pd.DataFrame:
    """``frame`` left-joined with the table ``join`` names (``path``, ``key``, ``columns``).

    Raises
    ------
    DataError
        When the key is missing on either side, a named column is missing, or the
        key repeats in the joined table (a deal would be counted twice).
    """
    other = read_frame(join.path)
    require_columns(frame, [join.key], where, "join.key")
    require_columns(other, [join.key, *(join.columns or [])], str(join.path), "join")
    keep = [join.key, *(join.columns or [c for c in other.columns if c != join.key])]
    dup = other[join.key].duplicated()
    if dup.any():
        raise DataError(
            f"{join.path}: join key {join.key!r} repeats ({other.loc[dup, join.key].iloc[0]!r})"
        )
    return frame.merge(other[keep], on=join.key, how="left")
