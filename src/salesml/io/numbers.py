"""Numbers as people write them: thousands separators, decimal commas, currencies, percent.

A text column is read as numbers only when *every* non-empty value fits one
way of writing numbers (a *convention*: a thousands separator and a decimal
mark), possibly with a currency or a percent sign:

- thousands separators ``,`` ``.`` a space (also the no-break U+00A0 and
  narrow no-break U+202F spaces) and ``'`` (Swiss; also U+2019), in groups of
  three digits after a first group of one to three digits that does not start
  with 0: ``1,234,567.89``, ``1.234,56``, ``1 234,56``, ``1'234.56``; values
  without separators (``999.50``) may be mixed in;
- a decimal mark ``.`` or ``,``, never the same as the thousands separator;
- a leading ``-`` or ``+`` (before or after a currency prefix);
- one currency, before or after the number: ``€`` ``$`` ``£`` ``¥`` or the
  codes ``EUR`` ``USD`` ``GBP`` ``CHF`` ``JPY`` (``€`` and ``EUR`` are the same
  currency); values without a currency may be mixed in;
- a percent sign after the number: **a percentage is read as the fraction it
  stands for**, ``12.5%`` as 0.125 (as Excel stores percentages). A column is
  all percentages or none.

Whole numbers without blanks become integers, everything else floats; blank
values become missing.

What stays text: a column with any value that is not a number this way
(``50-200``, accounting negatives such as ``(1,234.56)``, ``n/a`` that pandas
does not already read as missing), and codes
with leading zeros (``00123``, ``01067`` zip codes), which are identifiers, not
amounts. Columns of plain numbers (``12.5``) are left to
:func:`salesml.io.schema.infer_schema`, as before.

Ambiguity: ``1,234`` is 1234 with a thousands comma or 1.234 with a decimal
comma. When the values of a column can be read more than one way with
different results, the decimal mark decides, taken from (in this order)
``data.read.decimal`` when given, the sniffed CSV dialect when its sample
showed an unambiguous decimal mark (a comma-delimited CSV writes decimal
points), and the other columns of the same file (``1.234,56`` elsewhere
shows decimal commas). When nothing decides, the file is refused, naming the
column, a value and both readings (also a column pandas would read as
decimals, all like ``1.234``, in a semicolon or tab file whose sample shows no
decimal mark: :func:`refuse_ambiguous_points`). A decided ambiguous column's
note says what decided it. A column mixing currencies (``€`` and ``$``), or
percentages and plain numbers, is refused too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError

CURRENCIES = ("€", "$", "£", "¥", "EUR", "USD", "GBP", "CHF", "JPY")
_SAME_CURRENCY = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_CUR = "|".join(map(re.escape, CURRENCIES))
_BODY_CHARS = r"\d.,'\u2019 \u00a0\u202f"
VALUE = re.compile(
    rf"(?P<sign>[-+\u2212]?)\s*(?P<pre>{_CUR})?\s*(?P<sign2>[-+\u2212]?)\s*"
    rf"(?P<body>\d(?:[{_BODY_CHARS}]*\d)?|[.,]\d+)\s*(?P<post>{_CUR}|%)?"
)
# Thousands separators: the name shown in messages and the characters it stands for.
GROUPS = {",": ",", ".": r"\.", " ": "[ \u00a0\u202f]", "'": "['\u2019]"}
CONVENTIONS: tuple[tuple[str | None, str], ...] = tuple(
    (g, d) for g in (None, *GROUPS) for d in (".", ",") if g != d
)
_LEADING_ZERO = re.compile(r"0\d")


def _body_pattern(group: str | None, decimal: str) -> re.Pattern[str]:
    d = re.escape(decimal)
    whole = r"\d+" if group is None else rf"(?:[1-9]\d{{0,2}}(?:{GROUPS[group]}\d{{3}})+|\d+)"
    return re.compile(rf"{whole}(?:{d}\d+)?|{d}\d+")


_PATTERNS = {conv: _body_pattern(*conv) for conv in CONVENTIONS}


def _canonical(body: pd.Series, group: str | None, decimal: str) -> pd.Series:
    if group is not None:
        body = body.str.replace(GROUPS[group], "", regex=True)
    return body.str.replace(decimal, ".", regex=False)


def _shown(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _row(index: Any, values: pd.Series) -> str:
    pos = int(np.flatnonzero(values.index == index)[0])
    return f"data row {pos + 1}"


def _describe(group: str | None, decimal: str | None) -> str:
    parts = []
    if group is not None:
        parts.append(f"thousands separator {'space' if group == ' ' else repr(group)}")
    if decimal is not None:
        parts.append(f"decimal {decimal!r}")
    return " and ".join(parts)


@dataclass(frozen=True)
class _Fits:
    """The readings of one column: each fitting convention and the numbers it gives."""

    parts: pd.DataFrame  # sign, pre, sign2, body, post of the non-empty values
    readings: dict[tuple[str | None, str], np.ndarray]


def _fits(values: pd.Series, decimal: str | None) -> _Fits | None:
    head = values.dropna().iloc[:50].astype(str).str.strip()
    if not head[head.ne("")].str.fullmatch(VALUE).all():
        return None  # most text columns stop here, after 50 values
    text = values.astype("string").str.strip()
    text = text[text.notna() & text.ne("")]
    if text.empty:
        return None
    parts = text.str.extract(f"^(?:{VALUE.pattern})$").astype(object)
    if parts["body"].isna().any():
        return None
    parts = parts.fillna("").astype(str)
    if parts["body"].str.match(_LEADING_ZERO).any():
        return None  # codes such as zip codes and ids: text
    if (parts["sign"].ne("") & parts["sign2"].ne("")).any():
        return None
    plain = (
        parts["pre"].eq("")
        & parts["post"].eq("")
        & parts["sign2"].eq("")
        & parts["body"].str.fullmatch(r"\d+(?:\.\d+)?|\.\d+")
    )
    if plain.all() and decimal != ",":
        return None  # plain numbers: infer_schema's business
    readings = {}
    for conv, pattern in _PATTERNS.items():
        if parts["body"].str.fullmatch(pattern).all():
            readings[conv] = _canonical(parts["body"], *conv).to_numpy(dtype=str)
    if not readings:
        return None
    return _Fits(parts, readings)


def _currencies(parts: pd.DataFrame) -> pd.Series:
    """The currency of each value that has one."""
    post = parts["post"].where(parts["post"].ne("%"), "")
    cur = parts["pre"].where(parts["pre"].ne(""), post)
    return cur[cur.ne("")]


def _refuse_mixed(parts: pd.DataFrame, raw: pd.Series, where: str, name: str) -> None:
    """Refuse a column that mixes currencies, or percentages and plain numbers."""
    codes = _currencies(parts).map(lambda c: _SAME_CURRENCY.get(c, c))
    if codes.nunique() > 1:
        first = codes.index[0]
        other = codes.index[codes.ne(codes.iloc[0])][0]
        raise DataError(
            f"{where}: column {name!r} mixes currencies: {raw[first]!r} ({_row(first, raw)}) "
            f"and {raw[other]!r} ({_row(other, raw)}); convert the amounts to one currency "
            "before reading them as numbers"
        )
    percent = parts["post"].eq("%")
    if percent.any() and not percent.all():
        p, q = percent.index[percent][0], percent.index[~percent][0]
        raise DataError(
            f"{where}: column {name!r} mixes percentages ({raw[p]!r}, {_row(p, raw)}) and plain "
            f"numbers ({raw[q]!r}, {_row(q, raw)}); write them all as percentages or all as "
            "plain numbers"
        )


def _decide(
    fits: _Fits, raw: pd.Series, decimal: str | None, source: str, where: str, name: str
) -> tuple[tuple[str | None, str], bool]:
    """The one convention to read with, and whether ``decimal`` decided between readings.

    Raises a DataError when the readings differ and nothing decides.
    """
    distinct: dict[tuple[str, ...], list[tuple[str | None, str]]] = {}
    for conv, canon in fits.readings.items():
        key = tuple(np.asarray(canon, dtype=float).astype(str))
        distinct.setdefault(key, []).append(conv)
    groups = list(distinct.values())
    if len(groups) > 1 and decimal is not None:
        kept = [[c for c in g if c[1] == decimal] for g in groups]
        groups = [g for g in kept if g] or groups
    if len(groups) == 1:
        body = fits.parts["body"]
        used = [c for c in groups[0] if c[0] is not None and body.str.contains(GROUPS[c[0]]).any()]
        return (used or groups[0])[0], len(distinct) > 1
    a, b = (g[0] for g in groups[:2])
    canon_a = np.asarray(fits.readings[a], dtype=float)
    canon_b = np.asarray(fits.readings[b], dtype=float)
    at = int(np.flatnonzero(canon_a != canon_b)[0])
    index = fits.parts.index[at]
    nothing = (
        "nothing else in the file shows which decimal mark it uses"
        if decimal is None
        else f"{source} gives no decimal mark that tells them apart"
    )
    raise DataError(
        f"{where}: column {name!r} is ambiguous: {raw[index]!r} ({_row(index, raw)}) reads as "
        f"{_shown(canon_a[at])} with {_describe(*a)}, or as {_shown(canon_b[at])} with "
        f"{_describe(*b)}, and {nothing}; set data.read.decimal ('.' or ',') in the config, "
        "or write the numbers without thousands separators"
    )


def _values(fits: _Fits, conv: tuple[str | None, str], index: pd.Index) -> pd.Series:
    parts = fits.parts
    canon = pd.Series(fits.readings[conv], index=parts.index)
    negative = parts["sign"].isin(["-", "\u2212"]) | parts["sign2"].isin(["-", "\u2212"])
    canon = canon.where(~negative, "-" + canon)
    if parts["post"].eq("%").all():
        numbers = canon.map(lambda s: float(Decimal(s).scaleb(-2)))
    else:
        numbers = canon.astype(float)
    out = pd.Series(np.nan, index=index, dtype=float)
    out.loc[numbers.index] = numbers.to_numpy()
    whole = (
        len(numbers) == len(index)
        and not parts["post"].eq("%").any()
        and bool(np.all(np.mod(numbers.to_numpy(), 1) == 0))
        and bool(np.all(np.abs(numbers.to_numpy()) < 2**53))
    )
    return out.astype("int64") if whole else out


def _note(fits: _Fits, conv: tuple[str | None, str]) -> str:
    parts = fits.parts
    group, decimal = conv
    body = parts["body"]
    shown_group = group if group is not None and body.str.contains(GROUPS[group]).any() else None
    shown_decimal = decimal if body.str.contains(re.escape(decimal)).any() else None
    how = _describe(shown_group, shown_decimal)
    extras = []
    cur = _currencies(parts)
    if len(cur):
        extras.append(f"currency {cur.iloc[0]!r} dropped")
    if parts["post"].eq("%").any():
        extras.append("percentages as fractions (12.5% = 0.125)")
    return ", ".join([f"numbers with {how}" if how else "numbers", *extras])


def _evidence(fits: _Fits, conv: tuple[str | None, str]) -> str | None:
    """The decimal mark a decided column shows: its own, or the one its thousands mark rules out."""
    group, decimal = conv
    body = fits.parts["body"]
    if body.str.contains(re.escape(decimal)).any():
        return decimal
    if group in (",", ".") and body.str.contains(GROUPS[group]).any():
        return "." if group == "," else ","
    return None


def read_numbers(
    frame: pd.DataFrame,
    where: str,
    decimal: str | None = None,
    given: bool = False,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Convert the text columns of ``frame`` that hold formatted numbers (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        As read from a file; not modified.
    where : str
        The file, for messages.
    decimal : str, optional
        The file's decimal mark, when known: given in the config or shown by the
        sniffed CSV sample.
    given : bool
        Whether ``decimal`` was given (``data.read.decimal``): then only that mark
        is ever a decimal mark, and values that need the other stay text.

    Returns
    -------
    frame : DataFrame
        A copy with the converted columns (the input when nothing was converted).
    notes : dict
        ``{column: how it was read}`` for ``data inspect``.

    Raises
    ------
    DataError
        For a column that mixes currencies, or percentages and plain numbers, or
        reads as different numbers under different conventions with nothing to
        decide between them; naming the file, the column, a value and its row.
    """
    source = "data.read.decimal" if given else "the CSV dialect"
    found: dict[str, _Fits] = {}
    for name in frame.columns:
        col = frame[name]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        if pd.api.types.infer_dtype(col, skipna=True) != "string":
            continue  # empty, or mixed Python objects (Excel cells): not text
        fits = _fits(col, decimal)
        if fits is None:
            continue
        _refuse_mixed(fits.parts, col, where, str(name))
        if given:
            fits = _Fits(fits.parts, {c: r for c, r in fits.readings.items() if c[1] == decimal})
            if not fits.readings:
                continue  # the given decimal mark does not read them: text
        found[str(name)] = fits
    if not found:
        return frame, {}
    decided: dict[str, tuple[str | None, str]] = {}
    by: dict[str, str] = {}
    pending = []
    for name, fits in found.items():
        try:
            decided[name], ambiguous = _decide(fits, frame[name], decimal, source, where, name)
        except DataError:
            if decimal is not None:
                raise
            pending.append(name)
            continue
        if ambiguous:
            by[name] = source
    if pending:
        seen = {_evidence(found[n], decided[n]) for n in decided} - {None}
        hint = seen.pop() if len(seen) == 1 else None
        for name in pending:
            decided[name], _ = _decide(
                found[name], frame[name], hint, "the other columns", where, name
            )
            by[name] = "the other columns"
    out = frame.copy()
    notes = {}
    for name, conv in decided.items():
        out[name] = _values(found[name], conv, frame.index)
        notes[name] = _note(found[name], conv)
        if name in by:
            notes[name] += f" (ambiguous; decimal {conv[1]!r} from {by[name]})"
    return out, notes


