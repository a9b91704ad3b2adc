"""The exported forecaster's inputs: named ``any`` columns, typed by its card, coerced by predict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.forecast.models import StatsForecaster


def _exported(daily_long, example: pd.DataFrame):
    from salesml.forecast.export import ExportedForecaster, ForecastPredictor

    model = StatsForecaster("Naive", "D", 7, seasonal=False).fit(daily_long(n=40))
    quantiles = {80: np.array([1.0, 2.0])}
    scales = pd.Series(1.0, index=["A", "B", "C"])
    predictor = ForecastPredictor(model, "naive", 3, [80], quantiles, scales)
    return ExportedForecaster(predictor, example)


def test_signature_names_the_columns_and_the_card_types_them(daily_long) -> None:
    exported = _exported(daily_long, pd.DataFrame({"unique_id": ["A", "B"], "h": [3, 3]}))
    sig = exported.signature()
    assert sig.inputs.input_names() == ["unique_id", "h"]
    assert sig.inputs.required_input_names() == ["unique_id"]  # h may come as a param
    assert {c.type.to_dict()["type"] for c in sig.inputs.inputs} == {"any"}
    facts = exported.metadata()["salesml"]
    assert facts["input_types"] == {"unique_id": "string", "h": "long"}
    json.dumps(facts)


def test_predict_takes_h_as_any_number_type_and_refuses_non_finite(daily_long) -> None:
    predictor = _exported(daily_long, pd.DataFrame({"unique_id": ["A"], "h": [3]})).predictor
    ints = predictor.predict(pd.DataFrame({"unique_id": ["A", "B"], "h": [2, 2]}))
    floats = predictor.predict(pd.DataFrame({"unique_id": ["A", "B"], "h": [2.0, 2.0]}))
    texts = predictor.predict(pd.DataFrame({"unique_id": ["A", "B"], "h": ["2", "2"]}))
    pd.testing.assert_frame_equal(ints, floats)
    pd.testing.assert_frame_equal(ints, texts)
    assert len(ints) == 4
    for bad, shown in ((np.inf, "inf"), ("Infinity", "'Infinity'"), (2.5, "2.5")):
        frame = pd.DataFrame({"unique_id": ["A", "B"], "h": [2, bad]})
        with pytest.raises(DataError, match=f"column 'h' .*got {shown} in data row 2"):
            predictor.predict(frame)


def test_integer_series_ids_are_matched_as_text(daily_long) -> None:
    from salesml.forecast.export import ExportedForecaster, ForecastPredictor

    df = daily_long(n=40)
    df["unique_id"] = df["unique_id"].map({"A": "1", "B": "15", "C": "18"})
    model = StatsForecaster("Naive", "D", 7, seasonal=False).fit(df)
    scales = pd.Series(1.0, index=["1", "15", "18"])
    predictor = ForecastPredictor(model, "naive", 2, [80], {80: np.array([1.0, 2.0])}, scales)
    ExportedForecaster(predictor, pd.DataFrame({"unique_id": ["1"], "h": [2]}))
    out = predictor.predict(pd.DataFrame({"unique_id": [15, 18]}))  # as pd.read_csv gives them
    assert sorted(out["unique_id"].unique()) == ["15", "18"] and len(out) == 4
