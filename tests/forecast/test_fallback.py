"""The fallback ladder: too-short or awkward series get a simpler form, none is left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.forecast.fallback import FallbackForecaster, fallback_counts, with_fallbacks
from salesml.forecast.forms import MIN_NON_SEASONAL, ladder
from salesml.forecast.models import LastYearGrowth, StatsForecaster
from salesml.forecast.seasonal_difference import SeasonalDifference


def _long(values: dict[str, np.ndarray | list[float]], end: str = "2024-06-30") -> pd.DataFrame:
    """Daily series that all end on ``end`` (short ones start late)."""
    rows = [
        pd.DataFrame(
            {"unique_id": uid, "ds": pd.date_range(end=end, periods=len(y), freq="D"), "y": y}
        )
        for uid, y in values.items()
    ]
    return pd.concat(rows, ignore_index=True)


def _weekly_pattern(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    week = np.array([10.0, 12, 11, 13, 20, 30, 25])
    return week[np.arange(n) % 7] + rng.normal(0, 0.5, n)


def test_ladder_of_a_seasonal_model_steps_down_to_its_differences_non_seasonal_then_naive() -> None:
    ets = StatsForecaster("AutoETS", "D", 7, {"model": "MAM", "damped": False})
    forms = ladder(ets, 7)
    assert [(f.name, f.min_length, f.holdout) for f in forms] == [
        ("model", 14, 0),
        ("seasonal_difference", 7 + MIN_NON_SEASONAL + 2, 2),  # holds out a quarter season
        ("non_seasonal", MIN_NON_SEASONAL, 0),
        ("naive", 1, 0),
    ]
    sd = forms[1].template
    assert isinstance(sd, SeasonalDifference) and sd.season_length == 7
    # the differences cross zero: additive error and trend, no season
    assert sd.inner.season_length == 1 and sd.inner.params == {"model": "AAN", "damped": False}
    ns = forms[2].template
    assert ns.season_length == 1 and ns.params == {"model": "MAN", "damped": False}
    assert [f.name for f in ladder(StatsForecaster("SeasonalNaive", "D", 7), 7)] == [
        "model",
        "naive",
    ]
    assert [f.name for f in ladder(StatsForecaster("Naive", "D", 7, seasonal=False), 7)] == [
        "model"
    ]
    lyg = ladder(LastYearGrowth("D", 7, year=28, quarter=7), 7)
    assert [(f.name, f.min_length) for f in lyg] == [
        ("model", 35),
        ("seasonal_naive", 7),
        ("naive", 1),
    ]


def test_short_series_get_the_documented_forms_and_forecasts() -> None:
    long_y, mid_y, tiny_y = _weekly_pattern(30), _weekly_pattern(5, 1), [4.0, 6.0]
    df = _long({"long": long_y, "mid": mid_y, "tiny": tiny_y})
    model = with_fallbacks(StatsForecaster("SeasonalNaive", "D", 7), 7).fit(df)
    fc = model.predict(10)
    assert model.assignment() == {"long": "model", "mid": "naive", "tiny": "naive"}
    assert fc.groupby("unique_id").size().to_dict() == {"long": 10, "mid": 10, "tiny": 10}
    by = {uid: part["yhat"].to_numpy() for uid, part in fc.groupby("unique_id")}
    np.testing.assert_allclose(by["long"][:7], long_y[-7:])  # one season ago
    np.testing.assert_allclose(by["mid"], mid_y[-1])  # last value
    np.testing.assert_allclose(by["tiny"], 6.0)
    assert fc["ds"].min() == pd.Timestamp("2024-07-01")


def test_a_form_that_fails_on_a_series_hands_it_down() -> None:
    # A multiplicative ETS refuses negative data ("inappropriate model"): the series
    # with a return goes to the seasonal differences (additive, so they fit; the
    # non-seasonal form they are compared with refuses it too).
    ok, ret = _weekly_pattern(28), _weekly_pattern(28, 2)
    ret[10] = -5.0
    df = _long({"ok": ok, "return": ret})
    model = with_fallbacks(StatsForecaster("AutoETS", "D", 7, {"model": "MMM"}), 7)
    with pytest.warns(UserWarning, match="fails on series 'return'"):
        model.fit(df)
    assert model.assignment() == {"ok": "model", "return": "seasonal_difference"}
    assert model.failures[0].startswith("model fails on series 'return'")
    assert model.failures[1].startswith(
        "non_seasonal fails on series 'return' (holdout comparison)"
    )
    fc = model.predict(3)
    assert np.isfinite(fc["yhat"]).all() and len(fc) == 6
    # ... and one too short for the differences goes on to naive:
    short = np.r_[np.full(8, 5.0), -5.0, np.full(3, 5.0)]
    model = with_fallbacks(StatsForecaster("AutoETS", "D", 7, {"model": "MMM"}), 7)
    with pytest.warns(UserWarning, match="fails on series 'short'"):
        model.fit(_long({"ok": ok, "short": short}))
    assert model.assignment() == {"ok": "model", "short": "naive"}
    assert len(model.failures) == 1 and "non_seasonal fails" in model.failures[0]
    fc = model.predict(3)
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == "short", "yhat"], 5.0)


def test_a_non_finite_forecast_hands_the_series_down() -> None:
    df = _long({"long": _weekly_pattern(20), "short": _weekly_pattern(6, 3)})
    avg = StatsForecaster("WindowAverage", "D", 7, {"window_size": 10}, seasonal=False)
    model = with_fallbacks(avg, 7).fit(df)
    assert model.assignment() == {"long": "model", "short": "model"}  # not forecast yet
    model.settle()
    assert model.assignment() == {"long": "model", "short": "naive"}
    fc = model.predict(4)
    assert np.isfinite(fc["yhat"]).all()
    assert fc.loc[fc["unique_id"] == "long", "yhat"].iloc[0] == pytest.approx(
        _weekly_pattern(20)[-10:].mean()
    )


def test_update_keeps_the_top_form_and_refits_the_others() -> None:
    df = _long({"long": _weekly_pattern(40), "new": _weekly_pattern(3, 4)})
    model = with_fallbacks(StatsForecaster("AutoETS", "D", 7, {"model": "ANA"}), 7)
    model.fit(df[df["ds"] < "2024-06-25"])
    top = model.primary
    model.update(df)
    assert model.primary is top  # parameters kept, origin moved
    assert model.assignment() == {"long": "model", "new": "naive"}
    fc = model.predict(2)
    assert fc["ds"].min() == pd.Timestamp("2024-07-01") and len(fc) == 4


def test_fallback_counts_take_each_series_simplest_form() -> None:
    fc = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b", "c", "c"],
            "window": [0, 1, 1, 2, 0, 2],
            "form": ["naive", "model", "non_seasonal", "model", "model", "model"],
        }
    )

    history = {uid: _weekly_pattern(21) for uid in "abc"} | {"d": [1.0, 2.0, 3.0]}
    final = with_fallbacks(StatsForecaster("SeasonalNaive", "D", 7), 7).fit(_long(history))
    assert final.assignment() == {"a": "model", "b": "model", "c": "model", "d": "naive"}
    # a: naive only in the calibration window (not counted); d: only in the final fit
    assert fallback_counts(fc, final) == {"non_seasonal": 1, "naive": 1}


def test_every_form_is_a_fallback_forecaster_with_the_candidate_columns() -> None:
    model = with_fallbacks(StatsForecaster("Naive", "D", 7, seasonal=False, id_col="k"), 7)
    assert isinstance(model, FallbackForecaster) and model.id_col == "k"
    assert not model.uses_exog and model.exog == ()
