"""Forecasters: baselines against hand computations, last year's growth, the holiday feature.

Forecasters are built from their registry declarations, as the forecast task builds them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from salesml.errors import ConfigError
from salesml.experiment.config import load_experiment
from salesml.experiment.registry import spec_for
from salesml.forecast.models import ForecastContext, LastYearGrowth


def build(type_: str, freq: str, season_length: int, **params: Any) -> Any:
    """The unfitted forecaster of candidate ``type_``, built from the registry."""
    ctx = ForecastContext(freq=freq, season_length=season_length, exog=(), seed=0)
    return spec_for("forecast", type_).make(ctx, **params)


def one_series(values: list[float], freq: str = "D") -> pd.DataFrame:
    ds = pd.date_range("2023-01-02", periods=len(values), freq=freq)
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": np.asarray(values, float)})


# ---------------------------------------------------------------- baselines


def test_statistical_baselines_match_hand_computations() -> None:
    df = one_series([1, 2, 3, 4, 5, 6, 7, 8])
    naive = build("naive", "D", 4).fit(df).predict(3)
    assert naive["yhat"].tolist() == [8, 8, 8]
    assert naive["ds"].tolist() == list(pd.date_range("2023-01-10", periods=3, freq="D"))
    snaive = build("seasonal_naive", "D", 4).fit(df).predict(6)
    assert snaive["yhat"].tolist() == [5, 6, 7, 8, 5, 6]
    ma = build("moving_average", "D", 4, window=3).fit(df).predict(2)
    assert ma["yhat"].tolist() == pytest.approx([7, 7])
    default_window = build("moving_average", "D", 4).fit(df).predict(1)
    assert default_window["yhat"].tolist() == pytest.approx([6.5])  # mean of the last season


def test_last_year_growth_by_hand() -> None:
    # year = 4 periods, quarter = 2: growth = (35 + 45) / (30 + 40) = 8 / 7
    df = one_series([10, 20, 30, 40, 15, 25, 35, 45])
    fc = LastYearGrowth("D", season_length=2, year=4, quarter=2).fit(df).predict(5)
    g = 80 / 70
    assert fc["yhat"].to_numpy() == pytest.approx(np.array([15, 25, 35, 45, 15]) * g)
    # less than a year and a quarter of history: seasonal naive (season 2)
    short = one_series([1, 2, 3, 4, 5])
    assert LastYearGrowth("D", 2, 4, 2).fit(short).predict(3)["yhat"].tolist() == [4, 5, 4]
    # last year's quarter sold nothing: growth 1
    zero = one_series([5, 6, 0, 0, 7, 8, 9, 10])
    assert LastYearGrowth("D", 2, 4, 2).fit(zero).predict(2)["yhat"].tolist() == [7, 8]


@pytest.mark.parametrize(
    ("values", "growth"),
    [
        ([10, 20, 0.01, 0.01, 15, 25, 30, 10], 3.0),  # a slow mover wakes up: held at 3
        ([10, 20, 60, 90, 15, 25, 1, 2], 1 / 3),  # a collapse: held at a third
        ([10, 20, 30, 40, 15, 25, -5, 2], 1.0),  # returns exceed sales: no growth
    ],
)
def test_last_year_growth_is_held_within_limits(values: list[float], growth: float) -> None:
    fc = LastYearGrowth("D", 2, 4, 2).fit(one_series(values)).predict(2)
    assert fc["yhat"].to_numpy() == pytest.approx(np.array(values[4:6]) * growth)


def test_last_year_growth_defaults_and_many_series() -> None:
    rows = []
    for uid, mult in (("a", 1.0), ("b", 2.0)):
        y = mult * (100 + np.arange(70, dtype=float))
        rows.append(one_series(list(y), "W-FRI").assign(unique_id=uid))
    df = pd.concat(rows, ignore_index=True)
    model = build("last_year_growth", "W-FRI", 52)
    fc = model.fit(df).predict(2)
    assert (model.year, model.quarter) == (52, 13)
    for uid, mult in (("a", 1.0), ("b", 2.0)):
        y = mult * (100 + np.arange(70, dtype=float))
        growth = y[-13:].sum() / y[-65:-52].sum()
        expected = y[70 - 52 : 70 - 50] * growth
        assert fc.loc[fc["unique_id"] == uid, "yhat"].to_numpy() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("role", "candidate", "key", "accepts"),
    [
        (
            "models",
            "auto_ets",
            "windw",
            "auto_ets accepts model, damped, season_method, max_history",
        ),
        ("baselines", "last_year_growth", "years", "last_year_growth accepts year, quarter"),
    ],
)
def test_unknown_candidate_params_are_refused_by_the_config(
    write_yaml, role: str, candidate: str, key: str, accepts: str
) -> None:
    path = write_yaml(
        {
            "name": "fc-params",
            "task": "forecast",
            "data": {"path": "sales.csv", "id": "series", "time": "date", "target": "sales"},
            "horizon": 7,
            role: [{"type": candidate, "params": {key: 3}}],
        }
    )
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{role}.0" in message
    assert f"params: unknown option(s) {key!r}" in message
    assert accepts in message


# ---------------------------------------------------------------- long seasons


def _weekly_sales(n_series: int = 3) -> pd.DataFrame:
    from salesml.synthetic import generate_weekly_sales

    return generate_weekly_sales(n_series, seed=4, weeks=160)[["unique_id", "ds", "y"]]


@pytest.mark.parametrize(
    ("type_", "freq", "season", "method", "fitted"),
    [
        ("auto_ets", "W-FRI", 52, "auto", "MSTL"),  # weekly: STL decomposition
        ("auto_ets", "W-FRI", 52, "states", "AutoETS"),
        ("auto_ets", "D", 7, "auto", "AutoETS"),  # a short season keeps its states
        ("auto_ets", "D", 7, "stl", "MSTL"),
        ("auto_arima", "W-FRI", 52, "auto", "MSTL"),
        ("auto_theta", "W-FRI", 52, "auto", "AutoTheta"),  # Theta decomposes on its own
    ],
)
def test_season_method_picks_stl_for_long_seasons(
    type_: str, freq: str, season: int, method: str, fitted: str
) -> None:
    params = {} if type_ == "auto_theta" else {"season_method": method}
    forecaster = build(type_, freq, season, **params)
    assert type(forecaster._model()).__name__ == fitted


def test_stl_ets_forecasts_as_statsforecast_mstl_with_a_non_seasonal_ets() -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS

    df = _weekly_sales()
    ours = build("auto_ets", "W-FRI", 52, damped=False).fit(df).predict(8)
    trend = AutoETS(model="ZZN", damped=False)
    sf = StatsForecast(models=[MSTL(season_length=52, trend_forecaster=trend)], freq="W-FRI")
    theirs = sf.forecast(df=df, h=8)
    assert ours["yhat"].to_numpy() == pytest.approx(theirs["MSTL"].to_numpy(), rel=1e-12)
    seasonal_states = build("auto_ets", "W-FRI", 52, damped=False, season_method="states")
    other = seasonal_states.fit(df).predict(8)
    assert not np.allclose(other["yhat"], ours["yhat"])  # a different model, not a relabel


def test_an_explicit_ets_season_letter_is_dropped_for_the_trend_model() -> None:
    forecaster = build("auto_ets", "W-FRI", 52, model="MAM")
    model = forecaster._model()
    assert type(model).__name__ == "MSTL"
    assert model.trend_forecaster.model == "MAN"


def test_an_unknown_season_method_is_a_config_error(write_yaml) -> None:
    path = write_yaml(
        {
            "name": "fc-season",
            "task": "forecast",
            "data": {"path": "sales.csv", "id": "series", "time": "date", "target": "sales"},
            "horizon": 7,
            "models": [{"type": "auto_ets", "params": {"season_method": "fourier"}}],
        }
    )
    with pytest.raises(ConfigError, match="season_method"):
        load_experiment(path)


# ---------------------------------------------------------------- holiday feature


def test_holiday_feature_counts_holidays_in_each_period() -> None:
    from salesml.forecast.global_lgbm import HolidayFeature

    weeks = pd.DatetimeIndex(["2010-11-19", "2010-11-26", "2010-12-31", "2011-01-07"])
    # a W-FRI date labels Saturday..Friday: Thanksgiving (Thu 25 Nov) is in the week ending
    # 26 Nov; New Year's Day observed on Fri 31 Dec in the week ending that day
    assert HolidayFeature("W-FRI")(weeks).tolist() == [0.0, 1.0, 1.0, 0.0]
    assert HolidayFeature("MS")(pd.DatetimeIndex(["2010-11-01"])).tolist() == [2.0]
    days = pd.DatetimeIndex(["2023-07-03", "2023-07-04"])
    assert HolidayFeature("D")(days).tolist() == [0.0, 1.0]


def test_theta_on_a_long_season_fits_the_last_ten_seasons() -> None:
    from salesml.forecast.models import THETA_SEASONS, ForecastContext, statistical

    weekly = ForecastContext("W", 52)
    assert statistical(weekly, sf_model="AutoTheta").max_history == THETA_SEASONS * 52
    assert statistical(weekly, sf_model="AutoTheta", max_history=100).max_history == 100
    assert statistical(ForecastContext("MS", 12), sf_model="AutoTheta").max_history is None
    assert statistical(weekly, sf_model="AutoETS").max_history is None
