"""The leakage guard end to end: ``on_flag`` warn, fail and drop on small real runs, with the
flags in MLflow, ``summary.json``, the HTML report and the model card.

The runs that train are marked slow (seconds each); ``fail`` trains nothing and is fast."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import mlflow
import pytest
import yaml
from mlflow import MlflowClient
from rich.console import Console
from typer.testing import CliRunner

from salesml.cli import app
from salesml.errors import DataError
from salesml.experiment.config import load_experiment
from salesml.experiment.results import load_summary
from salesml.runner import run_experiment


def _config(folder: Path, name: str, on_flag: str) -> Path:
    raw = {
        "name": name,
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "target": "converted",
            "id": "lead_id",
            "time": "created_at",
            # last_stage_reached stays in: the guard must see it
            "drop": ["job_title"],
        },
        "split": {"method": "time", "test_size": 0.25},
        "leakage": {"on_flag": on_flag},
        "baselines": ["control_points"],
        "evaluation": {"bootstrap": 50},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def leads_folder(tmp_path_factory: pytest.TempPathFactory, leads_small) -> Path:
    folder = tmp_path_factory.mktemp("leakage_runs")
    leads_small.to_csv(folder / "leads.csv", index=False)
    return folder


def _run(folder: Path, store: str, name: str, on_flag: str) -> dict[str, Any]:
    out = io.StringIO()
    summary = run_experiment(
        load_experiment(_config(folder, name, on_flag)),
        folder / name,
        store,
        console=Console(file=out, width=200),
    )
    return {"summary": summary, "store": store, "screen": out.getvalue(), "out": folder / name}


@pytest.fixture(scope="module")
def warned(leads_folder: Path, mlflow_store: str) -> dict[str, Any]:
    return _run(leads_folder, mlflow_store, "leak-warn", "warn")


@pytest.mark.slow
def test_warn_prints_one_line_per_flag_and_trains_on(warned):
    screen, summary = warned["screen"], warned["summary"]
    lines = [ln for ln in screen.splitlines() if ln.startswith("leakage warning: ")]
    assert len(lines) == len(summary.data.leakage["flags"]) == 2
    assert all(ln.startswith("leakage warning: last_stage_reached (") for ln in lines)
    assert "leakage guard: 1 column flagged, training goes on" in screen
    assert "last_stage_reached" in summary.data.features
    # The leak is in the features: the points rule reads the outcome off it.
    assert summary.candidate("control_points").metrics["roc_auc"] > 0.97


@pytest.mark.slow
def test_flags_are_in_summary_json_and_read_back(warned):
    raw = json.loads((warned["out"] / "summary.json").read_text(encoding="utf-8"))
    record = raw["data"]["leakage"]
    assert record["on_flag"] == "warn" and record["label_time"] == "created_at"
    assert {(f["column"], f["kind"], f["action"]) for f in record["flags"]} == {
        ("last_stage_reached", "single_feature_auc", "warned"),
        ("last_stage_reached", "target_derived", "warned"),
    }
    assert load_summary(warned["out"]).data.leakage == record


@pytest.mark.slow
def test_a_summary_from_before_the_guard_still_loads(warned, tmp_path: Path):
    raw = json.loads((warned["out"] / "summary.json").read_text(encoding="utf-8"))
    del raw["data"]["leakage"]
    (tmp_path / "summary.json").write_text(json.dumps(raw), encoding="utf-8")
    summary = load_summary(tmp_path)
    assert summary.data.leakage is None
    assert summary.data.features == warned["summary"].data.features


@pytest.mark.slow
def test_flags_are_on_the_mlflow_experiment_run(warned):
    client = MlflowClient(warned["store"])
    run = client.get_run(warned["summary"].experiment.mlflow_run_id)
    assert run.data.tags["salesml.leakage"] == "last_stage_reached"
    assert run.data.params["leakage.on_flag"] == "warn"
    assert run.data.params["leakage.flags"] == "1"
    mlflow.set_tracking_uri(warned["store"])
    logged = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/leakage.json")
    assert logged == warned["summary"].data.leakage


@pytest.mark.slow
def test_the_report_shows_the_flags(warned, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", warned["store"])
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "-e", "leak-warn", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<h2>Leakage guard</h2>" in html
    assert (
        "1 column looks like it leaks the outcome (trained on anyway): last_stage_reached" in html
    )
    assert html.count("<td>last_stage_reached</td>") == 2
    assert "value &#39;closed_won&#39; holds 100% of the positives" in html


@pytest.mark.slow
def test_the_model_card_lists_the_flags(warned, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", warned["store"])
    uri = warned["summary"].candidate("control_points").model_uri
    result = CliRunner().invoke(app, ["export", "-m", uri, "--to", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    card = (tmp_path / "export" / "MODEL_CARD.md").read_text(encoding="utf-8")
    limits = card.split("## Known limits and leakage notes", 1)[1]
    assert "- Leakage guard (on_flag: warn) flagged:" in limits
    assert "`last_stage_reached` target_derived, warned: value 'closed_won'" in limits


def test_fail_stops_before_anything_is_trained_or_logged(
    leads_folder: Path, mlflow_store: str, monkeypatch
):
    path = _config(leads_folder, "leak-fail", "fail")
    out = leads_folder / "fail"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    result = CliRunner().invoke(app, ["run", str(path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "leakage guard (leakage.on_flag: fail)" in text and "'last_stage_reached' (" in text
    assert "Traceback" not in result.output
    with pytest.raises(DataError, match="nothing was trained"):
        run_experiment(load_experiment(path), out, mlflow_store)
    # Only the library log was written; MLflow never heard of the experiment.
    assert [p.name for p in out.iterdir()] == ["salesml.log"]
    assert MlflowClient(mlflow_store).get_experiment_by_name("leak-fail") is None


@pytest.mark.slow
def test_drop_trains_without_the_flagged_column(leads_folder: Path, mlflow_store: str):
    run = _run(leads_folder, mlflow_store, "leak-drop", "drop")
    summary = run["summary"]
    assert "last_stage_reached" not in summary.data.features
    assert summary.data.excluded["last_stage_reached"] == (
        "leakage: single_feature_auc, target_derived"
    )
    assert "leakage guard: dropped last_stage_reached before training" in run["screen"]
    assert {f["action"] for f in summary.data.leakage["flags"]} == {"dropped"}
    assert summary.candidate("control_points").metrics["roc_auc"] < 0.9
    tags = MlflowClient(run["store"]).get_run(summary.experiment.mlflow_run_id).data.tags
    assert tags["salesml.leakage"] == "last_stage_reached"
