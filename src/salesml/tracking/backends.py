"""Opening an MLflow store safely: reachable, schema created once, passwords masked.

MLflow creates (and migrates) its database schema the first time a process
opens a store that has no tables. Several ``salesml run`` processes started
together against a new store would each do it at the same moment and all but
one crash (``duplicate column name: step``, ``table ... already exists``).
:func:`open_store` creates the schema once, under a cross-process lock:

- sqlite: a file lock beside the database file (``mlflow.db.lock``);
- PostgreSQL: a session-level ``pg_advisory_lock`` held on the server;
- other databases: no lock (MLflow's own behaviour).

It also connects before anything else, so an unreachable server or a wrong
password is one clear :class:`~salesml.errors.TrackingError` before any
training starts. No message shows the password of the URI (see :func:`redact_uri`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from salesml.errors import TrackingError

_DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
_PASSWORD = re.compile(r"(//[^/?#@:]*:)[^/?#@]*@")
# pg_advisory_lock key: any fixed 64-bit integer shared by every salesml process.
_PG_LOCK_KEY = 0x5A1E5_3C4E3A
LOCK_TIMEOUT_S = 300.0
CONNECT_TIMEOUT_S = 10
_opened: set[str] = set()

T = TypeVar("T")


_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^/\s]*@")
_SECRET_QUERY = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|secret|token|access_token|api_key|apikey)=)[^&;\s]*",
    re.IGNORECASE,
)


def redact_uri(uri: str) -> str:
    """``uri`` (or any text holding URIs) with passwords replaced by ``***``.

    ``postgresql://ann:pa55@db/mlflow`` becomes ``postgresql://ann:***@db/mlflow``;
    secrets in the query (``?password=...``, ``token=``, ``api_key=``) are masked
    too. A URI without a password (``sqlite:///...``, ``http://host:5000``) is
    returned unchanged. Every place salesml shows, logs or writes a tracking URI
    (or an error message that may quote one) passes it through here.
    """
    masked = _USERINFO.sub(r"\g<head>:***@", uri)
    return _SECRET_QUERY.sub(r"\g<head>***", masked)


def _scrub(text: str, uri: str) -> str:
    """``text`` without the URI's password, wherever it appears, on one line."""
    from urllib.parse import unquote

    match = _PASSWORD.search(uri)
    text = " ".join(text.split())
    if match:
        secret = match.group(0)[len(match.group(1)) : -1]
        for form in {secret, unquote(secret)}:
            if form:
                text = text.replace(form, "***")
    return text


def _dialect(uri: str) -> str | None:
    scheme = uri.split(":", 1)[0].lower()
    base = scheme.split("+", 1)[0]
    return base if base in _DATABASES and "://" in uri else None


def open_store(uri: str) -> None:
    """Check that the MLflow store at ``uri`` can be used; create its schema once.

    Idempotent within a process. Non-database stores (``file:``, ``http:``, ...)
    are left to MLflow.

    Raises
    ------
    TrackingError
        The server is unreachable, refuses the credentials, the database
        driver is missing, or MLflow cannot open the store (e.g. an old schema).
        The message names the URI with its password masked.
    """
    dialect = _dialect(uri)
    if dialect is None or uri in _opened:
        return
    if dialect == "sqlite":
        lock = _sqlite_lock(uri)
    elif dialect == "postgresql":
        lock = _pg_lock(uri)
    else:
        lock = _no_lock(uri)
    with lock:
        if dialect == "sqlite":
            _create_sqlite_whole(uri)
        _create_schema(uri)
    _opened.add(uri)


def _create_sqlite_whole(uri: str) -> None:
    """A new sqlite store is built in a temp file and renamed into place.

    MLflow creates some forty tables one migration at a time (1.3 s here); a
    Ctrl-C in the middle would leave a store that every later run refuses. Built
    aside, the store is there whole or not at all (the caller holds the file
    lock). The empty store of this MLflow version is kept as a template
    (:func:`store_template`): later new stores start as its copy, which MLflow
    then opens and checks like any store (0.03 s).
    """
    import shutil
    import tempfile

    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:" or Path(database).exists():
        return
    path = Path(database).resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    Path(tmp).unlink()  # MLflow creates the file itself
    template = store_template()
    try:
        if template is not None and template.exists():
            shutil.copyfile(template, tmp)
        _create_schema(f"sqlite:///{tmp}")
        if template is not None and not template.exists():
            _keep_template(Path(tmp), template)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, f"{tmp}-journal", f"{tmp}-wal", f"{tmp}-shm"):
            Path(leftover).unlink(missing_ok=True)


def store_template() -> Path | None:
    """Where the empty sqlite store of the installed MLflow is kept, None if switched off.

    ``SALESML_CACHE_DIR`` (default ``$XDG_CACHE_HOME/salesml`` or ``~/.cache/salesml``);
    ``SALESML_CACHE_DIR=off`` builds every new store from MLflow's migrations.
    """
    import mlflow

    folder = os.environ.get("SALESML_CACHE_DIR")
    if folder == "off":
        return None
    if not folder:
        folder = str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "salesml")
    return Path(folder) / f"mlflow-{mlflow.__version__}-empty.db"


