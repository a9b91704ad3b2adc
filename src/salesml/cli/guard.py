"""What every command does before work starts: check its options, and how it fails.

A command checks each path it will read or write and each number it was
given before it loads a library or touches a file, so a mistake costs
nothing and leaves nothing behind. A refusal is one paragraph on stderr and
exit code 2 (:func:`fail`); an interruption is one line and 130 or 143
(:func:`user_errors`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from salesml.io.paths import LOOP


def fail(message: str, code: int = 2) -> None:
    """Print ``message`` as one ``error:`` paragraph on stderr and exit with ``code``."""
    from rich.console import Console
    from rich.markup import escape

    # Escaped: messages quote column names and values, which may contain [brackets].
    # One paragraph: a library's multi-line text inside a message is joined.
    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input (a SalesmlError) becomes one paragraph on stderr and exit code 2.

    An interruption (Ctrl-C, SIGTERM) becomes one line and exit code 130 or 143.
    """
    from salesml.errors import SalesmlError

    try:
        yield
    except SalesmlError as exc:
        fail(str(exc))
    except KeyboardInterrupt as exc:
        from salesml.runtime.interrupt import exit_code

        fail(
            f"{_stopped_by(exit_code(exc) - 128)}: the open MLflow runs are marked KILLED; no summary.json or report "
            "was written for this run",
            code=exit_code(exc),
        )


def _stopped_by(signum: int) -> str:
    """How a stop is named on screen: ``interrupted (Ctrl-C)`` or ``terminated (SIGTERM)``."""
    import signal

    return "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (Ctrl-C)"


def in_range(value: int | None, option: str, low: int, high: int | None = None) -> None:
    """Refuse ``value`` of ``option`` outside ``low``..``high`` (None: not given, fine)."""
    if value is None:
        return
    if value < low or (high is not None and value > high):
        span = f"from {low:,} to {high:,}" if high is not None else f"at least {low:,}"
        fail(f"{option} {value}: must be {span}")


def _kind(path: Path, option: str) -> str | None:
    """``"file"``, ``"folder"``, ``"other"`` or None (absent); a symlink loop is refused."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "link" if path.is_symlink() else None
    except NotADirectoryError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Refused(f"{option} {path}: {LOOP}") from None
        raise _Refused(f"{option} {path}: cannot be read ({exc.strerror})") from None
    import stat

    if stat.S_ISDIR(st.st_mode):
        return "folder"
    return "file" if stat.S_ISREG(st.st_mode) else "other"


class _Refused(Exception):
    """A path check's finding, turned into a refusal by the public checks."""


def _ancestors_ok(path: Path, option: str) -> None:
    """The first existing folder above ``path`` is a writable folder, not a file."""
    for parent in path.absolute().parents:
        kind = _kind(parent, option)
        if kind is None:
            continue
        if kind != "folder":
            raise _Refused(f"{option} {path}: {parent} is a file, not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise _Refused(f"{option} {path}: {parent} is not writable")
        return


def output_file(path: Path, option: str) -> None:
    """A file the command will write: not a folder, below a writable folder."""
    try:
        kind = _kind(path, option)
        if kind == "link":
            raise _Refused(f"{option} {path}: a symbolic link to nothing")
        if kind in ("folder", "other"):
            raise _Refused(
                f"{option} {path}: is a {kind if kind == 'folder' else 'special file'}; give a file name"
            )
        if kind == "file" and not os.access(path, os.W_OK):
            raise _Refused(f"{option} {path}: exists and is read-only")
        _ancestors_ok(path, option)
    except _Refused as exc:
        fail(str(exc))


def output_folder(path: Path, option: str, empty: bool = False) -> None:
    """A folder the command will write into (``empty``: a new one or an empty one)."""
    try:
        kind = _kind(path, option)
        if kind == "link":
            raise _Refused(f"{option} {path}: a symbolic link to nothing")
        if kind in ("file", "other"):
            raise _Refused(f"{option} {path}: is a file, not a folder")
        if kind == "folder":
            if not os.access(path, os.W_OK | os.X_OK):
                raise _Refused(f"{option} {path}: is not writable")
            if empty and any(path.iterdir()):
                raise _Refused(f"{option} {path}: exists and is not empty; give a new folder")
            return
        _ancestors_ok(path, option)
    except _Refused as exc:
        fail(str(exc))


def input_path(path: Path, option: str, folder: bool = False) -> None:
    """A file (or ``folder``) the command will read: present, of that kind, readable."""
    want = "folder" if folder else "file"
    try:
        kind = _kind(path, option)
        if kind in (None, "link"):
            raise _Refused(f"{option} {path}: not found")
        if kind != want:
            raise _Refused(
                f"{option} {path}: is a {'folder' if kind == 'folder' else 'file'}, not a {want}"
            )
        if not os.access(path, os.R_OK):
            raise _Refused(f"{option} {path}: is not readable")
    except _Refused as exc:
        fail(str(exc))


SEED_MAX = 2**32 - 1
"""The largest seed every generator salesml seeds accepts (numpy's legacy ones)."""


def free_port(host: str, port: int) -> None:
    """Refuse a ``host``/``port`` that cannot be listened on (taken, or an unknown address)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"--host {host!r}: not an address of this machine ({exc.strerror})")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"--host {host} --port {port}: cannot listen there ({exc.strerror})")


class Stopped(BaseException):
    """Ctrl-C or SIGTERM outside a run (scoring, export, a report): unwinds, then exits.

    Not a ``KeyboardInterrupt``: click would turn that into "Aborted!" and exit code 1.
    Inside a run, :func:`salesml.runtime.interrupt.interruptible` takes over.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


def main_guarded(run: Callable[[], object]) -> None:
    """Run the command line; a signal outside a run unwinds (temp files are removed) and
    ends with one line and exit code 130 (Ctrl-C) or 143 (SIGTERM)."""
    import signal
    import sys

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        run()
    except Stopped as exc:
        sys.stderr.write(f"error: {_stopped_by(exc.signum)}: stopped before the command finished\n")
        _exit_now(128 + exc.signum)
    except SystemExit as exc:
        if exc.code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            _exit_now(int(exc.code))
        _finished()
        raise
    _finished()


def _finished() -> None:
    """The command is over: from here a signal is ignored.

    What is left is the interpreter's teardown (most of a second with MLflow,
    scikit-learn and LightGBM loaded), during which Python hands the signals back to
    their default action: a Ctrl-C there would kill a finished command silently, with
    exit code -2 instead of 0 (its output and summary.json are complete by then).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _exit_now(code: int) -> None:
    """End a stopped command without the interpreter's finalization.

    By now everything has unwound: temporary files are removed, MLflow runs marked
    KILLED, the message written. A native thread may still be busy, though (an OpenMP
    team of LightGBM's, a bootstrap worker inside numpy): finalizing the interpreter under
    it can abort the process (SIGABRT, "the GIL is released") instead of exiting with
    130 or 143. The streams and log handlers are flushed first.
    """
    import contextlib
    import logging
    import os
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # a closed or broken pipe: there is no one left to tell, and the exit code says it
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
