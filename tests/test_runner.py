"""Tests for salesml.runner's dry run and the lazy public API of ``import salesml``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import salesml
from salesml.cli import app
from salesml.errors import DataError
from salesml.experiment.config import load_experiment
from salesml.runner import dry_run


def _churn_config(write_yaml, tmp_path: Path, customers_small, **changes):
    customers_small.to_csv(tmp_path / "customers.csv", index=False)
    raw = {
        "name": "dry",
        "task": "churn",
        "data": {"path": "customers.csv", "target": "churned", "id": "customer_id"},
        "split": {"test_size": 0.2, "seed": 1},
        "baselines": ["prior", {"type": "control_points", "params": {"n_bins": 4}}],
        "models": [{"type": "lightgbm", "search": {"n_trials": 3, "cv": 2}}],
        "evaluation": {"confidence": 0.9, "bootstrap": 100},
        **changes,
    }
    return write_yaml(raw)


def test_dry_run_prints_the_plan_and_fits_nothing(
    write_yaml, tmp_path: Path, customers_small, monkeypatch: pytest.MonkeyPatch
):
    path = _churn_config(write_yaml, tmp_path, customers_small)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    info = dry_run(load_experiment(path), console=Console(file=out, width=200))
    text = out.getvalue()
    assert info.rows == len(customers_small)
    assert info.test_rows == round(0.2 * len(customers_small))
    assert info.train_rows + info.test_rows == info.rows
    assert f"train {info.train_rows:,} rows, test {info.test_rows:,} rows" in text
    for name in ("prior", "control_points", "lightgbm"):
        assert name in text
    assert "'n_trials': 3" in text and "'n_bins': 4" in text
    assert "90% CI" in text and "nothing was fitted" in text
    # Nothing was tracked or written.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "experiment.yaml"]


def test_cli_dry_run_of_a_forecast(write_yaml, tmp_path: Path):
    raw = {
        "name": "dry-forecast",
        "task": "forecast",
        "data": {
            "path": "sales.csv",
            "generate": {"kind": "sales", "rows": 3, "seed": 1},
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "D",
        },
        "horizon": 14,
        "backtest": {"windows": 2},
        "baselines": ["naive"],
        "models": [{"type": "auto_ets", "params": {"damped": False}}],
    }
    result = CliRunner().invoke(app, ["run", "--dry-run", str(write_yaml(raw))])
    assert result.exit_code == 0, result.output
    assert "series: 3 of 3, freq D, season 7, horizon 14" in result.stdout
    assert "auto_ets" in result.stdout and "nothing was fitted" in result.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_dry_run_checks_the_data(write_yaml, tmp_path: Path, customers_small):
    path = _churn_config(
        write_yaml, tmp_path, customers_small, data={"path": "customers.csv", "target": "nope"}
    )
    with pytest.raises(DataError, match="'nope'"):
        dry_run(load_experiment(path), console=Console(file=io.StringIO()))
    result = CliRunner().invoke(app, ["run", "--dry-run", str(path)])
    assert result.exit_code == 2 and "target column(s) 'nope' not in the data" in result.stderr


# --- the public API ---------------------------------------------------------------------

API = (
    "load_experiment",
    "run_experiment",
    "load_table",
    "load_summary",
    "candidates_frame",
    "champion_verdict",
    "load_model",
)


def test_the_public_api_is_there():
    for name in API:
        assert callable(getattr(salesml, name)), name
        assert name in salesml.__all__ and name in dir(salesml)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        salesml.nope  # noqa: B018


def test_importing_salesml_imports_nothing_heavy():
    heavy = ("pandas", "numpy", "sklearn", "mlflow", "pydantic", "yaml")
    code = (
        f"import json, sys, salesml; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_notebooks_import_from_salesml_only():
    root = Path(__file__).resolve().parents[1] / "notebooks"
    scripts = sorted(root.glob("[0-9][0-9]-*.py"))
    assert scripts
    for script in scripts:
        for line in script.read_text(encoding="utf-8").splitlines():
            if "salesml" in line and line.lstrip().startswith(("from ", "import ")):
                assert line.strip() in ("import salesml",) or line.startswith(
                    "from salesml import"
                ), f"{script.name}: {line.strip()!r}; import from the public API"


def test_an_engine_failure_stops_the_run_a_candidate_failure_does_not(
    write_yaml, tmp_path: Path, customers_small, tracking: str, monkeypatch
):
    """Spark gone (out of memory, killed) fails every later candidate: stop at the first."""
    from mlflow import MlflowClient

    from salesml import run_experiment
    from salesml.classify.task import ClassificationTask
    from salesml.errors import EngineError

    config = load_experiment(_churn_config(write_yaml, tmp_path, customers_small, name="engine"))
    real, seen = ClassificationTask.fit_evaluate, []

    def fit_evaluate(self, cand, role, plot_dir):
        seen.append(cand.name)
        if cand.name == "prior":
            raise ValueError("a model's own failure")
        if cand.name == "control_points":
            raise EngineError("Spark failed while forecasting (the driver exited)")
        return real(self, cand, role, plot_dir)

    monkeypatch.setattr(ClassificationTask, "fit_evaluate", fit_evaluate)
    with pytest.raises(EngineError, match="the driver exited"):
        run_experiment(config, tmp_path / "out", tracking, Console(quiet=True))
    assert seen == ["prior", "control_points"]  # lightgbm never started
    client = MlflowClient(tracking)
    experiment = client.get_experiment_by_name("engine")
    runs = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert runs["control_points"].info.status == "FAILED"
    assert "the driver exited" in runs["control_points"].data.tags["salesml.error"]
    assert "lightgbm" not in runs


def test_a_figure_that_fails_fails_its_candidate_and_its_mlflow_run(
    write_yaml, tmp_path: Path, customers_small, tracking: str, monkeypatch
):
    """Drawn after the candidate's run ended, a failed figure still fails the candidate."""
    from mlflow import MlflowClient

    from salesml import run_experiment
    from salesml.classify.task import ClassificationTask
    from salesml.io.figures import Drawing

    config = load_experiment(_churn_config(write_yaml, tmp_path, customers_small, name="figs"))
    real = ClassificationTask.figures

    def figures(self, outcome, plot_dir):
        drawings = real(self, outcome, plot_dir)
        if outcome.name != "control_points":
            return drawings
        return [Drawing(d.path, d.draw, (np.ones(2), np.ones(5), None, "broken")) for d in drawings]

    monkeypatch.setattr(ClassificationTask, "figures", figures)
    summary = run_experiment(config, tmp_path / "out", tracking, Console(quiet=True))
    status = {c.name: c.status for c in summary.candidates}
    assert status["control_points"] == "failed"
    assert all(s == "ok" for n, s in status.items() if n != "control_points")
    failed = next(c for c in summary.candidates if c.name == "control_points")
    assert "figures" in failed.error and "ValueError" in failed.error
    client = MlflowClient(tracking)
    run = client.get_run(failed.mlflow_run_id)
    assert run.info.status == "FAILED"
    assert "ValueError" in run.data.tags["salesml.error"]
    ok = next(c for c in summary.candidates if c.status == "ok")
    logged = [a.path for a in client.list_artifacts(ok.mlflow_run_id, "plots")]
    assert logged == ["plots/evaluation.png"]
    parent = client.list_artifacts(summary.experiment.mlflow_run_id, "plots")
    assert [a.path for a in parent] == ["plots/comparison.png"]
