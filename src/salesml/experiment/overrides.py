"""``--set key.sub=value`` overrides applied to a raw config mapping, and YAML error text.

Kept apart from :mod:`salesml.experiment.config` (the typed models) because both the CLI's
``--set`` and a config file's own parse errors need the same one-line wording.
"""

from __future__ import annotations

from typing import Any

import yaml

from salesml.errors import ConfigError


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: position and problem (PyYAML's own text spans lines).

    Parameters
    ----------
    exc : yaml.YAMLError
        The error PyYAML raised.

    Returns
    -------
    str
        ``" at line L, column C: problem"``, or ``": problem"`` without a position.
    """
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: {' '.join(str(problem).split())}"


def _set_path(raw: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node: Any = raw
    for i, key in enumerate(keys[:-1]):
        nxt = keys[i + 1]
        if isinstance(node, list):
            node = node[int(key)]
            continue
        if key not in node or node[key] is None:
            node[key] = [] if nxt.isdigit() else {}
        node = node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides; values are parsed as YAML scalars or lists.

    Parameters
    ----------
    raw : dict
        The config as read from YAML; modified in place and returned.
    overrides : list of str
        Items like ``split.test_size=0.3`` or ``models=[logistic]``.
    """
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key.sub=value")
        try:
            value = yaml.safe_load(text) if text.strip() else None
            _set_path(raw, key.strip(), value)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {item!r}: not a valid YAML value{yaml_problem(exc)}") from exc
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            raise ConfigError(f"--set {item!r}: cannot apply ({exc})") from exc
    return raw
