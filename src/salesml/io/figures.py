"""Figures written to disk: matplotlib with its headless backend, imported only when drawing.

:class:`Drawing` describes a figure without drawing it, so it can be drawn in
another process (:mod:`salesml.runtime.drawer`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (works without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 90) -> Path:
    """Write ``fig`` to ``path`` (folders created) and close it; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


@dataclass(frozen=True)
class Drawing:
    """A figure to draw: ``draw(*args, path=path, **kwargs)`` writes ``path``.

    ``draw`` is a module-level function and the arguments plain data (arrays,
    frames, numbers), so a drawing pickles and can be drawn in a worker process.
    """

    path: Path
    draw: Callable[..., Path]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __call__(self) -> Path:
        """Draw the figure here; return its file."""
        return self.draw(*self.args, path=self.path, **self.kwargs)
