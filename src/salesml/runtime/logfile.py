"""Library messages go to a log file, not the screen.

While salesml runs an experiment or scores a file, the screen shows what the
user needs (progress, tables, one-line verdicts). MLflow's and its
dependencies' log records and Python warnings raised by libraries are
written to ``salesml.log`` in the output folder instead; the run names the
file. Warnings salesml's own code could cause are fixed where they arise
(explicit model schemas, typed pyfunc classes); what remains here comes from
inside the libraries.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# psycopg: MLflow re-logs a run's metrics for each logged model, the PostgreSQL
# store rejects the duplicates and MLflow inserts them one by one; psycopg warns as
# its aborted pipeline closes, though nothing is lost.
LIBRARY_LOGGERS = (
    "mlflow",
    "salesml.drawer",  # what a figure drawn in the worker process printed or warned
    "alembic",
    "py4j",
    "urllib3",
    "numba",
    "fugue",
    "statsforecast",
    "psycopg",
)


class _RedactingFormatter(logging.Formatter):
    """Masks passwords in URIs (a tracking URI quoted by a library, its tracebacks too)."""

    def format(self, record: logging.LogRecord) -> str:
        from salesml.tracking.store import redact_uri

        return redact_uri(super().format(record))


def show_warning(text: str) -> None:
    """One ``warning:`` line on stderr (a salesml warning the user should see)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(
        f"[yellow]warning:[/] {escape(' '.join(text.split()))}", highlight=False, soft_wrap=True
    )


@contextmanager
def own_warnings_on_screen(log: bool = False) -> Iterator[None]:
    """Show :class:`~salesml.errors.SalesmlWarning` s as one line on stderr.

    Other warnings go where they went before; with ``log`` (inside
    :func:`library_log`) salesml's warnings are written to the log file too.
    """
    from salesml.errors import SalesmlWarning

    with warnings.catch_warnings():
        before = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
            if issubclass(category, SalesmlWarning):
                show_warning(str(message))
                if not log:
                    return
            before(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


class _LazyFileHandler(logging.FileHandler):
    """A file handler that makes its folder when it first writes."""

    def _open(self):  # type: ignore[no-untyped-def]
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


@contextmanager
def library_log(path: Path, lazy: bool = False) -> Iterator[Path]:
    """Send library log records and warnings to ``path`` for the duration of the block.

    salesml's own warnings (:class:`~salesml.errors.SalesmlWarning`) are also shown on
    screen, in one line. Passwords in URIs are masked in the file. ``lazy``: the file
    (and its folder) is created only when there is something to write, so a command
    refused before its work leaves nothing behind.
    """
    if lazy:
        handler: logging.FileHandler = _LazyFileHandler(path, encoding="utf-8", delay=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in (*LIBRARY_LOGGERS, "py.warnings"):
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate, logger.level))
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False
        if name != "py.warnings":
            logger.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings(), own_warnings_on_screen(log=True):
            warnings.simplefilter("default")
            yield path
    finally:
        logging.captureWarnings(False)
        for logger, handlers, propagate, level in saved:
            logger.removeHandler(handler)
            for h in handlers:
                logger.addHandler(h)
            logger.propagate = propagate
            logger.setLevel(level)
        handler.close()
