"""Checks on a table's columns as a file declares them, before and just after pandas reads it.

- a header that names the same column twice is refused, naming the name and
  both (1-based) column numbers: pandas would silently rename the second
  ``name.1`` and it would be trained on as a separate feature. The data
  configs have no column-renaming setting, so the header must be fixed in the
  file;
- a Parquet column of nested values (lists, structs, maps, unions) is
  refused, naming the column and its Arrow type: salesml reads flat tables;
- whole numbers written with leading zeros (zip codes such as ``01067``, ids
  such as ``00123``) are codes, not amounts: a CSV column holding any is kept
  as text instead of being read as integers that lose the zeros.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd

from salesml.errors import DataError


def refuse_duplicates(names: list[Any], where: str) -> None:
    """Raise a DataError when ``names`` (a header, in file order) repeats one.

    Blank names (a trailing delimiter, empty header cells) are not compared.

    Raises
    ------
    DataError
        Naming the file, the repeated name and every column number it occupies (1-based).
    """
    seen: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        if name is None or str(name).strip() == "":
            continue  # unnamed columns: pandas names them "Unnamed: N", distinct
        seen.setdefault(str(name), []).append(number)
    repeated = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if repeated:
        name, pos = next(iter(repeated.items()))
        where_ = " and ".join(map(str, pos)) if len(pos) == 2 else ", ".join(map(str, pos))
        more = f" ({len(repeated) - 1} other name(s) repeat too)" if len(repeated) > 1 else ""
        raise DataError(
            f"{where}: the header names column {name!r} twice, in columns {where_}{more}; "
            "rename one of them in the file (pandas would read the second as "
            f"{name + '.1'!r} and treat it as another column)"
        )


def csv_header(path: Path, sep: str, encoding: str) -> list[str]:
    """The first non-blank record of a CSV file, as written (pandas skips blank lines too)."""
    with open(path, encoding=encoding, newline="", errors="replace") as fh:
        for row in csv.reader(fh, delimiter=sep):
            if row and any(cell.strip() for cell in row):
                return row
    return []


def excel_header(path: Path, sheet: str | int | None) -> list[Any]:
    """The first non-blank row of a workbook's sheet (default the first)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
        for row in ws.iter_rows(values_only=True):
            if any(v is not None for v in row):
                last = max(i for i, v in enumerate(row) if v is not None)
                return [v for v in row[: last + 1]]
    finally:
        book.close()
    return []


def check_parquet(path: Path, columns: list[str] | None) -> None:
    """Refuse repeated column names and nested columns (of ``columns``, default all).

    Raises
    ------
    DataError
        Naming the file, the column (and its 1-based number) and its Arrow type;
        or, for a file that is not Parquet, what pyarrow says.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot be parsed ({' '.join(str(exc).split())})") from exc
    refuse_duplicates(list(schema.names), str(path))
    for number, fld in enumerate(schema, start=1):
        if columns is not None and fld.name not in columns:
            continue
        kind = fld.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind):
            raise DataError(
                f"{path}: column {fld.name!r} (column {number}) holds nested values of type "
                f"{kind}; salesml reads flat tables only: flatten it into plain columns "
                "(or drop it) before reading the file"
            )


_ZERO_CODE = re.compile(r"[+-]?0\d+")


def _has_zero_codes(path: Path, sep: str, chunk: int = 1 << 22) -> bool:
    """Whether any field of the file is a whole number with leading zeros (one fast pass)."""
    s = re.escape(sep.encode())
    field = re.compile(rb"(?:^|" + s + rb')"?0\d+"?(?=' + s + rb"|\r?$)", re.MULTILINE)
    tail = b""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            data = tail + block
            if field.search(data):
                return True
            tail = data[data.rfind(b"\n") + 1 :][-4096:]
    return False


def keep_zero_codes(
    frame: pd.DataFrame, path: Path, opts: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric columns of a CSV read by pandas whose text has leading zeros, back as text.

    Parameters
    ----------
    frame : DataFrame
        As pandas read ``path`` with ``opts`` (``sep``, ``decimal``, ``encoding``).

    Returns
    -------
    frame : DataFrame
        The input, or a copy with those columns as text.
    notes : dict
        ``{column: note}`` for ``data inspect``.
    """
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in numeric if not pd.api.types.is_bool_dtype(frame[c])]
    if not numeric or not _has_zero_codes(path, opts["sep"]):
        return frame, {}
    text = pd.read_csv(path, usecols=numeric, dtype=str, **opts)
    out, notes = frame, {}
    for name in numeric:
        zeros = text[name].fillna("").str.strip().str.fullmatch(_ZERO_CODE)
        if zeros.any():
            out = out.copy() if out is frame else out
            out[name] = text[name].to_numpy(object)
            example = text[name][zeros].iloc[0]
            notes[str(name)] = f"text: codes with leading zeros (e.g. {example!r})"
    return out, notes
