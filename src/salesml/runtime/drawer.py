"""Figures drawn in a worker process while the run goes on.

A task describes each figure as a :class:`~salesml.io.figures.Drawing` (a
module-level function, its arguments and the file it writes) instead of drawing
it. :class:`Drawer` draws them in one worker process, so matplotlib's work
(Python code, which holds the interpreter's lock: a thread would not run beside
the fits) uses the second core while the run fits and logs the next candidate.

The worker is a fresh interpreter (``python -m salesml.runtime.drawer``), not a
fork (this process may hold threads, and a forked child can inherit a lock
nobody releases) and not a multiprocessing spawn (which re-runs the user's main
script in the child when it has no ``if __name__ == "__main__"`` guard). It is
started once per process and reused by every later run; it exits when this
process closes its input. Jobs and results travel as length-prefixed pickles
over its stdin and a pipe of its own. What a drawing prints or warns is sent
back with its files and logged here by :meth:`Drawer.result` (logger
``salesml.drawer``, which a run's :func:`~salesml.runtime.logfile.library_log`
writes to ``salesml.log``); what the worker itself writes to stderr (a crash) is
kept in a file and quoted if it dies.

A drawing that fails raises in the worker; :meth:`Drawer.result` raises a
:class:`DrawingError` with the worker's traceback text. Nothing is dropped.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

__all__ = ["Drawer", "DrawingError", "drawer"]

_HEADER = struct.Struct("!Q")
#: A submitted batch: its files and what its drawings printed or warned, once drawn.
Batch = Future[tuple[list[Path], list[str]]]


class DrawingError(RuntimeError):
    """A figure failed to draw in the worker; the message holds its traceback."""


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next object on ``stream``; None at its end."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    return pickle.loads(stream.read(size))


def draw_all(drawings: Sequence[Any]) -> list[Path]:
    """Draw each :class:`~salesml.io.figures.Drawing` here, in order; return their files."""
    return [drawing() for drawing in drawings]


class Drawer:
    """Draws batches of drawings in a worker process, or here when ``background`` is off.

    Parameters
    ----------
    background : bool
        Draw in the worker (default: on a POSIX system with more than one core; the
        worker's result pipe is passed as a file descriptor, which Windows does not do).
    """

    def __init__(self, background: bool | None = None) -> None:
        if background is None:
            background = os.name == "posix" and (os.cpu_count() or 1) > 1
        self.background = background
        self._proc: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, Batch] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._next = 0

    def submit(self, drawings: Sequence[Any]) -> Batch:
        """Start drawing ``drawings``; pass the future to :meth:`result` for their files."""
        future: Batch = Future()
        if not drawings:
            future.set_result(([], []))
            return future
        if not self.background:
            import traceback

            try:
                future.set_result((draw_all(drawings), []))
            except Exception:  # handed to the caller, as the worker's would be
                future.set_exception(DrawingError(traceback.format_exc()))
            return future
        # the worker keeps the folder it started in: relative paths are this process's
        jobs = [replace(d, path=Path(d.path).absolute()) for d in drawings]
        with self._lock:
            proc = self._start()
            job, self._next = self._next, self._next + 1
            self._pending[job] = future
            assert proc.stdin is not None
            try:
                _send(proc.stdin, (job, jobs))
            except (BrokenPipeError, OSError) as exc:
                del self._pending[job]
                raise DrawingError(f"the figure worker is gone: {exc}") from exc
        return future

    def result(self, future: Batch) -> list[Path]:
        """The files of a submitted batch, once drawn; :class:`DrawingError` if one failed.

        What the drawings printed or warned in the worker is logged here (logger
        ``salesml.drawer``).
        """
        import logging

        paths, said = future.result()
        for text in said:
            logging.getLogger("salesml.drawer").warning(text)
        return paths

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        import tempfile

        if self._proc is not None and self._proc.stdin is not None:  # a worker that died
            self._proc.stdin.close()
        self._pending = {}  # this worker's jobs (a dead one's are failed by its own thread)
        read, write = os.pipe()
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (the collecting thread closes it)
        env = {
            **os.environ,
            "SALESML_DRAWER_FD": str(write),
            "MPLBACKEND": "Agg",
            # this process's import path: salesml and a drawing's module import there as
            # here (a notebook that put src/ on sys.path, a test folder)
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "salesml.runtime.drawer"],
            stdin=subprocess.PIPE,
            stdout=errors,
            stderr=errors,
            pass_fds=(write,),
            env=env,
            start_new_session=True,  # Ctrl-C interrupts the run, not a drawing half-written
        )
        os.close(write)
        results = os.fdopen(read, "rb")
        self._thread = threading.Thread(
            target=self._collect,
            args=(self._proc, results, errors, self._pending),
            name="salesml-drawer",
            daemon=True,
        )
        self._thread.start()
        return self._proc

    def _collect(
        self,
        proc: subprocess.Popen[bytes],
        results: IO[bytes],
        errors: IO[bytes],
        pending: dict[int, Batch],
    ) -> None:
        """Hand each result the worker sends to its future; fail the rest if it dies."""
        with results, errors:
            while (message := _receive(results)) is not None:
                job, ok, payload, said = message
                with self._lock:
                    future = pending.pop(job)
                if ok:
                    future.set_result((payload, said))
                else:
                    future.set_exception(DrawingError(payload))
            code = proc.wait()
            with self._lock:
                left = list(pending.values())
                pending.clear()
            if left:
                errors.seek(0)
                tail = errors.read()[-4000:].decode(errors="replace").strip()
                why = f"the figure worker exited with code {code}" + (f": {tail}" if tail else "")
                for future in left:
                    future.set_exception(DrawingError(why))

    def close(self, wait: bool = True) -> None:
        """Close the worker's input: it finishes what it was given and exits.

        ``wait``: until it has. At this process's exit it is not waited for (every run
        has its figures already): a Ctrl-C in those last moments would otherwise land
        in the wait and end a finished command with an interruption.
        """
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
            if wait:
                proc.wait()
        if wait and self._thread is not None:
            self._thread.join()


_DRAWER: Drawer | None = None


def drawer() -> Drawer:
    """This process's drawer, its worker started at the first drawing and kept for later runs."""
    global _DRAWER
    if _DRAWER is None:
        import atexit

        _DRAWER = Drawer()
        atexit.register(_DRAWER.close, wait=False)
    return _DRAWER


def _serve() -> None:
    """The worker: draw each batch read from stdin, send back its files or the traceback.

    What a batch prints and warns is sent back with it (the parent logs it).
    """
    import io
    import signal
    import traceback
    import warnings
    from contextlib import redirect_stderr, redirect_stdout

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    out = os.fdopen(int(os.environ["SALESML_DRAWER_FD"]), "wb")
    jobs = sys.stdin.buffer
    from salesml.io.figures import pyplot

    pyplot()  # matplotlib loads while the parent still fits its first candidate
    while (message := _receive(jobs)) is not None:
        job, drawings = message
        text = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, redirect_stdout(text):
            warnings.simplefilter("default")
            with redirect_stderr(text):
                try:
                    paths, ok = draw_all(drawings), True
                except Exception:  # sent back whole: the parent raises it as a DrawingError
                    paths, ok = traceback.format_exc(), False
        said = [f"{w.category.__name__}: {w.message}" for w in caught]
        said += [text.getvalue().strip()] if text.getvalue().strip() else []
        _send(out, (job, ok, paths, said))


if __name__ == "__main__":
    _serve()
