"""``salesml score`` on forecast models: horizons, exogenous rows, unknown series."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console

from salesml import load_experiment, run_experiment
from salesml.errors import DataError
from salesml.scoring.batch import score_file


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("forecast_run")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    raw = {
        "name": "scoring-forecast",
        "task": "forecast",
        "data": {
            "path": "sales.csv",
            "generate": {"kind": "sales", "rows": 4, "seed": 9},
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "D",
            "exog": ["price", "promo"],
        },
        "horizon": 14,
        "backtest": {"windows": 1},
        "evaluation": {"bootstrap": 50},
        "baselines": ["seasonal_naive"],
        "models": [{"type": "lightgbm_global", "params": {"n_estimators": 50}}],
    }
    path = folder / "f.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    summary = run_experiment(
        load_experiment(path), folder / "out", store, console=Console(file=io.StringIO())
    )
    assert not summary.failed
    history = pd.read_csv(folder / "sales.csv", parse_dates=["ds"])
    return {"summary": summary, "store": store, "history": history}


def _score(run: dict, name: str, frame: pd.DataFrame, tmp_path: Path, **kw) -> pd.DataFrame:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    uri = run["summary"].candidate(name).model_uri
    score_file(uri, src, out, tracking_uri=run["store"], **kw)
    return pd.read_csv(out, parse_dates=["ds"])


def test_forecast_for_the_stored_horizon_and_fewer_steps(forecast_run, tmp_path: Path):
    ids = sorted(forecast_run["history"]["unique_id"].unique())[:2]
    out = _score(forecast_run, "seasonal_naive", pd.DataFrame({"unique_id": ids}), tmp_path)
    assert list(out.columns[:3]) == ["unique_id", "ds", "seasonal_naive"]
    assert {"seasonal_naive-lo-95", "seasonal_naive-hi-80"} <= set(out.columns)
    assert out.groupby("unique_id").size().tolist() == [14, 14]
    last = forecast_run["history"]["ds"].max()
    assert out["ds"].min() == last + pd.Timedelta(days=1)
    assert (out["seasonal_naive-lo-95"] <= out["seasonal_naive"]).all()
    short = _score(forecast_run, "seasonal_naive", pd.DataFrame({"unique_id": ids}), tmp_path, h=5)
    assert short.groupby("unique_id").size().tolist() == [5, 5]
    pd.testing.assert_frame_equal(short, out.groupby("unique_id").head(5).reset_index(drop=True))


def test_exogenous_model_takes_future_rows(forecast_run, tmp_path: Path):
    from salesml import future_frame

    hist = forecast_run["history"]
    ids = sorted(hist["unique_id"].unique())[:3]
    future = future_frame(hist, ids, 14, "D", ["price", "promo"])
    out = _score(forecast_run, "lightgbm_global", future, tmp_path, h=7)
    assert out.groupby("unique_id").size().tolist() == [7, 7, 7]
    assert out["lightgbm_global"].notna().all()


def test_unknown_series_and_bad_horizon_are_named(forecast_run, tmp_path: Path):
    frame = pd.DataFrame({"unique_id": ["store_never_seen", "another_one"]})
    with pytest.raises(DataError, match="unknown series: store_never_seen, another_one"):
        _score(forecast_run, "seasonal_naive", frame, tmp_path)
    assert not (tmp_path / "out.csv").exists()
    ids = pd.DataFrame({"unique_id": sorted(forecast_run["history"]["unique_id"].unique())[:1]})
    with pytest.raises(DataError, match="forecasts 1 to 14 steps"):
        _score(forecast_run, "seasonal_naive", ids, tmp_path, h=30)


def test_forecast_models_are_from_code_with_an_explicit_schema(forecast_run, tmp_path: Path):
    import mlflow

    mlflow.set_tracking_uri(forecast_run["store"])
    uri = forecast_run["summary"].candidate("seasonal_naive").model_uri
    path = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path)))
    files = {p.name for p in path.rglob("*")}
    assert {"predictor.pkl", "pyfunc_entry.py"} <= files
    assert "python_model.pkl" not in files  # not a cloudpickled PythonModel object
    from mlflow.models import Model

    model = Model.load(str(path / "MLmodel"))
    schema = model.get_input_schema()
    # the columns are named (``h`` optional); their types are the card's, coerced by predict
    assert schema.input_names() == ["unique_id", "h"]
    assert schema.required_input_names() == ["unique_id"]
    assert model.metadata["salesml"]["input_types"] == {"unique_id": "string", "h": "long"}
    assert model.metadata["salesml"]["kind"] == "forecast"


def _pyfunc(run: dict, name: str):
    import mlflow

    mlflow.set_tracking_uri(run["store"])
    return mlflow.pyfunc.load_model(run["summary"].candidate(name).model_uri)


def test_forecasters_take_frames_read_from_csv(forecast_run, tmp_path: Path):
    """``h`` as int64 or decimals, dates as text, int64 promos and prices: all taken."""
    from salesml import future_frame

    hist = forecast_run["history"]
    ids = sorted(hist["unique_id"].unique())[:2]
    src = tmp_path / "ask.csv"
    pd.DataFrame({"unique_id": ids, "h": [6, 6]}).to_csv(src, index=False)
    ask = pd.read_csv(src)
    naive = _pyfunc(forecast_run, "seasonal_naive")
    out = naive.predict(ask)
    assert out.groupby("unique_id").size().tolist() == [6, 6]
    pd.testing.assert_frame_equal(naive.predict(ask.astype({"h": float})), out)
    assert len(naive.predict(ask[["unique_id"]])) == 2 * 14  # h is optional: the stored horizon

    future = future_frame(hist, ids, 14, "D", ["price", "promo"])
    future.to_csv(src, index=False)
    raw = pd.read_csv(src)  # ds as text, promo as int64, price as float64
    assert raw["ds"].dtype == object
    lgb = _pyfunc(forecast_run, "lightgbm_global")
    got = lgb.predict(raw)
    pd.testing.assert_frame_equal(got, lgb.predict(future))
    assert len(got) == 2 * 14 and got["lightgbm_global"].notna().all()
    whole = raw.assign(price=raw["price"].round().astype("int64"))  # prices without cents
    assert lgb.predict(whole)["lightgbm_global"].notna().all()


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "Infinity"])
def test_forecasters_refuse_non_finite_exogenous_values(forecast_run, value):
    from mlflow.exceptions import MlflowException

    from salesml import future_frame

    hist = forecast_run["history"]
    ids = sorted(hist["unique_id"].unique())[:2]
    future = future_frame(hist, ids, 14, "D", ["price", "promo"]).astype({"price": object})
    future.loc[future.index[3], "price"] = value
    with pytest.raises(DataError) as info:
        _pyfunc(forecast_run, "lightgbm_global").predict(future)
    assert "'price'" in str(info.value) and "finite" in str(info.value)
    assert "data row 4" in str(info.value)
    assert isinstance(info.value, MlflowException) and info.value.get_http_status_code() == 400


def test_forecaster_refusals_are_input_errors(forecast_run):
    from mlflow.exceptions import MlflowException

    naive = _pyfunc(forecast_run, "seasonal_naive")
    with pytest.raises(MlflowException, match="unknown series: nowhere") as info:
        naive.predict(pd.DataFrame({"unique_id": ["nowhere"], "h": [3]}))
    assert info.value.get_http_status_code() == 400 and isinstance(info.value, DataError)
    with pytest.raises(DataError, match="'h' must hold whole numbers"):
        naive.predict(pd.DataFrame({"unique_id": ["x"], "h": [2.5]}))
