"""One config and seed, run twice from scratch: identical metrics and identical predictions.

Each run generates its data in its own folder, fits every candidate (tuned LightGBM,
a random forest, statistical and global forecasters, an ensemble) and logs to
MLflow; the two runs' metrics and confidence intervals must be equal to the bit,
and their exported models must score a file identically on the pandas path and
on the Spark path (local session).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console

from conftest import ROOT
from salesml import load_experiment, run_experiment
from salesml.scoring.batch import score_file

pytestmark = pytest.mark.slow
CASES = ROOT / "tests" / "data" / "regression"


def _twice(case: str, folder: Path, store: str, models: list | None = None) -> list:
    summaries = []
    for attempt in ("first", "second"):
        where = folder / attempt
        where.mkdir()
        raw = yaml.safe_load((CASES / f"{case}.yaml").read_text(encoding="utf-8"))
        raw["models"] = models or raw["models"]
        raw["evaluation"]["bootstrap"] = 100
        (where / "experiment.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
        summary = run_experiment(
            load_experiment(where / "experiment.yaml"),
            where / "out",
            store,
            console=Console(file=io.StringIO()),
        )
        assert not summary.failed, [c.error for c in summary.candidates]
        summaries.append(summary)
    return summaries


def _same_numbers(a, b) -> None:
    assert [c.name for c in a.candidates] == [c.name for c in b.candidates]
    for x, y in zip(a.candidates, b.candidates, strict=True):
        assert x.metrics == y.metrics, x.name  # exact: no tolerance
        assert x.mlflow_run_id != y.mlflow_run_id
    assert (a.champion.name, a.champion.delta, a.champion.delta_ci) == (
        b.champion.name,
        b.champion.delta,
        b.champion.delta_ci,
    )
    assert a.data.sha256 == b.data.sha256


@pytest.fixture(scope="module")
def lead_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("repro_leads")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    models = [
        "logistic",
        {"type": "lightgbm", "params": {"n_estimators": 150, "n_jobs": 2}},
        {"type": "random_forest", "params": {"n_estimators": 60, "n_jobs": 2}},
        "hist_gradient_boosting",
    ]
    return {"runs": _twice("leads_small", folder, store, models), "store": store}


def test_two_lead_runs_give_identical_metrics(lead_runs: dict):
    _same_numbers(*lead_runs["runs"])


def test_two_lead_runs_score_identically_with_pandas_and_spark(lead_runs: dict, tmp_path: Path):
    pytest.importorskip("pyspark", reason="salesml[spark] is installed by make test")
    from salesml.scoring.spark import score_file_spark
    from salesml.synthetic import generate_leads

    src = tmp_path / "leads.csv"
    generate_leads(2000, seed=99).to_csv(src, index=False)
    store = lead_runs["store"]
    for name in ("lightgbm", "random_forest", "logistic", "bant_scorecard"):
        frames = []
        for i, summary in enumerate(lead_runs["runs"]):
            uri = summary.candidate(name).model_uri
            score_file(uri, src, tmp_path / f"pandas{i}.csv", tracking_uri=store)
            frames.append(pd.read_csv(tmp_path / f"pandas{i}.csv"))
        pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True, obj=name)
        assert frames[0]["probability"].nunique() > 1, name
    sparks = []
    for i, summary in enumerate(lead_runs["runs"]):
        uri = summary.candidate("lightgbm").model_uri
        out = tmp_path / f"spark{i}.parquet"
        score_file_spark(uri, src, out, tracking_uri=store, master="local[2]")
        sparks.append(pd.read_parquet(out).sort_values("lead_id", ignore_index=True))
    pd.testing.assert_frame_equal(sparks[0], sparks[1], check_exact=True)


def test_two_forecast_runs_give_identical_metrics_and_forecasts(tmp_path: Path):
    from salesml import future_frame

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first, second = _twice("forecast_small", tmp_path, store)
    _same_numbers(first, second)
    history = pd.read_csv(tmp_path / "first" / "sales.csv", parse_dates=["ds"])
    ids = sorted(history["unique_id"].unique())
    future = future_frame(history, ids, 14, "D", ["price", "promo", "is_holiday"])
    src = tmp_path / "future.csv"
    future.to_csv(src, index=False)
    for name in ("auto_theta", "auto_ets", "lightgbm_global", "ensemble"):
        frames = []
        for i, summary in enumerate((first, second)):
            out = tmp_path / f"{name}{i}.csv"
            score_file(summary.candidate(name).model_uri, src, out, tracking_uri=store)
            frames.append(pd.read_csv(out))
        pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True, obj=name)
        assert len(frames[0]) == 14 * len(ids)
