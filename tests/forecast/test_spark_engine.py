"""``engine: spark``: the same backtest, forecasts and exported models as the local engine.

The Spark tests (marked slow) share one ``local[2]`` session (tests/forecast/conftest.py).
The equality test runs every candidate on 200 daily series on both engines; 40 of the
series are short, so the fallback ladder's forms are used (and fitted on Spark too:
``min_series`` is 10 here).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import one_paragraph
from forecast.conftest import SPARK_CONF, SPARK_MASTER
from salesml.cli import app
from salesml.errors import ConfigError, EngineError
from salesml.experiment.config import load_experiment
from salesml.forecast.fallback import with_fallbacks
from salesml.forecast.models import StatsForecaster
from salesml.forecast.spark_models import SparkStatsForecaster, partition_ids

H = 7
CANDIDATES = (
    "naive",
    "seasonal_naive",
    "last_year_growth",
    "auto_ets",
    "auto_theta",
    "lightgbm_global",
)


def _sales(n: int = 200, seed: int = 7, short: int = 20) -> pd.DataFrame:
    """84 days of daily sales; ``short`` series start on day 60, ``short`` more on day 74.

    With a horizon of 7 and two windows (origins on days 63, 70, 77) the short series
    take naive, then the non-seasonal form, then the model.
    """
    from salesml.synthetic import generate_sales

    sales = generate_sales(n, seed=seed, n_days=84)
    ids = sorted(sales["unique_id"].unique())
    start = {**dict.fromkeys(ids[:short], 60), **dict.fromkeys(ids[short : 2 * short], 74)}
    day = (sales["ds"] - sales["ds"].min()).dt.days
    return sales[day >= sales["unique_id"].map(start).fillna(0)].reset_index(drop=True)


def _config(csv: Path, **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "spark-engine",
        "task": "forecast",
        "data": {
            "path": str(csv),
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "D",
            "exog": ["promo"],
        },
        "horizon": H,
        "backtest": {"windows": 2},
        "seasonality_test": "on",
        "spark": {"master": SPARK_MASTER, "conf": SPARK_CONF, "min_series": 10},
        "evaluation": {"bootstrap": 100, "seed": 3},
        "baselines": [
            "naive",
            "seasonal_naive",
            {"type": "last_year_growth", "params": {"year": 28, "quarter": 7}},
        ],
        "models": [
            {"type": "auto_ets", "params": {"model": "AAA", "damped": False}},
            "auto_theta",
            {"type": "lightgbm_global", "params": {"n_estimators": 30}},
        ],
    }
    raw.update(changes)
    return raw


def _task(folder: Path, raw: dict[str, Any]) -> Any:
    from salesml.forecast.task import ForecastTask

    path = folder / f"{raw['name']}-{raw.get('engine', 'local')}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return ForecastTask(load_experiment(path))


@pytest.fixture(scope="module")
def engines(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every candidate's backtest and final model on both engines, and their seconds."""
    folder = tmp_path_factory.mktemp("spark_engine")
    csv = folder / "sales.csv"
    _sales().to_csv(csv, index=False)
    out: dict[str, Any] = {}
    for engine in ("local", "spark"):
        task = _task(folder, _config(csv, engine=engine))
        task.prepare()
        results, started = {}, time.perf_counter()
        for _, cand in task.config.candidates:
            params = dict(cand.params)
            refit = bool(params.pop("refit", True))
            results[cand.name] = task._forecasts(cand, params, refit)
        out[engine] = {"task": task, "results": results, "seconds": time.perf_counter() - started}
    return out


def _future(task: Any, h: int) -> pd.DataFrame:
    from salesml.forecast.data import future_frame

    ids = sorted(task.df["unique_id"].unique())
    return future_frame(task.df, ids, h, task.freq, ["promo"])


# ---------------------------------------------------------------- Spark equals local


@pytest.mark.slow
@pytest.mark.parametrize("name", CANDIDATES)
def test_spark_backtest_and_final_forecasts_equal_the_local_engine(engines, name: str):
    (fc_local, final_local), (fc_spark, final_spark) = (
        engines[e]["results"][name] for e in ("local", "spark")
    )
    pd.testing.assert_frame_equal(fc_spark, fc_local, rtol=1e-9)
    assert set(fc_local["window"]) == {0, 1, 2} and fc_local["unique_id"].nunique() == 200
    assert final_spark.assignment() == final_local.assignment()
    assert final_spark.failures == final_local.failures
    X = _future(engines["local"]["task"], H)
    pd.testing.assert_frame_equal(final_spark.predict(H, X), final_local.predict(H, X), rtol=1e-9)


