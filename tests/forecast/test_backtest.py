"""The rolling-origin backtest: origins, no leakage, refusal when it does not fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.forecast.backtest import backtest, backtest_cutoffs, window_mase


class SpyForecaster:
    """Forecasts the last training value and records every training set it saw."""

    uses_exog = False
    seen: list[pd.Timestamp] = []

    def fit(self, df: pd.DataFrame) -> SpyForecaster:
        self.df = df
        SpyForecaster.seen.append(df["ds"].max())
        return self

    def update(self, df: pd.DataFrame) -> SpyForecaster:
        self.df = df
        SpyForecaster.seen.append(df["ds"].max())
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        last = self.df.groupby("unique_id").tail(1)
        rows = [
            pd.DataFrame(
                {"unique_id": u, "ds": pd.date_range(d, periods=h + 1, freq="D")[1:], "yhat": y}
            )
            for u, d, y in zip(last["unique_id"], last["ds"], last["y"], strict=True)
        ]
        return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("refit", [True, False])
def test_backtest_cutoffs_never_leak(refit: bool, daily_long) -> None:
    df = daily_long(n=60)
    dates = pd.DatetimeIndex(np.sort(df["ds"].unique()))
    cutoffs = backtest_cutoffs(dates, horizon=5, windows=3, step=4)
    assert [dates.get_loc(c) for c in cutoffs] == [
        42,
        47,
        51,
        55,
    ]  # calibration first, last ends at 59
    SpyForecaster.seen = []
    fc = backtest(SpyForecaster, df, cutoffs, horizon=5, season_length=7, refit=refit)
    assert len(SpyForecaster.seen) == len(cutoffs)
    for seen, cutoff in zip(SpyForecaster.seen, cutoffs, strict=True):
        assert seen < cutoff
    for k, cutoff in enumerate(cutoffs):
        part = fc[fc["window"] == k]
        assert part["ds"].min() == cutoff
        assert sorted(part["step"].unique()) == [1, 2, 3, 4, 5]
        assert len(part) == 3 * 5
        # the forecast is the last value before the cutoff: only past data were used
        last = df[df["ds"] < cutoff].groupby("unique_id")["y"].last()
        assert np.allclose(part["yhat"], part["unique_id"].map(last))
    assert fc["ds"].max() == dates[-1]


def test_backtest_that_does_not_fit_is_refused() -> None:
    dates = pd.date_range("2024-01-01", periods=20, freq="D")
    with pytest.raises(DataError, match="lower backtest.windows"):
        backtest_cutoffs(dates, horizon=7, windows=2)


def test_window_mase_averages_scaled_errors_per_series_of_one_window() -> None:
    fc = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b", "a"],
            "window": [0, 0, 0, 0, 1],
            "y": [10.0, 10.0, 4.0, 6.0, 10.0],
            "yhat": [12.0, 9.0, 4.0, 4.0, 0.0],
            "scale": [2.0, 2.0, 1.0, 1.0, 1.0],
        }
    )
    # window 0: series a (2 + 1) / 2 / 2 = 0.75, series b (0 + 2) / 2 / 1 = 1.0; window 1 ignored
    assert window_mase(fc, 0, "unique_id", "y") == pytest.approx((0.75 + 1.0) / 2)
    assert window_mase(fc, 1, "unique_id", "y") == pytest.approx(10.0)