def decimal_evidence(cell: str) -> str | None:
    """The decimal mark one CSV cell shows beyond doubt (``12,5``: ``,``; ``1,234.5``: ``.``).

    ``1,234`` and ``1.234`` show nothing: either mark may be a thousands separator.
    """
    m = VALUE.fullmatch(cell.strip())
    if m is None or _LEADING_ZERO.match(m["body"]):
        return None
    fits = {d for (g, d), p in _PATTERNS.items() if p.fullmatch(m["body"])}
    if len(fits) != 1:
        return None
    mark = fits.pop()
    body = m["body"]
    return mark if ("," in body or "." in body) else None


_POINT_THOUSANDS = r"[+-]?[1-9]\d{0,2}\.\d{3}"


def refuse_ambiguous_points(frame: pd.DataFrame, path: Any, opts: dict[str, Any]) -> None:
    """Refuse float columns pandas read from text that is all like ``1.234`` in a CSV whose
    dialect shows no decimal mark (not comma-delimited, nothing like ``12,5`` or ``12.5``).

    ``1.234`` is 1.234 with a decimal point or 1234 with a thousands point (as
    German and Italian exports write it); pandas reads the former.

    Raises
    ------
    DataError
        Naming the file, the column and a value.
    """
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if not floats:
        return
    text = pd.read_csv(path, usecols=floats, dtype=str, **opts)
    for name in floats:
        values = text[name].dropna().str.strip()
        values = values[values.ne("")]
        if len(values) and values.str.fullmatch(_POINT_THOUSANDS).all():
            raise DataError(
                f"{path}: column {name!r} is ambiguous: {values.iloc[0]!r} (data row "
                f"{int(values.index[0]) + 1}) reads as {float(values.iloc[0])!r} with decimal "
                f"'.', or as {int(values.iloc[0].replace('.', ''))} with thousands separator "
                "'.', and nothing else in the file shows which decimal mark it uses; set "
                "data.read.decimal ('.' or ',') in the config, or write the numbers without "
                "thousands separators"
            )
