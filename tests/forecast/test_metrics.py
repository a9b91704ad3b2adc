"""Forecast accuracy metrics and split-conformal intervals against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.forecast.metrics import (
    add_intervals,
    bias,
    conformal_quantiles,
    coverage,
    evaluate_forecasts,
    seasonal_scales,
    smape,
    wape,
)


def one_window_metrics(
    y: np.ndarray, yhat: np.ndarray, y_train: np.ndarray, season_length: int
) -> dict[str, float]:
    """MASE and friends of one series and one window, as the backtest computes them.

    The scales are the in-sample seasonal-naive errors of ``y_train``
    (:func:`seasonal_scales`); :func:`evaluate_forecasts` does the rest.
    """
    train = pd.DataFrame({"unique_id": "s", "y": np.asarray(y_train, float)})
    scales = seasonal_scales(train, season_length)
    fc = pd.DataFrame(
        {
            "unique_id": "s",
            "window": 1,
            "step": np.arange(1, len(y) + 1),
            "y": np.asarray(y, float),
            "yhat": np.asarray(yhat, float),
        }
    ).join(scales, on="unique_id")
    metrics, _, _ = evaluate_forecasts(fc, [])
    return metrics


def test_metric_functions_against_hand_computations() -> None:
    y, yhat, train = (
        np.array([2.0, 4.0, 6.0]),
        np.array([3.0, 2.0, 6.0]),
        np.array([1.0, 3.0, 2.0, 4.0]),
    )
    # in-sample naive (season 1) errors 2, 1, 2: MAE 5/3, MSE 3
    scales = seasonal_scales(pd.DataFrame({"unique_id": "s", "y": train}), 1)
    assert scales.loc["s", "scale"] == pytest.approx(5 / 3)
    assert scales.loc["s", "scale2"] == pytest.approx(3.0)
    single = one_window_metrics(y, yhat, train, 1)
    assert single["mase"] == pytest.approx((3 / 3) / (5 / 3))
    assert single["rmsse"] == pytest.approx(np.sqrt((5 / 3) / 3))
    assert wape(y, yhat) == pytest.approx(3 / 12)
    assert smape(y, yhat) == pytest.approx((2 * 1 / 5 + 2 * 2 / 6 + 0) / 3)
    assert bias(y, yhat) == pytest.approx(-1 / 12)
    assert coverage(y, yhat - 1, yhat + 1) == pytest.approx(2 / 3)
    assert smape(np.zeros(2), np.zeros(2)) == 0.0


def test_evaluate_forecasts_averages_series_and_windows() -> None:
    fc = pd.DataFrame(
        {
            "unique_id": ["a", "a", "a", "a", "b", "b"],
            "window": [1, 1, 2, 2, 1, 1],
            "step": [1, 2, 1, 2, 1, 2],
            "y": [10.0, 10.0, 10.0, 10.0, 4.0, 6.0],
            "yhat": [12.0, 8.0, 10.0, 11.0, 4.0, 4.0],
            "scale": [2.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            "scale2": [4.0, 4.0, 1.0, 1.0, 1.0, 1.0],
            "lo-80": [11.0, 7.0, 9.0, 10.5, 3.0, 3.0],
            "hi-80": [13.0, 9.0, 11.0, 11.5, 5.0, 5.0],
        }
    )
    metrics, per_series, by_step = evaluate_forecasts(fc, [80])
    # series a: window 1 MAE 2 / scale 2 = 1, window 2 MAE 0.5 / 1 = 0.5 -> 0.75; series b: 1 / 1
    assert per_series["mase"].to_dict() == pytest.approx({"a": 0.75, "b": 1.0})
    assert metrics["mase"] == pytest.approx(0.875)
    assert per_series.loc["a", "rmsse"] == pytest.approx((np.sqrt(4 / 4) + np.sqrt(0.5 / 1)) / 2)
    # absolute errors 2, 2, 0, 1, 0, 2 over actuals summing to 50
    assert metrics["wape"] == pytest.approx(7 / 50)
    assert metrics["bias"] == pytest.approx((2 - 2 + 0 + 1 + 0 - 2) / 50)
    assert metrics["coverage_80"] == pytest.approx(2 / 6)
    assert by_step.to_dict() == pytest.approx({1: (1 + 0 + 0) / 3, 2: (1 + 1 + 2) / 3})


def test_conformal_intervals_use_only_finished_earlier_windows() -> None:
    errors = np.arange(1, 11) / 10
    q = conformal_quantiles(errors, np.ones(10, int), 1, [80, 95])
    assert q[80][0] == pytest.approx(0.9)  # ceil(11 * 0.8) = 9th smallest
    assert q[95][0] == pytest.approx(1.0)  # rank 11 > n: the largest
    cut = pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-05"])
    fc = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06"]
            ),
            "window": [0, 0, 1, 1, 2, 2],
            "cutoff": np.repeat(cut, 2),
            "step": [1, 2] * 3,
            "y": [10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
            "yhat": [11.0, 13.0, 10.0, 10.0, 10.0, 10.0],
            "scale": 1.0,
        }
    )
    out = add_intervals(fc, 2, [80])
    assert out.loc[out["window"] == 0, "lo-80"].isna().all()
    assert out.loc[out["window"] == 1, "hi-80"].tolist() == [11.0, 13.0]
    # window 2 pools windows 0 and 1: step 1 errors {1, 0}, step 2 {3, 0}
    assert out.loc[out["window"] == 2, "hi-80"].tolist() == [11.0, 13.0]


def test_scales_of_short_series_and_metrics_with_returns() -> None:
    # "short" has no pair a season (7) apart: it is scaled by its one-step errors 2 and 4.
    train = pd.DataFrame(
        {
            "unique_id": ["short"] * 3 + ["one"] + ["flat"] * 8,
            "y": [1.0, 3.0, -1.0, 5.0] + [2.0] * 8,
        }
    )
    scales = seasonal_scales(train, 7)
    assert scales.loc["short", "scale"] == pytest.approx(3.0)
    assert scales.loc["short", "scale2"] == pytest.approx(10.0)
    assert scales.loc["one", "scale"] == pytest.approx(5.0)  # one value: its size
    assert scales.loc["flat", "scale"] == pytest.approx(2.0)  # constant: its mean size
    # a return (-2) in the actuals: WAPE and bias divide by sum|y| = 12, not sum(y) = 8
    y, yhat = np.array([6.0, -2.0, 4.0]), np.array([5.0, 1.0, 4.0])
    assert wape(y, yhat) == pytest.approx(4 / 12)
    assert bias(y, yhat) == pytest.approx(2 / 12)
