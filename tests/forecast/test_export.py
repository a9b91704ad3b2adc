"""The exported forecast predictor: columns, horizon, future exogenous values, signature."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from salesml.experiment.registry import spec_for
from salesml.forecast.models import ForecastContext, StatsForecaster


def pyfunc(forecaster: Any, name: str = "m") -> Any:
    from salesml.forecast.export import ForecastPredictor

    quantiles = {80: np.array([1.0, 2.0]), 95: np.array([2.0, 3.0])}
    scales = pd.Series(1.0, index=["A", "B", "C"])
    return ForecastPredictor(forecaster, name, 3, [80, 95], quantiles, scales)


def test_pyfunc_wrapper_columns_and_horizon(daily_long) -> None:
    df = daily_long(n=40)
    wrapper = pyfunc(StatsForecaster("Naive", "D", 7, seasonal=False).fit(df), "naive")
    out = wrapper.predict(pd.DataFrame({"unique_id": ["B", "A"], "h": [4, 4]}))
    cols = ["naive-lo-80", "naive-hi-80", "naive-lo-95", "naive-hi-95"]
    assert list(out.columns) == ["unique_id", "ds", "naive", *cols]
    assert sorted(out["unique_id"].unique()) == ["A", "B"] and len(out) == 8
    first = out[out["unique_id"] == "A"]
    last_a = df[df["unique_id"] == "A"]["y"].iloc[-1]
    assert np.allclose(first["naive"], last_a)
    # steps beyond the calibrated horizon reuse the last quantile
    assert np.allclose(first["naive-hi-80"] - first["naive"], [1.0, 2.0, 2.0, 2.0])
    assert len(wrapper.predict(pd.DataFrame({"unique_id": ["C"]}))) == 3  # default horizon
    assert len(wrapper.predict(pd.DataFrame({"unique_id": ["C"]}), params={"h": 2})) == 2
    with pytest.raises(ValueError, match="unknown series"):
        wrapper.predict(pd.DataFrame({"unique_id": ["Z"]}))


def test_pyfunc_wrapper_with_future_exog(daily_long) -> None:
    df = daily_long(n=60, exog=["promo"])
    ctx = ForecastContext(freq="D", season_length=7, exog=("promo",), seed=0)
    model = spec_for("forecast", "lightgbm_global").make(ctx, n_estimators=20, holidays=None)
    model = model.fit(df)
    wrapper = pyfunc(model, "lgb")
    future = pd.DataFrame(
        {
            "unique_id": ["A"] * 2,
            "ds": pd.date_range("2022-03-04", periods=2, freq="D"),
            "promo": [1.0, 0.0],
        }
    )
    out = wrapper.predict(future)
    assert list(out.columns[:3]) == ["unique_id", "ds", "lgb"] and len(out) == 2
    assert (out["lgb-lo-95"] <= out["lgb"]).all() and (out["lgb"] <= out["lgb-hi-95"]).all()
    with pytest.raises(ValueError, match="future values of promo"):
        wrapper.predict(future.drop(columns="promo"))


def test_exported_signature_is_explicit_and_metadata_plain(daily_long) -> None:
    import json

    from salesml.forecast.export import ExportedForecaster

    df = daily_long(n=40)
    wrapper = pyfunc(StatsForecaster("Naive", "D", 7, seasonal=False).fit(df), "naive")
    example = pd.DataFrame({"unique_id": ["A", "B"], "h": [3, 3]})
    exported = ExportedForecaster(wrapper, example)
    sig = exported.signature()
    # declared by name, typed "any" so a frame read from a file is taken as it comes
    assert sig.inputs.input_names() == ["unique_id", "h"]
    assert sig.inputs.required_input_names() == ["unique_id"]
    outputs = {c.name: c.type.name for c in sig.outputs.inputs}
    assert outputs["ds"] == "datetime" and outputs["naive-hi-95"] == "double"
    facts = exported.metadata()["salesml"]
    assert facts["kind"] == "forecast" and facts["horizon"] == 3
    assert facts["input_types"] == {"unique_id": "string", "h": "long"}  # what training saw
    json.dumps(facts)  # plain data for the MLmodel file


def test_series_with_returns_are_not_clipped_at_zero() -> None:
    from salesml.forecast.export import ForecastPredictor
    from salesml.forecast.fallback import with_fallbacks

    dates = pd.date_range("2024-01-05", periods=6, freq="W-FRI")
    df = pd.DataFrame(
        {
            "unique_id": ["R"] * 6 + ["P"] * 6,
            "ds": list(dates) * 2,
            "y": [4.0, 2.0, -1.0, 3.0, 1.0, -3.0] + [4.0, 2.0, 1.0, 3.0, 1.0, 0.5],
        }
    )
    model = with_fallbacks(StatsForecaster("Naive", "W-FRI", 52, seasonal=False), 52).fit(df)
    quantiles = {80: np.array([1.0, 2.0])}
    scales = pd.Series(1.0, index=["P", "R"])
    signed = ForecastPredictor(model, "m", 2, [80], quantiles, scales, signed=["R"])
    out = signed.predict(pd.DataFrame({"unique_id": ["P", "R"], "h": [2, 2]}))
    r, p = out[out["unique_id"] == "R"], out[out["unique_id"] == "P"]
    assert r["m"].tolist() == [-3.0, -3.0] and r["m-lo-80"].tolist() == [-4.0, -5.0]
    assert p["m"].tolist() == [0.5, 0.5] and p["m-lo-80"].tolist() == [0.0, 0.0]
    unsigned = ForecastPredictor(model, "m", 2, [80], quantiles, scales)
    out = unsigned.predict(pd.DataFrame({"unique_id": ["R"], "h": [2]}))
    assert out["m"].tolist() == [0.0, 0.0]