@pytest.mark.slow
def test_the_short_series_used_the_fallback_forms(engines):
    forms = {name: set(fc["form"]) for name, (fc, _) in engines["spark"]["results"].items()}
    assert {"model", "no_season", "non_seasonal", "naive"} <= forms["auto_ets"]
    assert {"model", "seasonal_naive", "naive"} <= forms["last_year_growth"]
    assert forms["seasonal_naive"] == {"model", "naive"}


@pytest.mark.slow
def test_the_fits_ran_on_spark_except_the_small_ones(engines):
    for name in ("naive", "seasonal_naive", "auto_ets", "auto_theta"):
        entries = engines["spark"]["results"][name][1].entries_
        stats = [e for e in entries if isinstance(e.forecaster, SparkStatsForecaster)]
        assert stats, name
        for e in stats:  # min_series is 10: smaller fits run on the driver
            assert e.forecaster.spark_h_ == (H if len(e.fit_ids) >= 10 else 0), (name, e.step)
        assert any(e.forecaster.spark_h_ for e in stats), name
    lgbm = engines["spark"]["results"]["lightgbm_global"][1].primary
    assert lgbm.on_spark_ and len(lgbm.models_) == 1
    local = engines["local"]["results"]["auto_ets"][1].entries_
    assert not any(isinstance(e.forecaster, SparkStatsForecaster) for e in local)


