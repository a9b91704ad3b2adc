"""Interruptions that close cleanly: Ctrl-C and SIGTERM end runs as KILLED.

Python turns Ctrl-C (SIGINT) into :class:`KeyboardInterrupt`, so ``finally``
blocks and context managers run. SIGTERM (what ``kill``, Docker, Kubernetes and
batch schedulers send) kills the process without either; :func:`interruptible`
turns it into :class:`Terminated`, a ``KeyboardInterrupt``, for the duration of
a run. The tracker then marks the open MLflow runs KILLED, and nothing half
written is left, because every file salesml writes is written atomically.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_code(exc: KeyboardInterrupt) -> int:
    """The shell's exit code for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


@contextmanager
def interruptible() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM inside the block (main thread only).

    Outside the main thread, signal handlers cannot be installed; the block runs
    unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    owner = os.getpid()

    def _raise(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            # a forked worker (statsforecast's process pool) inherits the handler; when its
            # pool stops it, it ends as it would have without salesml: quietly, by the signal
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