def _keep_template(store: Path, template: Path) -> None:
    """Copy a just-built empty store to ``template`` (whole, or not at all).

    A cache that cannot be written (a read-only home) only means the next new
    store is built from the migrations again; the run does not depend on it.
    """
    import shutil
    import tempfile

    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".template.", dir=template.parent)
        os.close(fd)
        try:
            shutil.copyfile(store, tmp)
            os.replace(tmp, template)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:  # no cache here; said in the library log, the run goes on
        import logging

        logging.getLogger("mlflow").info("salesml: no store template at %s: %s", template, exc)


def _create_schema(uri: str) -> None:
    """Open MLflow's tracking and registry stores once: this creates the tables if missing."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        client = MlflowClient(uri, registry_uri=uri)
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
    except (MlflowException, SQLAlchemyError) as exc:
        raise TrackingError(
            f"tracking store {redact_uri(uri)}: MLflow cannot open it: "
            f"{_scrub(str(getattr(exc, 'message', exc)), uri)}"
        ) from exc


@contextmanager
def _sqlite_lock(uri: str) -> Iterator[None]:
    from filelock import FileLock, Timeout
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrackingError(
            f"tracking store {uri}: cannot create its folder {path.parent}: {exc}"
        ) from exc
    lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout as exc:
        raise TrackingError(
            f"tracking store {uri}: another process held {lock.lock_file} for more than "
            f"{LOCK_TIMEOUT_S:.0f} s while creating the MLflow schema"
        ) from exc
    except OSError as exc:
        raise TrackingError(f"tracking store {uri}: cannot lock {lock.lock_file}: {exc}") from exc
    try:
        yield
    finally:
        lock.release()


def _connect_error(uri: str, exc: BaseException) -> TrackingError:
    reason = _scrub(str(getattr(exc, "orig", None) or exc), uri).rstrip(".")
    return TrackingError(
        f"tracking store {redact_uri(uri)} is not reachable ({reason}); check "
        "MLFLOW_TRACKING_URI (host, port, database, user, password) and that the server is running"
    )


def _engine(uri: str) -> Any:
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    timeout = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        return sqlalchemy.create_engine(
            uri,
            poolclass=NullPool,
            connect_args=timeout if _dialect(uri) in ("postgresql", "mysql") else {},
        )
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as exc:
        raise TrackingError(
            f"tracking store {redact_uri(uri)}: the database driver is missing ({exc}). "
            "For PostgreSQL install salesml[postgres] (psycopg) and use a "
            "postgresql+psycopg:// URI."
        ) from exc


@contextmanager
def _pg_lock(uri: str) -> Iterator[None]:
    import sqlalchemy

    engine = _engine(uri)
    try:
        try:
            conn = engine.connect()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise _connect_error(uri, exc) from exc
        with conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
    finally:
        engine.dispose()


@contextmanager
def _no_lock(uri: str) -> Iterator[None]:
    import sqlalchemy

    engine = _engine(uri)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _connect_error(uri, exc) from exc
    finally:
        engine.dispose()
    yield


# Messages of a busy store or of a concurrent writer that won: the action can be repeated.
_TRANSIENT = (
    "database is locked",  # sqlite: another process holds the write lock
    "Model Version creation error",  # MLflow gave up after its own retries
    "could not serialize access",  # PostgreSQL serialization failure
    "UNIQUE constraint failed",  # sqlite: e.g. two processes inserting one alias
    "duplicate key value violates unique constraint",  # PostgreSQL: the same
)


def with_retry(action: Callable[[], T], what: str, attempts: int = 6, first_wait: float = 0.5) -> T:
    """``action()``, retried with doubling waits on a busy store's transient errors.

    Retries only errors whose message says the database was locked or a
    concurrent write won (sqlite's ``database is locked``, MLflow's
    ``Model Version creation error``, a unique-key violation such as two
    processes creating the same alias at once); each retry is logged. The last
    failure is raised as a :class:`TrackingError` naming ``what`` and chained
    to it. Only for actions that are safe to repeat after such a failure.
    """
    import logging

    log = logging.getLogger("mlflow")
    wait = first_wait
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            text = str(exc)
            if not any(t in text for t in _TRANSIENT):
                raise
            if attempt == attempts:
                raise TrackingError(
                    f"{what}: the tracking store stayed busy after {attempts} attempts: "
                    f"{' '.join(text.split())[:300]}"
                ) from exc
            log.info("%s: store busy (%s); retry %d in %.1f s", what, text[:200], attempt, wait)
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


def create_experiment_once(name: str, location: str, tags: dict[str, str]) -> str:
    """Create the MLflow experiment ``name``; return its id.

    When another process created it between our look-up and this call (MLflow
    answers ``RESOURCE_ALREADY_EXISTS``), the existing experiment's id.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.create_experiment(name, artifact_location=location, tags=tags)
    except MlflowException as exc:
        found = mlflow.get_experiment_by_name(name)
        if exc.error_code != "RESOURCE_ALREADY_EXISTS" or found is None:
            raise
        return found.experiment_id
