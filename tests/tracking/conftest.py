"""A real PostgreSQL server for the tracking tests, and a tiny experiment config.

The server is Debian's ``postgresql`` (``.ci/run`` installs it where missing):
``initdb`` in a temp folder, ``pg_ctl start`` on a free port of 127.0.0.1, password
authentication (scram) for the user ``salesml``. As root, the server runs as the
``postgres`` user (it refuses root). The tests skip only when the binaries are
absent, and fail instead under ``CI=true``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

PG_USER = "salesml"
PG_PASSWORD = "s3cr:t/pw"  # characters a URI must escape: masking must still hide it


@dataclass(frozen=True)
class PgServer:
    """A running server: where it listens and how to get a fresh database on it."""

    port: int
    folder: Path

    def uri(self, database: str, password: str = PG_PASSWORD) -> str:
        from urllib.parse import quote

        return (
            f"postgresql+psycopg://{PG_USER}:{quote(password, safe='')}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    def create_database(self) -> str:
        """A new, empty database; its SQLAlchemy URI."""
        import psycopg

        name = f"mlflow_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=PG_USER,
            password=PG_PASSWORD,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.uri(name)


def skip_outside_ci(reason: str) -> None:
    """Skip the test, or fail it under ``CI=true``: CI must run the PostgreSQL tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
    pytest.skip(reason)


def require_psycopg() -> None:
    """Skip (fail in CI) when the PostgreSQL driver, salesml's ``postgres`` extra, is missing."""
    import importlib.util

    if importlib.util.find_spec("psycopg") is None:
        skip_outside_ci("psycopg not installed: pip install -e '.[postgres]'")


def _bindir() -> Path | None:
    config = shutil.which("pg_config")
    candidates = []
    if config:
        out = subprocess.run([config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server on 127.0.0.1 for the session; stopped and deleted afterwards."""
    bindir = _bindir()
    if bindir is None:
        skip_outside_ci(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    require_psycopg()
    folder = Path(tempfile.mkdtemp(prefix="salesml-pg-"))
    data, log, pwfile = folder / "data", folder / "server.log", folder / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    pwfile.chmod(0o600)
    port = _free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run(_as_server_user(list(cmd)), capture_output=True, text=True)
        if done.returncode != 0:
            extra = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed:\n{done.stdout}\n{done.stderr}\n{extra}")

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        PG_USER,
        f"--pwfile={pwfile}",
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
    )
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=60"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        yield PgServer(port=port, folder=folder)
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def tiny_config(folder: Path, name: str) -> Path:
    """A lead-conversion config that runs in seconds: prior against logistic.

    The leads file is generated (seeded) now, so concurrent runs only read it.
    """
    from salesml.io.data import write_frame
    from salesml.synthetic import generate_leads

    write_frame(generate_leads(1500, seed=5), folder / "leads.csv")
    raw: dict[str, Any] = {
        "name": name,
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "target": "converted",
            "id": "lead_id",
            "drop": ["last_stage_reached", "job_title"],
        },
        "split": {"test_size": 0.3, "seed": 1},
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path
