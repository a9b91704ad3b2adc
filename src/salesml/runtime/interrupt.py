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
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_code(exc: KeyboardInterrupt) -> int:
    """The shell's exit code for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


_state = {"inside": False, "hooked": False, "blocked": False}
_TERM = {signal.SIGTERM}


def _block_before_fork() -> None:
    """Hold SIGTERM back across ``fork`` while salesml's handler is installed.

    Between the ``fork`` system call and :func:`_restore_in_child`, a child still
    has the parent's Python handler; a SIGTERM landing there (a pool that
    stops its workers right after starting them) would be lost. Blocked, it
    stays pending until the child has the default disposition back.
    """
    if _state["inside"]:
        _state["blocked"] = signal.SIGTERM in signal.pthread_sigmask(signal.SIG_BLOCK, _TERM)


def _unblock_in_parent() -> None:
    if _state["inside"] and not _state["blocked"]:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)


def _restore_in_child() -> None:
    """In a forked child (a process pool's worker), SIGTERM ends the process at once.

    A Python-level handler in a worker blocked on a lock can miss the signal (it only
    runs between bytecodes), and the pool that stops its workers waits forever. A
    SIGTERM that arrived since the fork is pending and ends the child on unblocking.
    """
    if _state["inside"]:
        _state["inside"] = False
        # the default, not the handler salesml replaced: that may be another Python handler
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if not _state["blocked"]:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)


@contextmanager
def interruptible() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM inside the block (main thread only).

    Outside the main thread, signal handlers cannot be installed; the block runs
    unchanged. Processes forked inside the block get the default back (SIGTERM ends them).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signal.Signals(signum).name)

    if not _state["hooked"]:
        os.register_at_fork(
            before=_block_before_fork,
            after_in_parent=_unblock_in_parent,
            after_in_child=_restore_in_child,
        )
        _state["hooked"] = True
    previous = signal.signal(signal.SIGTERM, _raise)
    hook = sys.unraisablehook
    sys.unraisablehook = _redeliver(hook)
    _state["inside"] = True
    try:
        yield
    finally:
        _state["inside"] = False
        sys.unraisablehook = hook
        signal.signal(signal.SIGTERM, previous)


def _redeliver(previous: Any) -> Any:
    """An unraisable hook that gives a swallowed interruption back to the main thread.

    A signal's exception raised while Python runs a finalizer or a weakref callback
    cannot propagate: Python prints "Exception ignored" and goes on, and the run
    would not stop. The hook has another thread send the same signal to the main
    thread again, so it is handled outside the finalizer, wherever it first landed.
    """

    def hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, KeyboardInterrupt) and _state["inside"]:
            signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            # from this thread the handler would run at once, inside the finalizer again;
            # a moment later the main thread is back in ordinary code. A real signal sent to
            # it (not _thread.interrupt_main) also wakes a sleep or a wait in C.
            main = threading.main_thread().ident
            timer = threading.Timer(0.05, signal.pthread_kill, args=(main, signum))
            timer.daemon = True
            timer.start()
            return
        previous(unraisable)

    return hook
