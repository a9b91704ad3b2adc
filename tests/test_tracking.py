"""What MLflow holds after a run: the experiment's kind, dataset inputs, models from code."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
from mlflow import MlflowClient


def test_experiment_opens_on_training_runs(trained_leads):
    client = MlflowClient(trained_leads["store"])
    exp = client.get_experiment_by_name("scoring-leads")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"


def test_train_and_test_are_logged_as_dataset_inputs(trained_leads):
    summary = trained_leads["summary"]
    client = MlflowClient(trained_leads["store"])
    runs = [summary.experiment.mlflow_run_id] + [c.mlflow_run_id for c in summary.candidates]
    for run_id in runs:
        inputs = client.get_run(run_id).inputs.dataset_inputs
        by_name = {d.dataset.name: d for d in inputs}
        assert set(by_name) == {"train", "test"}, run_id
        assert {t.value for d in inputs for t in d.tags} == {"training", "testing"}
        rows = {n: int(json.loads(d.dataset.profile)["num_rows"]) for n, d in by_name.items()}
        assert rows == {"train": summary.data.train_rows, "test": summary.data.test_rows}
        assert all(len(d.dataset.digest) >= 8 for d in inputs)


def test_classifiers_are_models_from_code_with_skops_state(trained_leads, tmp_path: Path):
    mlflow.set_tracking_uri(trained_leads["store"])
    path = Path(
        mlflow.artifacts.download_artifacts(
            trained_leads["uris"]["lightgbm"], dst_path=str(tmp_path)
        )
    )
    files = {p.name for p in path.rglob("*")}
    assert "scorer.skops" in files and "pyfunc_entry.py" in files
    assert not any(name.endswith((".pkl", ".pickle")) for name in files)
    text = (path / "MLmodel").read_text()
    assert "salesml:" in text and "tier_cuts" in text  # the card's facts travel with the model
    assert "type: long" not in text  # integers declared as doubles: missing values score


def test_the_log_file_holds_the_library_messages(trained_leads):
    log = trained_leads["folder"] / "out" / "salesml.log"
    assert log.exists()
    assert "mlflow" in log.read_text()
