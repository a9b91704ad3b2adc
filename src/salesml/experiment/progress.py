"""How a run reports its progress: a listener the runner calls, drawn by whoever runs it.

The experiment loop never draws on a terminal itself. It calls a
:class:`Progress` listener: the CLI passes one that draws rich progress bars
and tables (:class:`salesml.screen.RichProgress`), a notebook gets
:class:`PlainProgress` (one line per candidate, the verdict), and
``quiet=True`` gives :class:`QuietProgress`, which shows nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class Progress(Protocol):
    """What the runner tells the one who runs it, in order."""

    def plan(self, name: str, candidates: list[tuple[str, str]]) -> None:
        """The run starts: ``(name, role)`` of every candidate, in order."""

    def candidate(self, name: str, role: str) -> None:
        """Candidate ``name`` is being fitted and evaluated."""

    def candidate_done(self, name: str, status: str, seconds: float) -> None:
        """Candidate ``name`` finished (``ok`` or ``failed``) in ``seconds``."""

    def failed(self, name: str, message: str) -> None:
        """Candidate ``name`` failed with ``message``; the run goes on."""

    def close(self) -> None:
        """The candidates are done, or the run stopped: end any live display."""

    def finished(self, summary: Any, notes: list[str], where: RunFiles) -> None:
        """The run is done: its summary, the task's one-line notes, where its files are."""


class RunFiles:
    """Where a finished run put things: output folder, log, offline store (or None)."""

    def __init__(self, output_dir: Path, log: Path, offline: bool) -> None:
        self.output_dir, self.log, self.offline = output_dir, log, offline

    @property
    def summary(self) -> Path:
        return self.output_dir / "summary.json"


class QuietProgress:
    """Shows nothing (``run_experiment(..., quiet=True)``)."""

    def plan(self, name: str, candidates: list[tuple[str, str]]) -> None:
        pass

    def candidate(self, name: str, role: str) -> None:
        pass

    def candidate_done(self, name: str, status: str, seconds: float) -> None:
        pass

    def failed(self, name: str, message: str) -> None:
        pass

    def close(self) -> None:
        pass

    def finished(self, summary: Any, notes: list[str], where: RunFiles) -> None:
        pass


class PlainProgress(QuietProgress):
    """Compact plain text for notebooks: one line per candidate, the verdict, the summary."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def plan(self, name: str, candidates: list[tuple[str, str]]) -> None:
        self._say(f"{name}: {len(candidates)} candidates")

    def candidate_done(self, name: str, status: str, seconds: float) -> None:
        self._say(f"  {name}: {status} ({seconds:.1f} s)")

    def failed(self, name: str, message: str) -> None:
        self._say(f"  {name} failed: {message}")

    def finished(self, summary: Any, notes: list[str], where: RunFiles) -> None:
        from salesml.experiment.results import champion_verdict

        for line in [*notes, champion_verdict(summary)]:
            if line:
                self._say(line)
        self._say(f"summary: {where.summary}")


class Checkpointed:
    """A listener that passes every event on after a safe-point check.

    ``check`` raises when the run must stop (the runner passes
    :func:`salesml.runtime.interrupt.checkpoint`): an interruption a library
    swallowed stops the run at the next candidate or progress event.
    """

    def __init__(self, inner: Progress, check: Callable[[], None]) -> None:
        self.inner, self.check = inner, check

    def plan(self, name: str, candidates: list[tuple[str, str]]) -> None:
        self.check()
        self.inner.plan(name, candidates)

    def candidate(self, name: str, role: str) -> None:
        self.check()
        self.inner.candidate(name, role)

    def candidate_done(self, name: str, status: str, seconds: float) -> None:
        self.inner.candidate_done(name, status, seconds)
        self.check()

    def failed(self, name: str, message: str) -> None:
        self.inner.failed(name, message)
        self.check()

    def close(self) -> None:
        self.inner.close()  # also on the way out of an interruption: no check here

    def finished(self, summary: Any, notes: list[str], where: RunFiles) -> None:
        self.inner.finished(summary, notes, where)


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()  # type: ignore[attr-defined]
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"
