"""What ``salesml sync`` reads before it copies anything.

A sync copies runs one by one; a file it cannot read halfway (a truncated
``summary.json``, a damaged ``mlflow.db``, an artifact folder that was
deleted) would leave half of a run's history in the target store. So every
part is read first: the summary parses, the sqlite file passes its integrity
check and holds MLflow's tables, every run and model is listed, and each
one's artifact folder is there. Only then does the copy start.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

from salesml.errors import DataError

OFFLINE = "offline"

_TABLES = {"experiments", "runs", "metrics", "params", "tags"}


def check_offline(folder: Path, db: Path, source_uri: str) -> None:
    """Refuse an offline folder any part of which cannot be read, before copying.

    Raises
    ------
    DataError
        Naming the file and what is wrong with it.
    """
    _check_summary(folder / "summary.json")
    _check_database(db)
    _check_runs(folder, db, source_uri)


def _check_summary(path: Path) -> None:
    if not path.is_file():
        return  # an offline run stopped before its summary: its runs still sync
    from salesml.experiment.results import load_summary

    load_summary(path)  # DataError naming the file and the problem


def _check_database(db: Path) -> None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            verdict = con.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        con.close()
    except sqlite3.DatabaseError as exc:
        raise DataError(
            f"{db}: not a readable MLflow store ({exc}); nothing was synced. The file is "
            "damaged: run the experiment again with --offline"
        ) from None
    if verdict != "ok":
        raise DataError(f"{db}: the store is damaged ({verdict}); nothing was synced")
    missing = sorted(_TABLES - tables)
    if missing:
        raise DataError(
            f"{db}: not an MLflow store (no table {', '.join(missing)}); nothing was synced"
        )


def _check_runs(folder: Path, db: Path, source_uri: str) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    client = MlflowClient(source_uri)
    try:
        runs = [
            run
            for exp in client.search_experiments(view_type=ViewType.ALL)
            for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)
        ]
    except MlflowException as exc:
        raise DataError(
            f"{db}: its runs cannot be read ({' '.join(str(exc.message).split())}); "
            "nothing was synced"
        ) from None
    if not runs:
        raise DataError(f"{db}: the offline store holds no runs; nothing to sync")
    for run in runs:
        where = artifacts_of(folder, run.info.artifact_uri)
        if run.info.status == "FINISHED" and where is not None and not where.is_dir():
            raise DataError(
                f"{db}: run {run.info.run_name!r} ({run.info.run_id}) keeps its files in {where}, "
                "which is missing; nothing was synced"
            )
    for exp in client.search_experiments(view_type=ViewType.ALL):
        for model in client.search_logged_models([exp.experiment_id]):
            where = artifacts_of(folder, model.artifact_location)
            if model.status == "READY" and where is not None and not where.is_dir():
                raise DataError(
                    f"{db}: model {model.name!r} ({model.model_id}) keeps its files in {where}, "
                    "which is missing; nothing was synced"
                )


def artifacts_of(folder: Path, uri: str | None) -> Path | None:
    """The local folder of an offline artifact URI, where the offline folder is now.

    The store records absolute paths; an offline folder moved or copied (to the
    machine that can reach the tracking server, say) keeps its files under
    ``<folder>/offline/mlruns``, so the recorded path is mapped there. None for
    a remote artifact store (not checked here).
    """
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return None
    recorded = Path(unquote(parsed.path))
    parts = recorded.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i - 1 : i + 1] == (OFFLINE, "mlruns"):
            return folder.joinpath(OFFLINE, "mlruns", *parts[i + 1 :])
    return recorded
