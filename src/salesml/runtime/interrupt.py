"""Interruptions that close cleanly: Ctrl-C and SIGTERM end runs as KILLED.

Inside :func:`interruptible` (the duration of a run), salesml's own handler
takes Ctrl-C (SIGINT) and SIGTERM (what ``kill``, Docker, Kubernetes and batch
schedulers send). The first signal is recorded and raised at once as
:class:`KeyboardInterrupt` (:class:`Terminated` for SIGTERM), so ``finally``
blocks and context managers run; the tracker marks the open MLflow runs
KILLED, and nothing half written is left, because every file salesml writes is
written atomically.

Where the signal lands does not matter. If Python swallows the exception (it
landed in a finalizer or a weakref callback), the unraisable hook sends the
signal again a moment later; if a library catches it, the recorded request is
raised again at the next safe point (:func:`checkpoint`, called on every
progress event). A second Ctrl-C or SIGTERM while the first is being handled
ends the process at once (exit code 130 or 143).

One place waits: a tracking-store write (:func:`deferred`, :func:`uninterrupted`)
is finished before the interruption is raised, so no write stops halfway.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_code(exc: KeyboardInterrupt) -> int:
    """The shell's exit code for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


_state: dict[str, Any] = {
    "inside": False,
    "hooked": False,
    "blocked": False,
    "requested": None,
    "deferring": 0,
}
_state["sigint"] = signal.default_int_handler
_TERM = {signal.SIGTERM}
_SECOND = (
    "salesml: second {what}: stopping at once; runs still open in MLflow stay RUNNING "
    "and no summary.json was written\n"
)


def requested() -> int | None:
    """The signal number of a stop asked for inside :func:`interruptible`, else None."""
    return _state["requested"]


def checkpoint() -> None:
    """A safe point: raise the interruption again if one was asked for and lost.

    The handler raises at once wherever Python is; if that exception was swallowed
    (a finalizer, a weakref callback, a library catching ``BaseException``), the
    request is still recorded, and the next safe point (the runner calls this
    between candidates and on every progress event) stops the run.
    """
    signum = _state["requested"]
    if signum is not None and _state["inside"]:
        raise _exception(signum)


def _exception(signum: int) -> KeyboardInterrupt:
    if signum == signal.SIGTERM:
        return Terminated(signal.Signals(signum).name)
    return KeyboardInterrupt()


def _handle(signum: int, frame: FrameType | None) -> None:
    """Record the request and raise it; a second signal ends the process at once."""
    if _state.pop("again", False):  # sent again by _redeliver: the same request
        if _state["deferring"]:  # a write is under way: the next checkpoint raises it
            return
        raise _exception(_state["requested"] or signum)
    if _state["requested"] is not None:
        what = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        os.write(2, _SECOND.format(what=what).encode())
        os._exit(128 + signum)
    _state["requested"] = signum
    if signum == signal.SIGINT:
        os.write(2, b"salesml: stopping (press Ctrl-C again to stop at once)\n")
    if _state["deferring"]:  # raised when the write under way has ended (deferred)
        return
    raise _exception(signum)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold an interruption back until the block has ended (a write that must not stop halfway).

    A tracking-store write stopped halfway can leave its database connection, and
    sqlite's write lock, held by the frames of the interruption's traceback; the
    cleanup that marks the runs KILLED then waits on that lock ("database is
    locked") and the run does not stop. Inside the block the first Ctrl-C or
    SIGTERM is recorded and raised as the block ends; a second one still ends the
    process at once. Outside :func:`interruptible`, or off the main thread, the
    block runs unchanged.
    """
    if not _state["inside"] or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = _state["requested"]
    _state["deferring"] += 1
    try:
        yield
    finally:
        _state["deferring"] -= 1
    if not _state["deferring"] and before is None and _state["requested"] is not None:
        raise _exception(_state["requested"])


def uninterrupted(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` run under :func:`deferred`: an interruption waits for it to end."""

    @functools.wraps(function)
    def whole(*args: Any, **kwargs: Any) -> T:
        with deferred():
            return function(*args, **kwargs)

    return whole


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
        signal.signal(signal.SIGINT, _state["sigint"])
        _state["requested"], _state["deferring"] = None, 0
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

    if not _state["hooked"]:
        os.register_at_fork(
            before=_block_before_fork,
            after_in_parent=_unblock_in_parent,
            after_in_child=_restore_in_child,
        )
        _state["hooked"] = True
    previous = signal.signal(signal.SIGTERM, _handle)
    _state["sigint"] = signal.signal(signal.SIGINT, _handle)
    hook = sys.unraisablehook
    sys.unraisablehook = _redeliver(hook)
    _state["inside"], _state["requested"], _state["deferring"] = True, None, 0
    try:
        yield
    finally:
        _state["inside"], _state["requested"], _state["deferring"] = False, None, 0
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, _state["sigint"])
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
            _state["again"] = True
            timer = threading.Timer(0.05, signal.pthread_kill, args=(main, signum))
            timer.daemon = True
            timer.start()
            return
        previous(unraisable)

    return hook
