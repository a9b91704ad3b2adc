"""How a CSV file is written: delimiter, decimal mark and encoding, guessed or given.

CRMs and Excel in Italian, German, French and other European locales export
``;``-separated files with decimal commas, often in cp1252. :func:`sniff_csv`
looks at the first lines and decides:

- encoding: UTF-8 (with or without BOM), else cp1252 (Windows Western,
  a superset of latin-1 for printable text), else latin-1;
- delimiter: the one of ``,`` ``;`` tab ``|`` that splits the lines into the
  same number (more than one) of fields most consistently;
- decimal mark: ``,`` when the delimiter is not a comma and numbers that show
  a decimal comma beyond doubt (``12,5``, ``1.234,56``, ``1 234,5 €``) outnumber
  those that show a decimal point (``12.5``, ``1,234.56``); ``1,234`` and
  ``1.234`` count for neither, as either mark may separate thousands
  (:func:`salesml.io.numbers.decimal_evidence`). :attr:`CsvDialect.decimal_shown`
  says whether the guess rests on such numbers (a comma-delimited file always
  writes decimal points); if not, ambiguous columns are decided by the other
  columns or refused (:mod:`salesml.io.numbers`).

Anything given explicitly (``data.read: {sep, decimal, encoding}``) is used
as given; what was guessed is listed in :attr:`CsvDialect.guessed`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class CsvDialect:
    """What :func:`sniff_csv` decided; ``guessed`` names the settings it inferred.

    ``decimal_shown`` is True when the decimal mark is known: given, implied by
    a comma delimiter, or shown beyond doubt by numbers in the sample.
    """

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    guessed: tuple[str, ...] = field(default_factory=tuple)
    decimal_shown: bool = True

    def describe(self) -> str:
        sep = {"\t": "tab"}.get(self.sep, repr(self.sep))
        parts = [f"delimiter {sep}", f"decimal {self.decimal!r}", f"encoding {self.encoding}"]
        marks = [
            p + (" (guessed)" if k in self.guessed else "")
            for p, k in zip(parts, ("sep", "decimal", "encoding"), strict=True)
        ]
        return ", ".join(marks)


def _encoding(sample: bytes) -> str:
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for name in ("utf-8", "cp1252"):
        try:
            sample.decode(name)
        except UnicodeDecodeError as exc:
            if name == "utf-8" and exc.start >= len(sample) - 3:  # a character cut by the sample
                return name
            continue
        return name
    return "latin-1"


def _delimiter(lines: list[str]) -> str:
    best, best_key = ",", (-1.0, 0)
    for sep in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        key = (counts.count(mode) / len(counts), mode)
        if key > best_key:
            best, best_key = sep, key
    return best


def _decimal(lines: list[str], sep: str) -> tuple[str, bool]:
    """The decimal mark and whether the sample showed it beyond doubt."""
    from salesml.io.numbers import decimal_evidence

    if sep == ",":
        return ".", True
    votes = {",": 0, ".": 0}
    for row in csv.reader(lines[1:], delimiter=sep):
        for cell in row:
            mark = decimal_evidence(cell) if any(c.isdigit() for c in cell) else None
            if mark is not None:
                votes[mark] += 1
    return ("," if votes[","] > votes["."] else "."), votes[","] + votes["."] > 0


def sniff_csv(
    path: str | Path,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sample_bytes: int = 1 << 16,
) -> CsvDialect:
    """Decide delimiter, decimal mark and encoding of ``path`` (given values win).

    Parameters
    ----------
    path : str or Path
        A CSV file; only its first ``sample_bytes`` (at most 200 lines) are read.
    sep, decimal, encoding : str, optional
        Given settings, used as given.

    Returns
    -------
    CsvDialect
    """
    with open(path, "rb") as fh:
        sample = fh.read(sample_bytes)
    guessed = []
    if encoding is None:
        encoding, guessed = _encoding(sample), [*guessed, "encoding"]
    text = sample.decode(encoding, errors="replace")
    lines = io.StringIO(text).read().splitlines()[:200]
    if len(sample) == sample_bytes and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sample
    if sep is None:
        sep, guessed = _delimiter(lines), [*guessed, "sep"]
    shown = True
    if decimal is None:
        (decimal, shown), guessed = _decimal(lines, sep), [*guessed, "decimal"]
    order = ("sep", "decimal", "encoding")
    return CsvDialect(sep, decimal, encoding, tuple(k for k in order if k in guessed), shown)
