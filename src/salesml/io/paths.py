"""Names from configs made safe to use as file and folder names.

An experiment's or candidate's ``name`` is shown as given (tables, summary,
MLflow, report), but when it becomes part of a path it is reduced to one
harmless path component: ``../../etc`` becomes ``etc``, ``a/b`` becomes
``a_b``, and NUL bytes, colons, spaces and other characters that are special
to some file system or shell become ``_``. The result never leaves the folder
it is joined to.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from pathlib import Path

MAX_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"{p}{i}" for p in ("COM", "LPT") for i in range(10)),
}


def safe_name(name: str, fallback: str = "unnamed") -> str:
    """``name`` as one path component: ASCII letters, digits, ``_``, ``.`` and ``-`` only.

    Parameters
    ----------
    name : str
        A display name from a config (experiment, candidate, funnel).
    fallback : str
        Used when nothing of ``name`` is left (e.g. ``..`` or ``///``).

    Returns
    -------
    str
        Never empty, never ``.`` or ``..``, never starting with ``.`` or ``-`` (no
        hidden files, no options), at most :data:`MAX_LENGTH` characters.

    Examples
    --------
    >>> safe_name("../../etc")
    'etc'
    >>> safe_name("churn v2: EU/US")
    'churn_v2_EU_US'
    """
    slug = _UNSAFE.sub("_", str(name)).strip("._-")[:MAX_LENGTH].rstrip("._-")
    if not slug:
        return fallback
    if slug.split(".")[0].upper() in _WINDOWS_RESERVED:
        slug = f"_{slug}"
    return slug


def safe_names(names: Iterable[str]) -> dict[str, str]:
    """A distinct :func:`safe_name` for each name: ``a b`` and ``a_b`` get ``a_b`` and ``a_b-2``."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in out:
            continue
        base = slug = safe_name(name)
        n = 1
        while slug.lower() in taken:  # case-insensitive file systems
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug.lower())
        out[name] = slug
    return out


LOOP = "a symbolic link that points to itself (a loop)"


def missing_reason(path: Path, noun: str) -> str:
    """Why ``path`` cannot be opened as a ``noun``: a folder, a link loop, or not found."""
    if path.is_dir():
        return f"is a folder, not a {noun}"
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return LOOP
    return f"{noun} not found"
