"""Four ``salesml run`` processes at once into one new store: sqlite, then PostgreSQL.

Then four processes registering champions at the same moment: every version distinct.

Before salesml created MLflow's schema under a lock, three of four such runs
crashed with a raw SQLAlchemy traceback (``duplicate column name: step``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracking.conftest import tiny_config

PROCESSES = 4


def _run_together(uri: str, tmp_path: Path, name: str) -> tuple[list[dict], float]:
    """Start PROCESSES runs of one config at once; their summaries and the wall time."""
    config = tiny_config(tmp_path, name)
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "SALESML_ARTIFACT_ROOT": str(tmp_path / "art")}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "salesml", "run", str(config), "--output-dir", f"out{i}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    results = [p.communicate(timeout=900) for p in procs]
    wall = time.perf_counter() - started
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err and not err.strip(), err[-3000:]
    print(f"\n{PROCESSES} concurrent runs on {uri.split(':', 1)[0]}: {wall:.1f} s wall")
    summaries = [
        json.loads((tmp_path / f"out{i}" / "summary.json").read_text()) for i in range(PROCESSES)
    ]
    return summaries, wall


def _assert_all_recorded(uri: str, name: str, summaries: list[dict]) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    by_id = {r.info.run_id: r for r in runs}
    # every run of every process, and nothing else: a parent and two candidates each
    expected = {s["experiment"]["mlflow_run_id"] for s in summaries} | {
        c["mlflow_run_id"] for s in summaries for c in s["candidates"]
    }
    assert len(expected) == PROCESSES * 3
    assert set(by_id) == expected
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {s["experiment"]["experiment_id"] for s in summaries} == {exp.experiment_id}
    for s in summaries:
        for c in s["candidates"]:
            logged = by_id[c["mlflow_run_id"]].data.metrics
            assert logged["roc_auc"] == pytest.approx(c["metrics"]["roc_auc"])
            assert "brier" in logged and "fit_seconds" in logged
    # one registry version per process, all distinct, each the champion of its own run
    versions = client.search_model_versions(f"name='{name}'")
    assert sorted(int(v.version) for v in versions) == list(range(1, PROCESSES + 1))
    assert sorted(s["champion"]["registered_version"] for s in summaries) == ["1", "2", "3", "4"]
    champions = {
        c["mlflow_run_id"] for s in summaries for c in s["candidates"] if c["name"] == "logistic"
    }
    assert len(champions) == PROCESSES
    assert {v.run_id for v in versions} == champions
    alias = client.get_model_version_by_alias(name, "champion")
    assert int(alias.version) in range(1, PROCESSES + 1)


# Each process opens the store, says it is ready, waits for the go file, then
# registers the same model REGISTRATIONS times under one new name with the champion alias.
_REGISTER = """
import json, os, sys, time
from salesml.tracking import Tracker
uri, model_uri, name, go, n = sys.argv[1:6]
tracker = Tracker(name, uri)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.002)
print(json.dumps([tracker.register_champion(model_uri) for _ in range(int(n))]))
"""
REGISTRATIONS = 5


def _register_together(uri: str, model_uri: str, name: str, tmp_path: Path) -> None:
    env = {**os.environ, "SALESML_ARTIFACT_ROOT": str(tmp_path / "art")}
    go = tmp_path / f"go-{name}"
    args = [uri, model_uri, name, str(go), str(REGISTRATIONS)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-3000:]
    go.touch()  # all at once
    versions = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        versions += [int(v) for v in json.loads(out.strip().splitlines()[-1])]
    assert sorted(versions) == list(range(1, PROCESSES * REGISTRATIONS + 1))

    from mlflow import MlflowClient

    client = MlflowClient(uri)
    stored = client.search_model_versions(f"name='{name}'", max_results=1000)
    assert sorted(int(v.version) for v in stored) == sorted(versions)
    assert int(client.get_model_version_by_alias(name, "champion").version) in versions


@pytest.mark.slow
def test_four_runs_at_once_into_a_new_sqlite_store(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'new-folder' / 'mlflow.db'}"
    summaries, _ = _run_together(uri, tmp_path, "concurrent-sqlite")
    _assert_all_recorded(uri, "concurrent-sqlite", summaries)
    _register_together(uri, summaries[0]["champion"]["model_uri"], "race-sqlite", tmp_path)
    assert (tmp_path / "new-folder" / "mlflow.db.lock").exists()


@pytest.mark.slow
def test_four_runs_at_once_into_a_new_postgresql_database(pg_server, tmp_path: Path):
    uri = pg_server.create_database()
    summaries, _ = _run_together(uri, tmp_path, "concurrent-pg")
    _assert_all_recorded(uri, "concurrent-pg", summaries)
    _register_together(uri, summaries[0]["champion"]["model_uri"], "race-pg", tmp_path)
