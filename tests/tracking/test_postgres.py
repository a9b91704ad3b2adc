"""An experiment tracked on a real PostgreSQL server, read back through MLflow."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from sklearn.metrics import roc_auc_score

from tracking.conftest import PG_PASSWORD, tiny_config


@pytest.mark.slow
def test_an_experiment_tracked_on_postgresql_reads_back(
    pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from mlflow import MlflowClient

    from salesml import load_experiment, run_experiment
    from salesml.classify.task import ClassificationTask
    from salesml.tracking import load_model

    uri = pg_server.create_database()
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("SALESML_ARTIFACT_ROOT", str(artifacts))
    monkeypatch.chdir(tmp_path)
    config = load_experiment(tiny_config(tmp_path, "pg-leads"))
    screen = io.StringIO()
    summary = run_experiment(config, tmp_path / "out", console=Console(file=screen, width=200))
    assert not summary.failed, [c.error for c in summary.candidates]

    # every run, its status and metrics, in the PostgreSQL store
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("pg-leads")
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    assert set(runs) == {"pg-leads", "prior", "logistic"}
    assert {r.info.status for r in runs.values()} == {"FINISHED"}
    for cand in summary.candidates:
        assert runs[cand.name].info.run_id == cand.mlflow_run_id
        assert runs[cand.name].data.metrics["roc_auc"] == pytest.approx(cand.metrics["roc_auc"])
    assert runs["pg-leads"].data.tags["salesml.champion"] == "logistic"

    # the registered champion: version 1 of the experiment's model, alias champion
    version = client.get_model_version_by_alias("pg-leads", "champion")
    assert str(version.version) == "1" == summary.champion.registered_version
    assert version.run_id == runs["logistic"].info.run_id

    # artifacts went to the local folder, not to the database server
    assert Path(exp.artifact_location.removeprefix("file://")).is_relative_to(artifacts)
    assert list(artifacts.rglob("MLmodel"))

    # the champion loads from the registry and reproduces its test metric
    model = load_model("models:/pg-leads@champion", uri)
    task = ClassificationTask(config)
    task.prepare()
    p = model.predict(task.data.X_test, params={"reasons": False})["probability"].to_numpy()
    assert roc_auc_score(task.data.y_test, p) == pytest.approx(
        summary.candidate("logistic").metrics["roc_auc"], abs=1e-9
    )

    # the HTML report reads the run back from the PostgreSQL store
    from salesml.report.build import write_report

    page = write_report("pg-leads", out=tmp_path / "pg-leads.html", tracking_uri=uri).read_text()
    assert "logistic" in page and "127.0.0.1" in page

    # the password shows nowhere: screen, summary.json, report
    written = (tmp_path / "out" / "summary.json").read_text()
    assert json.loads(written)["experiment"]["tracking_uri"].count("***") == 1
    for text in (screen.getvalue(), written, page):
        assert PG_PASSWORD not in text and "s3cr" not in text
