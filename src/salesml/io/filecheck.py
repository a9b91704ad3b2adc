"""Checks on a CSV file's bytes before pandas parses it, with errors a user can act on.

- a binary file (NUL bytes, or the signature of a Parquet file, an Excel
  workbook or another zip archive) is refused, naming what it looks like;
- a line longer than :data:`MAX_LINE_BYTES` is refused, naming the line: such
  a line is almost always an unclosed quote or a file that is not a table,
  and would otherwise be read as one enormous value;
- bytes that are not valid in the file's encoding are reported with their
  line and column rather than pandas' position inside its read buffer.

One pass over the file also tells :mod:`salesml.io.data` whether it holds
numbers with huge exponents, which pandas' CSV parser must not see.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from salesml.errors import DataError

MAX_LINE_BYTES = 1 << 20
_HUGE_EXPONENT = re.compile(rb"\d[eE][+-]?\d{4}")
_SIGNATURES = (
    (b"PAR1", "a Parquet file; rename it to .parquet"),
    (b"PK\x03\x04", "a zip archive (an Excel workbook is one; save it as .xlsx)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook; save it as .xlsx or .csv"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive; unpack it first"),
)


def _binary(path: Path, head: bytes) -> None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise DataError(f"{path}: a binary file, not a CSV text file: it looks like {what}")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(
            f"{path}: a binary file, not a CSV text file (NUL byte at offset {nul}); "
            "is it UTF-16 text or another format?"
        )


def scan_csv(path: Path, chunk: int = 1 << 22, max_line: int = MAX_LINE_BYTES) -> bool:
    """Refuse binary files and lines over ``max_line`` bytes; return whether a huge
    exponent occurs. The file is read once, ``chunk`` bytes at a time.

    Raises
    ------
    DataError
        Naming the file and, for a long line, its number and length.
    """
    huge = False
    tail = b""
    line, line_start, offset = 1, 0, 0
    with open(path, "rb") as fh:
        _binary(path, fh.read(1 << 16))
        fh.seek(0)
        for block in iter(lambda: fh.read(chunk), b""):
            if not huge and _HUGE_EXPONENT.search(tail + block):
                huge = True
            tail = (tail + block)[-8:]
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset
            starts = np.concatenate(([line_start], ends[:-1] + 1)) if len(ends) else None
            if starts is not None:
                lengths = ends - starts
                long = np.flatnonzero(lengths > max_line)
                if len(long):
                    _too_long(path, line + int(long[0]), int(lengths[long[0]]), max_line)
                line += len(ends)
                line_start = int(ends[-1]) + 1
            offset += len(block)
            if offset - line_start > max_line:
                rest = path.stat().st_size - line_start
                nl = _next_newline(fh)
                _too_long(path, line, rest if nl is None else offset + nl - line_start, max_line)
    return huge


def _next_newline(fh: object) -> int | None:
    """Bytes from the current position of ``fh`` to the next newline (None: none left)."""
    seen = 0
    for block in iter(lambda: fh.read(1 << 22), b""):  # type: ignore[attr-defined]
        pos = block.find(b"\n")
        if pos >= 0:
            return seen + pos
        seen += len(block)
    return None


def _too_long(path: Path, line: int, length: int, max_line: int) -> None:
    raise DataError(
        f"{path}: line {line} is {length:,} bytes long (at most {max_line:,} are read); "
        "an unclosed quote, or a file that is not a table?"
    )


def encoding_problem(
    path: Path,
    encoding: str,
    given: bool,
    setting: str | None = "data.read.encoding",
    block_size: int = 1 << 20,
) -> str:
    """Where ``path`` stops being valid ``encoding`` text: byte, line and column.

    ``given`` says whether ``setting`` (a config key) set the encoding, else it was
    guessed; without a ``setting`` the message asks for the file as UTF-8.
    """
    line, column, start = 1, 1, 0  # start: file offset of ``pending``
    pending = b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(block_size)
            data = pending + block
            if not data:
                break
            try:
                text, pending = data.decode(encoding), b""
            except UnicodeDecodeError as exc:
                if block and exc.reason == "unexpected end of data":  # a character cut in two
                    text, pending = data[: exc.start].decode(encoding), data[exc.start :]
                else:
                    good = data[: exc.start].decode(encoding, errors="replace")
                    line += good.count("\n")
                    column = len(good) - good.rfind("\n") if "\n" in good else column + len(good)
                    how = f"{setting} says" if given else "it was read as"
                    fix = (
                        f"set {setting} to the file's encoding (e.g. cp1252, latin-1)"
                        if setting
                        else "save the file as UTF-8"
                    )
                    return (
                        f"{path}: byte 0x{data[exc.start : exc.start + 1].hex()} at line {line}, "
                        f"column {column} (file offset {start + exc.start}) is not valid "
                        f"{encoding}, which {how}; {fix}"
                    )
            if not block:
                break
            line += text.count("\n")
            column = len(text) - text.rfind("\n") if "\n" in text else column + len(text)
            start += len(data) - len(pending)
    return f"{path}: not valid {encoding} text"