@pytest.mark.slow
def test_exported_spark_models_predict_without_spark_like_the_local_ones(engines, monkeypatch):
    import cloudpickle

    from salesml.forecast.export import ForecastPredictor

    def no_spark(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an exported model started Spark")

    monkeypatch.setattr("salesml.runtime.spark.spark_session", no_spark)
    task = engines["local"]["task"]
    ids = sorted(task.df["unique_id"].unique())
    scales = pd.Series(1.0, index=ids)
    for name in CANDIDATES:
        loaded = {}
        for engine in ("local", "spark"):
            final = engines[engine]["results"][name][1]
            predictor = ForecastPredictor(final, name, H, [80], {80: np.full(H, 0.5)}, scales)
            blob = cloudpickle.dumps(predictor)
            assert b"pyspark" not in blob and b"SparkSession" not in blob, name
            loaded[engine] = cloudpickle.loads(blob)
        for h in (3, H, H + 3):  # beyond the horizon: forecast locally from the kept history
            frame = (
                _future(task, h)
                if name == "lightgbm_global"
                else pd.DataFrame({"unique_id": ids, "h": h})
            )
            got, want = loaded["spark"].predict(frame), loaded["local"].predict(frame)
            assert len(want) == 200 * h
            pd.testing.assert_frame_equal(got, want, rtol=1e-9)


# ---------------------------------------------------------------- LightGBM partitions


@pytest.mark.slow
def test_lightgbm_trains_one_model_per_partition_on_spark(engines):
    from salesml.forecast.global_lgbm import GlobalLightGBM
    from salesml.forecast.spark import SparkEngine
    from salesml.forecast.spark_models import PartitionedLightGBM

    task = engines["spark"]["task"]
    df, X = task.df, _future(task, H)
    base = GlobalLightGBM("D", 7, ("promo",), {"n_estimators": 30}, seed=0, partition_series=60)
    engine = SparkEngine(SPARK_MASTER, SPARK_CONF, H, min_series=10)
    split = PartitionedLightGBM(base, engine).fit(df)
    assert split.on_spark_ and sorted(split.models_) == [0, 1, 2, 3]
    sizes = pd.Series(split.part_of_).value_counts()
    assert sizes.tolist() == [50, 50, 50, 50]
    fc = split.predict(H, X)
    assert fc["unique_id"].nunique() == 200
    for part, group in pd.Series(split.part_of_).groupby(lambda uid: split.part_of_[uid]):
        ids = list(group.index)
        alone = copy.deepcopy(base).fit(df[df["unique_id"].isin(ids)])
        want = alone.predict(H, X[X["unique_id"].isin(ids)])
        got = fc[fc["unique_id"].isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, rtol=1e-9, obj=f"partition {part}")
    whole = copy.deepcopy(base).fit(df).predict(H, X)
    assert not np.allclose(whole["yhat"], fc["yhat"])  # a model per partition is another model


# ---------------------------------------------------------------- failures


@pytest.mark.slow
def test_a_model_error_on_spark_takes_the_same_fallbacks_as_locally(engines):
    from salesml.forecast.spark import SparkEngine

    df = engines["local"]["task"].df
    df = df[df["unique_id"].isin(sorted(df["unique_id"].unique())[30:60])]
    zero = df["unique_id"].isin(sorted(df["unique_id"].unique())[:3]) & (df["ds"] == df["ds"].max())
    df = df.assign(y=df["y"].where(~zero, 0.0))  # a multiplicative ETS cannot take a zero
    ets = StatsForecaster("AutoETS", "D", 7, {"model": "MAM", "damped": False})
    engine = SparkEngine(SPARK_MASTER, SPARK_CONF, H, min_series=10)
    with pytest.warns(UserWarning, match="fails on series"):
        local = with_fallbacks(ets, 7).fit(df)
    with pytest.warns(UserWarning, match="fails on series"):
        spark = with_fallbacks(ets, 7, adapt=engine.adapter()).fit(df)
    assert len(local.failures) >= 3 and spark.failures == local.failures
    assert spark.assignment() == local.assignment()
    pd.testing.assert_frame_equal(spark.predict(H), local.predict(H), rtol=1e-9)


@pytest.mark.slow
def test_update_of_a_spark_fit_estimates_locally_then_filters(engines):
    from salesml.forecast.spark import SparkEngine

    df = engines["local"]["task"].df
    df = df[df["unique_id"].isin(sorted(df["unique_id"].unique())[40:70])]
    cutoff = df["ds"].max() - pd.Timedelta(days=13)
    ets = StatsForecaster("AutoETS", "D", 7, {"model": "AAN", "damped": False})
    spark = SparkStatsForecaster(ets, SparkEngine(SPARK_MASTER, SPARK_CONF, H, min_series=10))
    spark.fit(df[df["ds"] < cutoff])
    assert spark.spark_h_ == H
    local = copy.deepcopy(ets).fit(df[df["ds"] < cutoff])
    pd.testing.assert_frame_equal(spark.predict(H), local.predict(H), rtol=1e-9)
    spark.update(df)
    local.update(df)
    assert spark.spark_h_ == 0  # the parameters were estimated on the driver
    pd.testing.assert_frame_equal(spark.predict(H), local.predict(H), rtol=1e-9)


class _Unreachable:
    """An engine whose cluster is gone."""

    horizon, min_series = H, 2

    def wants_spark(self, n_series: int) -> bool:
        return True

    def session(self) -> Any:
        raise ConnectionError("spark://gone:7077 refused the connection")


def test_an_engine_failure_is_raised_not_taken_for_a_model_failure(daily_long):
    def adapt(f: Any) -> Any:
        return SparkStatsForecaster(f, _Unreachable()) if isinstance(f, StatsForecaster) else f

    model = with_fallbacks(StatsForecaster("AutoETS", "D", 7), 7, adapt=adapt)
    with pytest.raises(EngineError, match="Spark failed while forecasting AutoETS.*refused"):
        model.fit(daily_long())
    assert model.failures == []  # no simpler form was tried


# ---------------------------------------------------------------- config and CLI


def test_partitions_hold_at_most_n_series_and_are_balanced():
    ids = [f"s{i:03d}" for i in range(11)]
    parts = partition_ids(ids, 4)
    assert pd.Series(parts).value_counts().sort_index().tolist() == [4, 4, 3]
    assert partition_ids(ids, 100) == dict.fromkeys(ids, 0)
    assert list(parts) == sorted(ids)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engine": "dask"}, r"engine: Input should be 'local' or 'spark' \(got 'dask'\)"),
        ({"spark": {"min_series": 1}}, r"spark.min_series: Input should be greater"),
        ({"spark": {"mastr": "local[2]"}}, r"spark.mastr: unknown key"),
        (
            {"models": [{"type": "lightgbm_global", "params": {"partition_series": 0}}]},
            r"partition_series: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_engine_settings_are_config_errors(tmp_path: Path, changes, message: str):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path / "sales.csv", **changes)), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_experiment(path)


def test_engine_defaults_to_local(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    raw = _config(tmp_path / "sales.csv")
    del raw["spark"]
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    cfg = load_experiment(path)
    assert cfg.engine == "local" and cfg.spark.master is None and cfg.spark.min_series == 50


def test_run_engine_spark_refuses_a_classification_config(tmp_path: Path, write_yaml):
    path = write_yaml(
        {
            "name": "leads",
            "task": "lead_conversion",
            "data": {"path": "leads.csv", "target": "converted"},
            "baselines": ["prior"],
        }
    )
    err = one_paragraph(CliRunner().invoke(app, ["run", str(path), "--engine", "spark"]))
    assert "--engine and --spark-master apply to experiments whose task has an engine" in err
    assert "lead_conversion models train in this process" in err
    err = one_paragraph(CliRunner().invoke(app, ["run", str(path), "--spark-master", "local"]))
    assert "whose task has an engine setting" in err
    err = one_paragraph(CliRunner().invoke(app, ["run", str(path), "--engine", "dask"]))
    assert "--engine 'dask': choose local or spark" in err
    args = ["run", str(path), "--engine", "local", "--spark-master", "local[2]"]
    assert "drop one of them" in one_paragraph(CliRunner().invoke(app, args))


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_salesml_run_engine_spark_equals_the_local_run(spark, tmp_path: Path, tracking: str):
    import mlflow
    from mlflow import MlflowClient

    from salesml import load_summary

    csv = tmp_path / "sales.csv"
    _sales(50, seed=11, short=5).to_csv(csv, index=False)
    raw = _config(
        csv,
        name="spark-e2e",
        backtest={"windows": 1},
        baselines=["seasonal_naive"],
        models=[
            {"type": "auto_ets", "params": {"model": "ANN", "refit": False}},
            {"type": "lightgbm_global", "params": {"n_estimators": 20}},
        ],
    )
    del raw["spark"]["master"]  # from --spark-master
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    runner = CliRunner()
    for engine in ("local", "spark"):
        args = ["run", str(path), "-o", str(tmp_path / engine)]
        args += ["--engine", "local"] if engine == "local" else ["--spark-master", SPARK_MASTER]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (result.output, result.exception)
    local, spark_run = (load_summary(tmp_path / e) for e in ("local", "spark"))
    assert (local.data.engine, local.data.spark_master) == ("local", None)
    assert (spark_run.data.engine, spark_run.data.spark_master) == ("spark", SPARK_MASTER)
    assert spark_run.data.fallbacks == local.data.fallbacks
    for want in local.candidates:
        got = spark_run.candidate(want.name)
        assert got.status == want.status == "ok", got.error
        assert set(got.metrics) == set(want.metrics)
        for key, value in want.metrics.items():
            assert got.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (want.name, key)
    assert spark_run.champion.name == local.champion.name
    params = MlflowClient(tracking).get_run(spark_run.candidate("auto_ets").mlflow_run_id).data
    assert params.params["engine"] == "spark" and params.params["refit"] == "False"
    mlflow.set_tracking_uri(tracking)
    ask = pd.DataFrame({"unique_id": sorted(pd.read_csv(csv)["unique_id"].unique()), "h": H})
    a, b = (mlflow.pyfunc.load_model(s.candidate("auto_ets").model_uri) for s in (local, spark_run))
    pd.testing.assert_frame_equal(b.predict(ask), a.predict(ask), rtol=1e-9)


def test_the_spark_forecaster_keeps_the_stl_season_of_weekly_ets():
    base = StatsForecaster("AutoETS", "W-FRI", 52, {"damped": False}, decompose=True)
    spark_form = SparkStatsForecaster(base, engine=None)
    assert type(spark_form._model()).__name__ == "MSTL"
    states = SparkStatsForecaster(StatsForecaster("AutoETS", "W-FRI", 52), engine=None)
    assert type(states._model()).__name__ == "AutoETS"
