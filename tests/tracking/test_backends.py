"""Opening a tracking store: masked passwords, clear errors before training, busy retries."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from salesml.errors import TrackingError
from salesml.tracking.backends import open_store, redact_uri, with_retry
from tracking.conftest import PG_PASSWORD, require_psycopg, tiny_config


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        (
            "postgresql+psycopg://ann:p%40ss%2Fw@db.example:5432/mlflow",
            "postgresql+psycopg://ann:***@db.example:5432/mlflow",
        ),
        ("postgresql://ann:secret@127.0.0.1/mlflow", "postgresql://ann:***@127.0.0.1/mlflow"),
        ("postgresql://ann@127.0.0.1/mlflow", "postgresql://ann@127.0.0.1/mlflow"),
        ("https://bot:tok3n@mlflow.example/", "https://bot:***@mlflow.example/"),
        ("sqlite:////tmp/x/mlflow.db", "sqlite:////tmp/x/mlflow.db"),
    ],
)
def test_redact_uri(uri: str, masked: str):
    assert redact_uri(uri) == masked


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket closes


def _salesml_run(config: Path, out: Path, uri: str, cwd: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "SALESML_ARTIFACT_ROOT": str(cwd / "art")}
    return subprocess.run(
        [sys.executable, "-m", "salesml", "run", str(config), "--output-dir", str(out)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_clear_error_before_training(done, out: Path, *phrases: str) -> None:
    err = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "sqlalchemy" not in err.lower()
    for phrase in phrases:
        assert phrase in err, err
    assert "s3cr" not in done.stderr + done.stdout and "***" in err
    assert not (out / "summary.json").exists() and not (out / "plots").exists()


def test_an_unreachable_server_is_one_clear_error_before_training(tmp_path: Path):
    require_psycopg()
    config = tiny_config(tmp_path, "unreachable")
    uri = f"postgresql+psycopg://salesml:s3cr3t@127.0.0.1:{_closed_port()}/mlflow"
    done = _salesml_run(config, tmp_path / "out", uri, tmp_path)
    _assert_clear_error_before_training(
        done, tmp_path / "out", "is not reachable", "salesml:***@127.0.0.1", "MLFLOW_TRACKING_URI"
    )


def test_a_missing_database_driver_names_the_extra(tmp_path: Path):
    with pytest.raises(TrackingError, match=r"driver is missing.*salesml\[postgres\]") as info:
        open_store("postgresql+nosuchdriver://ann:s3cr3t@127.0.0.1:1/mlflow")
    assert "s3cr3t" not in str(info.value) and "ann:***@" in str(info.value)


@pytest.mark.slow
def test_a_wrong_password_is_one_clear_error_before_training(pg_server, tmp_path: Path):
    uri = pg_server.create_database().replace("s3cr", "wrong")
    assert PG_PASSWORD not in uri
    config = tiny_config(tmp_path, "wrong-password")
    done = _salesml_run(config, tmp_path / "out", uri, tmp_path)
    _assert_clear_error_before_training(
        done, tmp_path / "out", "is not reachable", "password authentication failed"
    )
    assert "wrong" not in done.stderr  # the wrong password is not shown either


def _hold_lock(path: Path, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def _insert(path: Path) -> None:
    with sqlite3.connect(path, timeout=0) as conn:
        conn.execute("INSERT INTO t VALUES (1)")


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "busy.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    return path


def test_a_locked_sqlite_store_is_retried_until_free(table: Path):
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(table, 0.6, started))
    holder.start()
    started.wait()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        _insert(table)  # the store really is busy
    with_retry(lambda: _insert(table), "inserting", attempts=6, first_wait=0.1)
    holder.join()
    with sqlite3.connect(table) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1


def test_a_store_busy_for_too_long_raises_a_clear_error(table: Path):
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(table, 1.5, started))
    holder.start()
    started.wait()
    with pytest.raises(TrackingError, match="inserting: .*busy after 3 attempts") as info:
        with_retry(lambda: _insert(table), "inserting", attempts=3, first_wait=0.05)
    holder.join()
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)


def test_other_errors_are_not_retried():
    calls = []

    def fail() -> None:
        calls.append(1)
        raise KeyError("no such run")

    with pytest.raises(KeyError):
        with_retry(fail, "reading", attempts=5, first_wait=0.01)
    assert len(calls) == 1


@pytest.mark.slow  # MLflow's migrations: seconds
def test_a_new_sqlite_store_gets_its_folder_lock_and_schema(tmp_path: Path):
    db = tmp_path / "not" / "yet" / "mlflow.db"
    started = time.perf_counter()
    open_store(f"sqlite:///{db}")
    print(f"new sqlite store: {time.perf_counter() - started:.1f} s")
    assert (db.parent / "mlflow.db.lock").exists()
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert {"experiments", "runs", "metrics", "registered_models", "model_versions"} <= tables
    from mlflow.store.db.utils import _get_latest_schema_revision

    assert revision == _get_latest_schema_revision()


@pytest.mark.slow  # MLflow's migrations: seconds
def test_new_sqlite_stores_start_from_the_template_of_the_first(tmp_path: Path, monkeypatch):
    """The first new store leaves its empty copy; later ones copy it and are the same store."""
    from mlflow import MlflowClient
    from mlflow.store.db.utils import _get_latest_schema_revision

    from salesml.tracking.backends import store_template

    monkeypatch.setenv("SALESML_CACHE_DIR", str(tmp_path / "cache"))
    template = store_template()
    assert template is not None and not template.exists()
    open_store(f"sqlite:///{tmp_path / 'a' / 'mlflow.db'}")
    assert template.exists()
    made = template.stat().st_mtime_ns
    second = tmp_path / "b" / "mlflow.db"
    open_store(f"sqlite:///{second}")
    assert template.stat().st_mtime_ns == made  # copied, not rebuilt
    with sqlite3.connect(second) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert revision == _get_latest_schema_revision() and runs == 0
    client = MlflowClient(f"sqlite:///{second}")
    experiment = client.create_experiment("from-template")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "m", 1.0)
    assert client.get_run(run.info.run_id).data.metrics == {"m": 1.0}
    # the template is still empty: a store made from it is not an earlier store
    with sqlite3.connect(template) as conn:
        assert conn.execute(
            "SELECT COUNT(*) FROM experiments WHERE name != 'Default'"
        ).fetchone() == (0,)


def test_no_template_is_kept_when_the_cache_is_off(tmp_path: Path, monkeypatch):
    from salesml.tracking.backends import store_template

    monkeypatch.setenv("SALESML_CACHE_DIR", "off")
    assert store_template() is None


def test_a_sqlite_store_under_a_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "plain-file").write_text("not a folder")
    uri = f"sqlite:///{tmp_path / 'plain-file' / 'mlflow.db'}"
    with pytest.raises(TrackingError, match=r"cannot create its folder .*plain-file"):
        open_store(uri)
