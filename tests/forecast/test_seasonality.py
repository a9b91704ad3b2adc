"""The per-series seasonality test and how the fallback ladder uses it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.experiment.config import parse_experiment
from salesml.forecast.fallback import fallback_counts, with_fallbacks
from salesml.forecast.forms import ladder
from salesml.forecast.models import StatsForecaster
from salesml.forecast.seasonality import acf, applies, is_seasonal, seasonal_series


def _yearly(n: int, seed: int) -> np.ndarray:
    """Weekly retail sales with a five-week holiday peak every year."""
    rng = np.random.default_rng(seed)
    peak = np.isin(np.arange(n) % 52, [46, 47, 48, 49, 50])
    return 100 + 60 * peak + rng.normal(0, 5, n)


def _noise(n: int, seed: int) -> np.ndarray:
    return 100 + np.random.default_rng(seed).normal(0, 5, n)


def test_acf_is_the_textbook_estimator():
    y = np.random.default_rng(1).normal(size=200).cumsum()
    d = y - y.mean()
    expected = [np.sum(d[: 200 - k] * d[k:]) / np.sum(d * d) for k in range(10)]
    np.testing.assert_allclose(acf(y, 9), expected)
    assert acf(np.full(30, 4.0), 3).tolist() == [0.0, 0.0, 0.0, 0.0]  # constant: no correlation


def test_a_yearly_pattern_is_seasonal_and_noise_or_a_short_series_is_not():
    assert is_seasonal(_yearly(156, 0), 52)
    assert is_seasonal(_yearly(104, 0), 52)  # two seasons are enough to test
    flags = [is_seasonal(_noise(156, seed), 52) for seed in range(40)]
    assert sum(flags) <= 6  # a 90 % test: about 1 in 20 noise series passes by chance
    assert not is_seasonal(_yearly(103, 0), 52)  # under two seasons: not tested
    # a smooth sine has large autocorrelations at every lag, so the test is strict with it
    sine = 100 + 30 * np.sin(2 * np.pi * np.arange(156) / 52)
    assert not is_seasonal(sine + np.random.default_rng(0).normal(0, 5, 156), 52)
    assert not is_seasonal(_yearly(156, 0), 1)


def test_seasonal_series_reads_each_series_in_time_order():
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "s", "y": _yearly(156, 3)}),
            pd.DataFrame({"unique_id": "n", "y": _noise(156, 3)}),
        ]
    )
    assert seasonal_series(frame, 52) == {"s"}


@pytest.mark.parametrize(
    ("mode", "season", "expected"),
    [
        ("auto", 52, True),
        ("auto", 7, False),
        ("auto", 12, False),
        ("on", 7, True),
        ("off", 52, False),
        ("on", 1, False),
    ],
)
def test_when_the_test_applies(mode: str, season: int, expected: bool):
    assert applies(mode, season) is expected


@pytest.mark.parametrize(("mode", "expected"), [("auto", False), ("on", True), ("off", False)])
def test_auto_leaves_a_season_taken_by_stl_decomposition_untested(mode: str, expected: bool):
    assert applies(mode, 52, decomposed=True) is expected


def test_a_run_tests_seasonality_only_for_candidates_that_carry_the_season_in_states(
    tmp_path,
):
    from salesml.forecast.config import ForecastExperiment
    from salesml.forecast.task import ForecastTask
    from salesml.synthetic import generate_weekly_sales

    path = tmp_path / "weekly.csv"
    generate_weekly_sales(6, seed=2, weeks=130).to_csv(path, index=False)
    raw = {
        "name": "season-test",
        "task": "forecast",
        "data": {"path": str(path), "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 4,
        "backtest": {"windows": 1},
    }
    task = ForecastTask(ForecastExperiment.model_validate(raw))
    task.prepare()
    from salesml.experiment.registry import spec_for
    from salesml.forecast.models import ForecastContext

    def tested(type_: str, **params) -> bool:
        spec = spec_for("forecast", type_)
        made = spec.make(ForecastContext("W-FRI", 52), **params)
        return task._season_test(spec, params, made)

    assert not tested("auto_ets")  # the 52-week season is taken by STL decomposition
    assert not tested("seasonal_naive")  # the season is the rule
    assert task.data_info.seasonal is None  # nothing tested, nothing reported
    assert tested("auto_ets", season_method="states")
    assert tested("auto_theta")
    assert sum(task.data_info.seasonal.values()) == 6


def test_the_ladder_fits_the_season_only_where_the_test_finds_one():
    ets = StatsForecaster("AutoETS", "W", 52, {"damped": False})
    names = [(f.name, f.season) for f in ladder(ets, 52, season_test=True)]
    assert names == [
        ("model", "present"),
        ("no_season", "absent"),
        ("seasonal_difference", None),
        ("non_seasonal", None),
        ("naive", None),
    ]
    assert [f.name for f in ladder(ets, 52)] == [
        "model",
        "seasonal_difference",
        "non_seasonal",
        "naive",
    ]

    dates = pd.date_range("2020-01-05", periods=130, freq="W")
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": dates, "y": y})
            for uid, y in {"seasonal": _yearly(130, 5), "flat": _noise(130, 5)}.items()
        ],
        ignore_index=True,
    )
    model = with_fallbacks(ets, 52, season_test=True).fit(df)
    assert model.assignment() == {"seasonal": "model", "flat": "no_season"}
    fc = model.predict(8)
    assert fc.groupby("unique_id").size().to_dict() == {"flat": 8, "seasonal": 8}
    # no_season is the model's choice, not a fallback
    backtest = fc.assign(window=1, form=fc["unique_id"].map(model.assignment()))
    assert fallback_counts(backtest, model) == {}


def test_config_takes_on_off_as_yaml_writes_them():
    raw = {
        "name": "x",
        "task": "forecast",
        "data": {"path": "s.csv", "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 4,
        "baselines": ["naive"],
    }
    assert parse_experiment(raw).seasonality_test == "auto"
    assert parse_experiment({**raw, "seasonality_test": False}).seasonality_test == "off"
    assert parse_experiment({**raw, "seasonality_test": "on"}).seasonality_test == "on"
    with pytest.raises(Exception, match="seasonality_test"):
        parse_experiment({**raw, "seasonality_test": "sometimes"})
