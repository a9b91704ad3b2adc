"""Offline runs (``salesml run --offline``) and ``salesml sync``: a real sqlite store each side."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CONFIG = {
    "name": "offline-leads",
    "task": "lead_conversion",
    "data": {
        "path": "leads.csv",
        "generate": {"kind": "leads", "rows": 3000, "seed": 3},
        "target": "converted",
        "id": "lead_id",
        "time": "created_at",
        "drop": ["last_stage_reached", "job_title"],
    },
    "split": {"method": "time", "test_size": 0.25},
    "baselines": ["prior", "control_points"],
    "models": ["logistic"],
    "evaluation": {"bootstrap": 50},
}


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One offline run; the configured store (``target``) is not touched by it."""
    import yaml
    from rich.console import Console

    from salesml import load_experiment, run_experiment

    folder = tmp_path_factory.mktemp("offline")
    target = f"sqlite:///{folder / 'target' / 'mlflow.db'}"
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    out = Console(file=io.StringIO(), width=200)
    summary = run_experiment(
        load_experiment(path), folder / "out", tracking_uri=None, console=out, offline=True
    )
    return {"folder": folder, "target": target, "summary": summary, "screen": out.file.getvalue()}


def test_an_offline_run_tracks_into_the_output_folder(offline_run: dict):
    summary, folder = offline_run["summary"], offline_run["folder"]
    assert not summary.failed
    offline_db = (folder / "out" / "offline" / "mlflow.db").resolve()
    assert summary.experiment.tracking_uri == f"sqlite:///{offline_db}"
    assert not (folder / "target").exists()  # the configured store was never opened
    assert "salesml sync" in offline_run["screen"]
    artifacts = folder / "out" / "offline" / "mlruns"
    assert any(artifacts.rglob("MLmodel")), "models are stored beside the offline store"


def test_sync_copies_runs_models_and_the_champion(offline_run: dict, monkeypatch):
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    from salesml import load_summary
    from salesml.tracking import sync_offline

    folder, target = offline_run["folder"], offline_run["target"]
    before = offline_run["summary"]
    src = MlflowClient(before.experiment.tracking_uri)
    result = sync_offline(folder / "out", target)

    assert result.experiments == ["offline-leads"]
    assert len(result.runs) == 4 and result.reused == 0  # parent + 3 candidates
    dst = MlflowClient(target)
    exp = dst.get_experiment_by_name("offline-leads")
    runs = {r.info.run_name: r for r in dst.search_runs([exp.experiment_id])}
    assert set(runs) == {"offline-leads", "prior", "control_points", "logistic"}
    parent = runs["offline-leads"].info.run_id
    for name in ("prior", "control_points", "logistic"):
        copy = runs[name]
        original = src.get_run(next(k for k, v in result.runs.items() if v == copy.info.run_id))
        assert copy.data.tags["mlflow.parentRunId"] == parent
        assert copy.info.status == "FINISHED"
        assert copy.data.metrics == original.data.metrics
        assert copy.data.params == original.data.params
        assert copy.info.start_time == original.info.start_time
        assert len(copy.inputs.dataset_inputs) == len(original.inputs.dataset_inputs) > 0
    assert {a.path for a in dst.list_artifacts(parent)} >= {"config.yaml", "summary.json"}

    # The champion is registered in the target with its alias and scores as it did offline.
    after = load_summary(folder / "out" / "summary.json")
    assert after.experiment.tracking_uri == target
    assert after.experiment.mlflow_run_id == parent
    champion = after.champion
    assert champion is not None and champion.beats_baseline
    version = dst.get_model_version_by_alias("offline-leads", "champion")
    assert str(version.version) == champion.registered_version
    leads = pd.read_csv(folder / "leads.csv").drop(columns=["converted"]).head(200)
    leads = leads.astype(dict.fromkeys(leads.select_dtypes("integer").columns, "float64"))
    mlflow.set_tracking_uri(before.experiment.tracking_uri)
    offline_pred = mlflow.pyfunc.load_model(before.champion.model_uri).predict(leads)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", target)
    mlflow.set_tracking_uri(target)
    synced_pred = mlflow.pyfunc.load_model("models:/offline-leads@champion").predict(leads)
    assert champion.model_uri != before.champion.model_uri
    pd.testing.assert_frame_equal(pd.DataFrame(synced_pred), pd.DataFrame(offline_pred))

    # Syncing again does nothing; a sync cut short (no marker) reuses what is there.
    assert sync_offline(folder / "out", target).already
    (folder / "out" / "offline" / "synced.json").unlink()
    again = sync_offline(folder / "out", target)
    assert again.reused == 4 and again.runs == result.runs and again.models == result.models
    assert len(dst.search_runs([exp.experiment_id])) == 4
    assert len(dst.search_model_versions("name = 'offline-leads'")) == 1
    marker = json.loads((folder / "out" / "offline" / "synced.json").read_text())
    assert marker["tracking_uri"] == target


def test_sync_of_a_folder_without_offline_runs_says_so(tmp_path: Path):
    from salesml.errors import DataError
    from salesml.tracking import sync_offline

    with pytest.raises(DataError, match=r"no offline runs to sync .*--offline"):
        sync_offline(tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    assert not (tmp_path / "x.db").exists()


def test_cli_sync_refuses_a_folder_without_offline_runs_then_syncs_once(
    offline_run: dict, tmp_path: Path, monkeypatch
):
    from typer.testing import CliRunner

    from salesml.cli import app

    bad = CliRunner().invoke(app, ["sync", str(tmp_path)])
    assert bad.exit_code == 2
    assert "no offline runs to sync" in bad.output and "Traceback" not in bad.output
    monkeypatch.setenv("MLFLOW_TRACKING_URI", offline_run["target"])
    done = CliRunner().invoke(app, ["sync", str(offline_run["folder"] / "out")])
    assert done.exit_code == 0, done.output
    assert "already synced" in done.output  # the API test above synced it


def test_an_offline_folder_moved_elsewhere_syncs_with_its_files(offline_run: dict, tmp_path: Path):
    """The store records absolute paths; a folder carried to another place (the machine that
    can reach the server) must sync its artifacts and models from where it is now."""
    import shutil

    from mlflow import MlflowClient

    from salesml.tracking import sync_offline

    moved = tmp_path / "carried" / "out"
    shutil.copytree(offline_run["folder"] / "out", moved)
    (moved / "offline" / "synced.json").unlink(missing_ok=True)
    original = offline_run["folder"] / "out" / "offline" / "mlruns"
    hidden = original.with_name("mlruns-away")
    original.rename(hidden)  # the recorded paths now lead nowhere
    try:
        target = f"sqlite:///{tmp_path / 'target.db'}"
        result = sync_offline(moved, target)
    finally:
        hidden.rename(original)
    dst = MlflowClient(target)
    parent = result.runs[offline_run["summary"].experiment.mlflow_run_id]
    assert {a.path for a in dst.list_artifacts(parent)} >= {"config.yaml", "summary.json"}
    assert len(result.models) >= 1
