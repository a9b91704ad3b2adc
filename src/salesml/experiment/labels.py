"""Values of an outcome column as a config names them: how ``Yes``, ``1`` and ``true`` compare."""

from __future__ import annotations

import math
import numbers
from typing import Any

# One value of a target column as a config names it (YAML keeps its type).
Label = str | int | float | bool


def label_key(value: Any) -> str | float:
    """What a target value or a configured label is compared by.

    Booleans, numbers and text that reads as a finite number (``"1"``, ``"1.0"``)
    or as ``true``/``false`` (any case) compare as numbers (``True`` is 1); any
    other value compares as its text, exactly (case and spaces count).
    """
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
        value = value.item()
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    text = str(value)
    if text.lower() in ("true", "false"):
        return float(text.lower() == "true")
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def as_labels(value: Label | list[Label] | None) -> tuple[Label, ...] | None:
    """A configured ``positive``/``negative`` as a tuple of values (None when not given)."""
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else (value,)
