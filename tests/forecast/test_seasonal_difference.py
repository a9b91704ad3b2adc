"""Seasonal differences: the seasonal form of series with one to two seasons of history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.forecast.fallback import with_fallbacks
from salesml.forecast.models import StatsForecaster
from salesml.forecast.seasonal_difference import SeasonalDifference, difference_params


def _frame(values: dict[str, np.ndarray], freq: str = "W-FRI") -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": uid, "ds": pd.date_range(end="2024-06-28", periods=len(y), freq=freq)}
            ).assign(y=y)
            for uid, y in values.items()
        ],
        ignore_index=True,
    )


def _retail(n: int, seed: int, growth: float = 0.5) -> np.ndarray:
    """Weekly sales: a holiday peak every 52 weeks, a steady trend and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    peak = np.isin(t % 52, [20, 21, 22, 23, 24]) * 80.0
    return 200 + growth * t + peak + rng.normal(0, 3, n)


def test_forecast_is_last_season_plus_the_modelled_change() -> None:
    # with a naive model of the differences, step j is y[T+j-m] + (y[T] - y[T-m])
    y = {"a": _retail(80, 0), "b": _retail(70, 1, growth=-0.2)}
    inner = StatsForecaster("Naive", "W-FRI", 1, seasonal=False)
    model = SeasonalDifference(inner, 52).fit(_frame(y))
    assert model.fit(_frame(y)) is model
    fc = model.predict(60)  # beyond a season: the forecast a season earlier plus the change
    assert fc["ds"].min() == pd.Timestamp("2024-07-05") and len(fc) == 120
    for uid, v in y.items():
        got = fc.loc[fc["unique_id"] == uid, "yhat"].to_numpy()
        change = v[-1] - v[-53]
        expected = np.r_[v[-52:], v[-52:]][:60] + change * np.r_[np.ones(52), 2 * np.ones(8)]
        np.testing.assert_allclose(got, expected)


def test_the_inner_model_is_fitted_on_the_seasonal_differences_only() -> None:
    y = _retail(75, 2)
    inner = StatsForecaster("AutoETS", "W-FRI", 1, {"model": "ANN"}, seasonal=False)
    model = SeasonalDifference(inner, 52).fit(_frame({"s": y}))
    direct = StatsForecaster("AutoETS", "W-FRI", 1, {"model": "ANN"}, seasonal=False)
    d = _frame({"s": y}).iloc[52:].assign(y=y[52:] - y[:-52])
    expected = direct.fit(d).predict(8)["yhat"].to_numpy() + y[-52:-44]
    np.testing.assert_allclose(model.predict(8)["yhat"], expected)


def test_update_moves_the_origin_and_keeps_the_parameters() -> None:
    y = _retail(90, 3)
    df = _frame({"s": y})
    inner = StatsForecaster("AutoETS", "W-FRI", 1, {"model": "ANN"}, seasonal=False)
    model = SeasonalDifference(inner, 52).fit(df.iloc[:-8])
    fitted = model.inner.sf_.fitted_[0, 0]
    model.update(df)
    assert model.inner.sf_.fitted_[0, 0] is fitted
    fc = model.predict(4)
    assert fc["ds"].min() == pd.Timestamp("2024-07-05")
    d = y[52:] - y[:-52]
    np.testing.assert_allclose(fc["yhat"], fitted.forward(y=d, h=4)["mean"] + y[-52:-48])


def test_a_series_without_a_season_of_history_is_refused_by_name() -> None:
    inner = StatsForecaster("Naive", "W-FRI", 1, seasonal=False)
    with pytest.raises(ValueError, match="series 'short' has 40 periods"):
        SeasonalDifference(inner, 52).fit(_frame({"ok": _retail(60, 0), "short": _retail(40, 1)}))


def test_difference_params_keep_only_additive_ets_parts() -> None:
    assert difference_params("AutoETS", {"model": "MMN", "damped": True}) == {
        "model": "AAN",
        "damped": True,
    }
    assert difference_params("AutoETS", {"model": "ZZN"}) == {"model": "ZZN"}
    assert difference_params("AutoTheta", {"decomposition_type": "additive"}) == {
        "decomposition_type": "additive"
    }


def test_the_ladder_gives_differences_to_short_seasonal_series_only() -> None:
    rng = np.random.default_rng(4)
    y = {
        "seasonal": _retail(90, 4, growth=0.1),  # a season and a half, a holiday peak twice
        "flat": 200 + rng.normal(0, 3, 90),  # no season to difference
        "long": _retail(120, 5),  # two seasons: the model itself
        "young": _retail(59, 6),  # a season and 7 weeks: non-seasonal
    }
    df = _frame(y)
    ets = StatsForecaster("AutoETS", "W-FRI", 52, {"model": "ZZZ", "damped": False}, decompose=True)
    model = with_fallbacks(ets, 52).fit(df)
    assert model.assignment() == {
        "seasonal": "seasonal_difference",
        "flat": "non_seasonal",
        "long": "model",
        "young": "non_seasonal",
    }
    fc = model.predict(40)
    got = fc.loc[fc["unique_id"] == "seasonal", "yhat"].to_numpy()
    # the holiday peak (weeks 20-24 of the season, seen twice) is forecast again at
    # steps 35-39, about 80 over the weeks around it
    assert got[34:39].mean() > np.r_[got[28:33], got[40:]].mean() + 60
    flat = fc.loc[fc["unique_id"] == "young", "yhat"].to_numpy()
    assert flat[34:39].mean() < flat.mean() + 10  # the non-seasonal form has no peak


def test_a_fitted_ladder_with_differences_pickles_as_the_exported_model_does() -> None:
    import pickle

    df = _frame({"short": _retail(90, 4, growth=0.1), "long": _retail(120, 5)})
    ets = StatsForecaster("AutoETS", "W-FRI", 52, {"model": "ZZZ", "damped": False}, decompose=True)
    model = with_fallbacks(ets, 52).fit(df)
    assert model.assignment()["short"] == "seasonal_difference"
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.predict(30), model.predict(30))
