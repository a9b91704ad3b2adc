"""The ensemble: members chosen from typed fits, independent of candidate order; clear refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from salesml.errors import ConfigError
from salesml.forecast.ensemble import CandidateFit, choose_members, combine
from salesml.forecast.models import EnsembleForecaster


def _fit(
    error: float,
    role: str = "model",
    combines: bool = False,
    seed: int = 0,
    later: float | None = None,
) -> CandidateFit:
    """A fit whose backtest misses y by ``error`` on every row of window 0 and by ``later``
    (default ``error``) on window 1."""
    rng = np.random.default_rng(seed)
    rows = [
        {"unique_id": uid, "ds": pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), "window": w}
        for w in (0, 1)
        for uid in ("a", "b")
        for d in range(3 * w, 3 * w + 3)
    ]
    bt = pd.DataFrame(rows)
    bt["y"] = rng.uniform(10, 20, len(bt))
    bt["yhat"] = bt["y"] + np.where(bt["window"] == 0, error, error if later is None else later)
    bt["scale"], bt["step"] = 1.0, bt.groupby(["unique_id", "window"]).cumcount() + 1
    bt["form"] = "model"
    return CandidateFit(
        backtest=bt,
        final=EnsembleForecaster([]),
        role=role,
        combines=combines,
        mase=error,
        by_step=pd.DataFrame(),
        per_series=pd.Series({"a": error, "b": error}),
    )


FITS = {
    "naive": _fit(0.1, role="baseline"),  # best, but a baseline: never a default member
    "ets": _fit(0.5, seed=1),
    "theta": _fit(0.3, seed=2),
    "arima": _fit(0.3, seed=3),  # ties with theta: the name decides
    "lgbm": _fit(0.9, seed=4),
    "other_ensemble": _fit(0.05, combines=True),  # combines others: never a member
}


def test_default_members_do_not_depend_on_the_order_of_the_fits():
    for order in list(itertools.permutations(FITS))[::29]:  # 25 of the 720 orders
        fits = {name: FITS[name] for name in order}
        assert choose_members(fits, 2) == ["arima", "theta"]
        assert choose_members(fits, 3) == ["arima", "theta", "ets"]


def test_the_default_is_the_combination_that_forecasts_the_calibration_window_best():
    """Two models erring in opposite directions combine to no error: their pair beats the
    two best models taken alone; the choice reads window 0 only and any order of fits."""
    fits = {  # one seed: the same y under every fit
        "high": _fit(0.5, later=-2.0),
        "low": _fit(-0.5, later=3.0),  # window 1 would rank it last: not read
        "good": _fit(0.2),
        "fine": _fit(0.2),
        "naive": _fit(0.0, role="baseline"),
    }
    assert choose_members(fits, 2) == ["fine", "good"]
    for order in itertools.permutations(fits):
        assert choose_members({n: fits[n] for n in order}) == ["high", "low"]
    params: dict = {}
    fc, final = combine(fits, params)
    assert params["members"] == ["high", "low"] and final.how == "mean"
    cal = fc[fc["window"] == 0]
    np.testing.assert_allclose(cal["yhat"], cal["y"])
    assert choose_members(fits, how="median") == ["high", "low"]  # a pair's median: its mean
    # the median of three is the middle one: high, low and good err by 0.2 (their mean: 0.067)
    params = {"combine": "median", "members": ["high", "low", "good"]}
    fc, final = combine(fits, params)
    assert final.how == "median"
    np.testing.assert_allclose(fc.loc[fc["window"] == 0, "yhat"] - cal["y"].to_numpy(), 0.2)


def test_ties_go_to_fewer_members_then_to_names():
    same = {n: _fit(0.3) for n in ("c", "a", "b")}
    assert choose_members(same) == ["a", "b"]


def test_combine_averages_the_members_backtests_in_any_order():
    params: dict = {}
    fc, final = combine(FITS, params)
    assert params["members"] == ["arima", "theta"] and isinstance(final, EnsembleForecaster)
    keys = ["unique_id", "ds", "window"]
    expected = (
        FITS["arima"].backtest.set_index(keys)["yhat"]
        + FITS["theta"].backtest.set_index(keys)["yhat"]
    ) / 2
    np.testing.assert_allclose(fc.set_index(keys)["yhat"], expected.loc[fc.set_index(keys).index])
    assert "form" not in fc and {"y", "scale", "step"} <= set(fc)
    reversed_fc, _ = combine(dict(reversed(FITS.items())), {})
    pd.testing.assert_frame_equal(reversed_fc, fc)


def test_explicit_members_may_be_baselines_and_missing_ones_are_named():
    params = {"members": ["naive", "lgbm"]}
    fc, _ = combine(FITS, params)
    assert params["members"] == ["naive", "lgbm"] and fc["yhat"].notna().all()
    with pytest.raises(ValueError, match=r"no fit of 'gone'; a member must succeed"):
        combine(FITS, {"members": ["ets", "gone"]})


def test_fewer_than_two_models_is_refused():
    with pytest.raises(
        ValueError, match="at least two successful models to average; got only 'ets'"
    ):
        combine({"ets": FITS["ets"], "naive": FITS["naive"]}, {})
    with pytest.raises(ValueError, match="none succeeded"):
        combine({}, {})


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (["ensemble", "auto_ets"], r"ensemble combines the fits of 'auto_ets': list it after"),
        (
            [{"type": "ensemble", "params": {"members": ["naive", "auto_ets"]}}, "auto_ets"],
            r"combines the fits of 'auto_ets'",
        ),
        (
            ["auto_ets", {"type": "ensemble", "params": {"members": ["auto_ets", "nope"]}}],
            r"members 'nope' are not candidates of this config; choose from naive, auto_ets",
        ),
    ],
)
def test_the_config_lists_the_ensemble_after_what_it_combines(
    make_task, daily_frame, models, message
):
    with pytest.raises(ConfigError, match=message):
        make_task(daily_frame(n=60), models=models)


def test_an_ensemble_of_named_members_may_come_before_other_models(make_task, daily_frame):
    models = [
        "auto_ces",
        {"type": "ensemble", "params": {"members": ["naive", "auto_ces"]}},
        "auto_ets",
    ]
    task = make_task(daily_frame(n=60), models=models)
    assert [c.name for _, c in task.config.candidates][-2:] == ["ensemble", "auto_ets"]


def test_the_task_keeps_typed_fits_and_the_ensemble_reads_them(make_task, daily_frame, tmp_path):
    models = [
        {"type": "auto_ets", "params": {"model": "ANN"}},
        {"type": "auto_ces", "params": {"model": "N"}},
        "ensemble",
    ]
    task = make_task(daily_frame(n=90), models=models, evaluation={"bootstrap": 50})
    task.prepare()
    outcomes = [task.fit_evaluate(c, role, tmp_path / c.name) for role, c in task.config.candidates]
    assert set(task.fits) == {"naive", "auto_ets", "auto_ces", "ensemble"}
    assert all(isinstance(f, CandidateFit) for f in task.fits.values())
    assert task.fits["ensemble"].combines and not task.fits["auto_ets"].combines
    assert outcomes[-1].params["members"] == choose_members(task.fits) == ["auto_ets", "auto_ces"]
    # the screen and summary say what the ensemble combined
    assert task.data_info.combined == {
        "ensemble": {"members": ["auto_ets", "auto_ces"], "combine": "mean"}
    }
    assert "ensemble: mean of auto_ets, auto_ces" in task.notes()
    assert sorted(outcomes[-1].params["members"]) == ["auto_ces", "auto_ets"]
    assert task.fits["auto_ets"].mase == outcomes[1].metrics["mase"]
    assert isinstance(task.fits["ensemble"].final, EnsembleForecaster)
