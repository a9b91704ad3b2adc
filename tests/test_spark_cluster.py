"""``--spark-master spark://...``: a real standalone cluster, not only local mode.

A master and two one-core workers run on 127.0.0.1 (Spark's own launch classes from
the pyspark package; ``benchmarks/spark_cluster.py`` starts and stops them, the
benchmarks use it too). ``salesml run --engine spark`` and ``salesml score --engine
spark`` against it give what the local engine and pandas scoring give, and the work
ran on the workers' executors (their logs), in applications the master completed.

Each test runs in a Spark application of its own: any session of this process (a
local one from earlier tests) is stopped before, and the cluster's session after, so
``getOrCreate`` cannot hand a test the wrong master and later tests do not get a
session whose cluster is gone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from forecast.test_spark_engine import H, _config, _sales
from typer.testing import CliRunner

from salesml.cli import app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from spark_cluster import ClusterError, StandaloneCluster, start_cluster  # noqa: E402

pytestmark = pytest.mark.slow


def stop_spark() -> None:
    """Stop this process's Spark session and context, if any (salesml has no stop call).

    ``spark_session`` builds with ``getOrCreate``, which returns a running session
    whatever master it is asked for.
    """
    if "pyspark" not in sys.modules:
        return
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession
    if session is not None:
        session.stop()  # stops its context too
    context = SparkContext._active_spark_context
    if context is not None:
        context.stop()


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    """A master and two one-core workers on 127.0.0.1, stopped after the module."""
    folder = tmp_path_factory.mktemp("spark_cluster")
    try:
        cluster = start_cluster(folder, workers=2, cores=1, memory="1g")
    except ClusterError as exc:  # no Java, no pyspark, or it did not start: a failure
        pytest.fail(f"the Spark standalone cluster did not start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        stop_spark()  # before the cluster goes: a driver left on a dead master hangs
        cluster.stop()


@pytest.fixture
def cluster(spark_cluster: StandaloneCluster, monkeypatch: pytest.MonkeyPatch):
    """The cluster, for a test that runs in a Spark application of its own."""
    monkeypatch.delenv("SALESML_SPARK_MASTER", raising=False)
    stop_spark()
    yield spark_cluster
    stop_spark()


def ran_on_the_cluster(cluster: StandaloneCluster, name: str) -> dict:
    """Stop the session; the master's completed application ``name``, checked for work.

    Both workers started an executor for it (one core each), and the executors
    finished tasks. Not necessarily both: the first executor up may take them all.
    """
    stop_spark()
    found = cluster.completed_app(name)
    assert found["state"] == "FINISHED" and found["cores"] == 2, found
    for i in range(2):
        assert list((cluster.folder / f"worker-{i}" / found["id"]).glob("*/stderr")), i
    tasks = cluster.finished_tasks(found["id"])
    assert sum(tasks.values()) > 0, (found["id"], tasks)
    return found


def test_a_forecast_run_on_the_cluster_equals_the_local_run(
    cluster: StandaloneCluster, tmp_path: Path, tracking: str
):
    import mlflow

    from salesml import load_summary
    from salesml.forecast.data import future_frame

    csv = tmp_path / "sales.csv"
    _sales(50, seed=11, short=5).to_csv(csv, index=False)
    raw = _config(
        csv,
        name="spark-cluster",
        backtest={"windows": 1},
        baselines=["seasonal_naive"],
        models=[
            {"type": "auto_ets", "params": {"model": "ANN"}},
            {"type": "lightgbm_global", "params": {"n_estimators": 20}},
        ],
    )
    del raw["spark"]["master"]  # from --spark-master
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    runner = CliRunner()
    for engine, options in (
        ("local", ["--engine", "local"]),
        ("spark", ["--engine", "spark", "--spark-master", cluster.url]),
    ):
        result = runner.invoke(app, ["run", str(path), "-o", str(tmp_path / engine), *options])
        assert result.exit_code == 0, (result.output, result.exception)
    ran_on_the_cluster(cluster, "salesml-forecast")

    local, on_cluster = (load_summary(tmp_path / e) for e in ("local", "spark"))
    assert (on_cluster.data.engine, on_cluster.data.spark_master) == ("spark", cluster.url)
    assert on_cluster.data.fallbacks == local.data.fallbacks
    for want in local.candidates:
        got = on_cluster.candidate(want.name)
        assert got.status == want.status == "ok", got.error
        assert set(got.metrics) == set(want.metrics)
        for key, value in want.metrics.items():
            assert got.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (want.name, key)
    assert on_cluster.champion.name == local.champion.name
    # the backtest forecasts of every candidate, and the exported models' forecasts
    a, b = (pd.read_parquet(tmp_path / e / "predictions.parquet") for e in ("local", "spark"))
    assert len(a) > 0 and set(a["candidate"]) == {c.name for c in local.candidates}
    pd.testing.assert_frame_equal(b, a, rtol=1e-9)
    mlflow.set_tracking_uri(tracking)
    history = pd.read_csv(csv, parse_dates=["ds"])
    ids = sorted(history["unique_id"].unique())
    for want in local.candidates:
        models = [
            mlflow.pyfunc.load_model(s.candidate(want.name).model_uri) for s in (local, on_cluster)
        ]
        inputs = models[0].metadata.get_input_schema().input_names()
        ask = future_frame(history, ids, H, "D", ["promo"] if "promo" in inputs else [])
        expected, got = (m.predict(ask) for m in models)
        assert len(expected) == len(ids) * H, want.name
        pd.testing.assert_frame_equal(got, expected, rtol=1e-9, obj=want.name)


def test_scoring_on_the_cluster_equals_pandas_scoring(
    cluster: StandaloneCluster, trained_leads, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from salesml.synthetic import generate_leads

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    src = tmp_path / "leads.parquet"
    generate_leads(3000, seed=21).to_parquet(src, index=False)
    uri = trained_leads["uris"]["lightgbm"]
    runner = CliRunner()
    for engine, options in (
        ("pandas", ["--engine", "pandas"]),
        ("spark", ["--engine", "spark", "--spark-master", cluster.url]),
    ):
        args = ["score", "-m", uri, "-i", str(src), "-o", str(tmp_path / f"{engine}.parquet")]
        result = runner.invoke(app, [*args, *options])
        assert result.exit_code == 0, (result.output, result.exception)
        assert "scored 3,000 rows" in result.stdout
    ran_on_the_cluster(cluster, "salesml-score")

    a = pd.read_parquet(tmp_path / "pandas.parquet")
    b = pd.read_parquet(tmp_path / "spark.parquet").set_index("lead_id").loc[a["lead_id"]]
    b = b.reset_index()
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_series_equal(a["probability"], b["probability"], rtol=1e-12)
    for col in ("lead_id", "score", "tier", "reason_1", "reason_2", "reason_3"):
        assert (a[col].fillna("") == b[col].fillna("")).all(), col
