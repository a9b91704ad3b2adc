"""Conformal intervals of the backtest and the scaled quantile loss (issue 20, item 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesml.forecast.intervals import (
    adapted_level,
    add_intervals,
    final_quantiles,
    min_calibration,
    quantile_loss,
)
from salesml.forecast.metrics import coverage, evaluate_forecasts, grid_mase, point_terms, time_grid

LEVELS = [80, 95]


def _backtest(
    n_series: int = 300,
    windows: int = 5,
    horizon: int = 4,
    scales: np.ndarray | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Backtest rows whose errors are ``scale * N(0, step)`` (known noise), window 0 first.

    Series ``i`` has MASE scale ``scales[i]`` (default 1) and its errors scale with it.
    """
    rng = np.random.default_rng(seed)
    scales = np.ones(n_series) if scales is None else scales
    start = pd.Timestamp("2024-01-05")
    rows = []
    for w in range(windows):
        cutoff = start + pd.Timedelta(weeks=w * horizon)
        ds = pd.date_range(cutoff, periods=horizon, freq="W-FRI")
        for i in range(n_series):
            step = np.arange(1, horizon + 1)
            yhat = 1000 * scales[i] * np.ones(horizon)
            noise = rng.normal(0, np.sqrt(step)) * scales[i]
            rows.append(
                pd.DataFrame(
                    {
                        "unique_id": f"s{i:04d}",
                        "ds": ds,
                        "y": yhat + noise,
                        "yhat": yhat,
                        "window": w,
                        "cutoff": cutoff,
                        "step": step,
                        "scale": scales[i],
                        "scale2": scales[i] ** 2,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _coverage(fc: pd.DataFrame, lv: int) -> float:
    scored = fc[fc["window"] > 0]
    return coverage(scored["y"], scored[f"lo-{lv}"], scored[f"hi-{lv}"])


@pytest.mark.parametrize("lv", LEVELS)
def test_coverage_of_known_noise_is_nominal(lv: int) -> None:
    fc = add_intervals(_backtest(), 4, LEVELS)
    assert abs(_coverage(fc, lv) - lv / 100) < 0.02
    # the step's noise grows with the step, and so does its interval
    half = (fc["hi-95"] - fc["yhat"]).groupby(fc["step"]).mean()
    assert half.is_monotonic_increasing


def test_per_series_scaling_transfers_across_scales() -> None:
    rng = np.random.default_rng(1)
    scales = np.where(rng.random(400) < 0.5, 1.0, 1000.0)  # two volatilities 1,000 apart
    bt = _backtest(400, scales=scales)
    small = bt["scale"] == 1.0
    fc = add_intervals(bt, 4, LEVELS)
    for lv in LEVELS:
        for part in (fc[small.to_numpy()], fc[~small.to_numpy()]):
            assert abs(_coverage(part, lv) - lv / 100) < 0.03, lv
    # pooled unscaled errors (scale 1 everywhere) cover the quiet series always, the loud ones not
    flat = add_intervals(bt.assign(scale=1.0), 4, LEVELS)
    assert _coverage(flat[small.to_numpy()], 80) > 0.99
    assert _coverage(flat[~small.to_numpy()], 80) < 0.7


def test_a_window_is_calibrated_on_earlier_windows_only() -> None:
    bt = _backtest(60, windows=4)
    fc = add_intervals(bt, 4, LEVELS)
    assert fc.loc[fc["window"] == 0, "lo-80"].isna().all()  # the calibration window
    later = bt.copy()
    later.loc[later["window"] == 3, "y"] += 1e6  # later outcomes change ...
    again = add_intervals(later, 4, LEVELS)
    for k in (1, 2):  # ... nothing of the earlier windows
        rows = fc["window"] == k
        pd.testing.assert_frame_equal(
            fc.loc[rows, ["lo-80", "hi-95"]], again.loc[rows, ["lo-80", "hi-95"]]
        )
    # window 2's quantile is the conformal rank of windows 0 and 1's errors at each step,
    # at the level adapted to window 1's misses
    err = (bt["y"] - bt["yhat"]).abs()
    cal = bt["window"] < 2
    w1 = fc[fc["window"] == 1]
    missed = 1 - coverage(w1["y"], w1["lo-80"], w1["hi-80"])
    level = adapted_level(80, [missed])
    assert level == pytest.approx(100 * (1 - (0.2 + (0.2 - missed))))
    for s in (1, 4):
        vals = np.sort(err[cal & (bt["step"] == s)])
        expected = vals[int(np.ceil((len(vals) + 1) * level / 100)) - 1]
        got = (fc["hi-80"] - fc["yhat"])[(fc["window"] == 2) & (fc["step"] == s)]
        np.testing.assert_allclose(got, expected)


def test_shrinking_errors_are_met_by_an_adapted_level(monkeypatch: pytest.MonkeyPatch) -> None:
    import salesml.forecast.intervals as intervals

    bt = _backtest(200, windows=6)
    shrink = 0.85 ** bt["window"].to_numpy()  # each window's errors 15 % smaller (more history)
    bt["y"] = bt["yhat"] + (bt["y"] - bt["yhat"]) * shrink
    adapted = add_intervals(bt, 4, LEVELS)
    monkeypatch.setattr(intervals, "ADAPT_STEP", 0.0)
    fixed = add_intervals(bt, 4, LEVELS)
    gap = {
        lv: (_coverage(fixed, lv) - lv / 100, _coverage(adapted, lv) - lv / 100) for lv in LEVELS
    }
    for lv, (without, with_) in gap.items():
        # earlier windows' quantiles are too wide: half the misses or fewer ...
        assert without > (1 - lv / 100) / 2
        assert abs(with_) < without  # ... and the adapted level comes closer
    assert abs(gap[80][1]) < gap[80][0] / 2
    assert adapted_level(80, [0.0, 0.0], gamma=1.0) == pytest.approx(
        40.0
    )  # never missed: lower the level
    assert adapted_level(95, [0.5], gamma=1.0) == 100.0  # missed far too often: the largest error


def test_a_window_whose_forecasts_overlap_the_origin_is_not_used() -> None:
    bt = _backtest(40, windows=3)
    # window 1 ends after window 2's origin (step shorter than the horizon)
    bt.loc[bt["window"] == 2, "cutoff"] = bt.loc[bt["window"] == 1, "cutoff"].iloc[
        0
    ] + pd.Timedelta(weeks=2)
    bt.loc[bt["window"] == 1, "y"] += 1e6
    fc = add_intervals(bt, 4, LEVELS)
    assert (fc.loc[fc["window"] == 2, "hi-95"] - fc.loc[fc["window"] == 2, "yhat"]).max() < 100


def test_fallback_rows_do_not_calibrate_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import salesml.forecast.intervals as intervals

    monkeypatch.setattr(intervals, "ADAPT_STEP", 0.0)  # the pools alone
    bt = _backtest(60, windows=4)
    bt["form"] = "model"
    w0 = bt["window"] == 0
    bt.loc[w0, "form"] = "non_seasonal"  # the shortest history: the model's simpler form
    bt.loc[w0, "y"] = bt.loc[w0, "yhat"] + 50 * (bt.loc[w0, "y"] - bt.loc[w0, "yhat"])
    fc = add_intervals(bt, 4, LEVELS)
    width = (fc["hi-80"] - fc["lo-80"]).groupby(fc["window"]).mean()
    assert width[2] < width[1] / 10  # window 1 has only window 0 to learn from
    assert abs(_coverage(fc[fc["window"] > 1], 80) - 0.8) < 0.05
    # the exported model (refitted on everything: the model) skips them too
    q = final_quantiles(bt, 4, LEVELS)
    q_model = final_quantiles(bt[~w0], 4, LEVELS)
    np.testing.assert_allclose(q[80], q_model[80])
    # too few rows of the model's own: every row counts
    few = bt[(bt["window"] == 0) | (bt["unique_id"] < "s0010")]
    assert len(few[few["form"] == "model"]) // 4 < 60  # fewer per step than ...
    assert min_calibration(LEVELS) == 19  # ... what 95 % needs (rows per step)
    small = final_quantiles(few[few["unique_id"] < "s0004"], 4, LEVELS)
    q_all = final_quantiles(few[few["unique_id"] < "s0004"].assign(form="model"), 4, LEVELS)
    np.testing.assert_allclose(small[95], q_all[95])


def test_the_ensemble_keeps_its_members_forms() -> None:
    from salesml.forecast.ensemble import _combined_form

    idx = pd.RangeIndex(3)
    a = pd.DataFrame({"form": ["model", "non_seasonal", "model"]}, index=idx)
    b = pd.DataFrame({"yhat": [1.0, 2.0, 3.0]}, index=idx)  # no fallback ladder
    c = pd.DataFrame({"form": ["model", "naive", "naive"]}, index=idx)
    assert _combined_form([a, b, c]).tolist() == ["model", "naive+non_seasonal", "naive"]


# ------------------------------------------------------------ scaled quantile loss


def _bounds(fc: pd.DataFrame, center: np.ndarray, half: dict[int, np.ndarray]) -> pd.DataFrame:
    out = fc.copy()
    for lv in LEVELS:
        out[f"lo-{lv}"], out[f"hi-{lv}"] = center - half[lv], center + half[lv]
    return out


def test_quantile_loss_is_zero_for_perfect_bounds_and_grows_when_wide_or_off_centre() -> None:
    bt = _backtest(50, windows=3)
    bt = bt[bt["window"] > 0]
    y = bt["y"].to_numpy()
    zero = {lv: np.zeros(len(bt)) for lv in LEVELS}
    assert quantile_loss(_bounds(bt, y, zero), LEVELS) == pytest.approx(np.zeros(len(bt)))
    noise = np.abs(y - bt["yhat"].to_numpy())
    right = {80: 1.28 * noise.std() * np.ones(len(bt)), 95: 1.96 * noise.std() * np.ones(len(bt))}
    wide = {lv: 3 * h for lv, h in right.items()}

    def score(frame: pd.DataFrame) -> float:
        return evaluate_forecasts(frame, LEVELS)[0]["qloss"]

    calibrated = score(_bounds(bt, bt["yhat"].to_numpy(), right))
    assert 0 < calibrated < score(_bounds(bt, bt["yhat"].to_numpy(), wide))
    assert calibrated < score(_bounds(bt, bt["yhat"].to_numpy() + 2 * noise.std(), right))
    # degenerate bounds at the point forecast score its MASE
    point = evaluate_forecasts(_bounds(bt, bt["yhat"].to_numpy(), zero), LEVELS)[0]
    assert point["qloss"] == pytest.approx(point["mase"])


def test_quantile_loss_is_scaled_and_averaged_per_series() -> None:
    bt = add_intervals(_backtest(40, windows=3), 4, LEVELS)
    bt = bt[bt["window"] > 0].reset_index(drop=True)
    base, per_series, _ = evaluate_forecasts(bt, LEVELS)
    # one series 1,000 times larger, its scale too: nothing changes
    big = bt.copy()
    one = big["unique_id"] == "s0000"
    cols = ["y", "yhat", "scale", *(f"{s}-{lv}" for lv in LEVELS for s in ("lo", "hi"))]
    big.loc[one, cols] *= 1000
    assert evaluate_forecasts(big, LEVELS)[0]["qloss"] == pytest.approx(base["qloss"])
    # the mean over series of each series' own mean
    own = pd.Series(quantile_loss(bt, LEVELS)).groupby(bt["unique_id"]).mean()
    np.testing.assert_allclose(per_series["qloss"], own)
    assert base["qloss"] == pytest.approx(own.mean())
    # the bootstrap's grid gives the same point value
    grid = time_grid(point_terms(bt))
    assert grid_mase(grid, "q")(None)[0] == pytest.approx(base["qloss"])


def test_quantile_loss_needs_every_bound() -> None:
    bt = _backtest(5, windows=2)
    metrics, per_series, _ = evaluate_forecasts(bt, LEVELS)  # no bounds: no loss
    assert "qloss" not in metrics and "qloss" not in per_series


# ------------------------------------------------------------ end to end


@pytest.mark.slow
def test_a_run_chooses_and_judges_its_champion_by_the_quantile_loss(
    tmp_path: Path, tracking: str, write_yaml
) -> None:
    """``evaluation.metric: qloss``: the champion is the model with the lowest quantile loss,
    judged against the rule with the lowest, by a paired CI of the quantile loss."""
    from salesml.experiment.config import load_experiment
    from salesml.experiment.reopen import load_run
    from salesml.runner import run_experiment
    from salesml.synthetic import generate_weekly_sales

    frame = generate_weekly_sales(12, seed=4, weeks=130)
    csv = tmp_path / "weekly.csv"
    frame.to_csv(csv, index=False)
    raw = {
        "name": "fc-qloss",
        "task": "forecast",
        "data": {"path": str(csv), "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 4,
        "backtest": {"windows": 3},
        "evaluation": {"bootstrap": 100, "metric": "qloss"},
        "baselines": ["naive", "seasonal_naive"],
        "models": [
            {"type": "lightgbm_global", "params": {"n_estimators": 30}},
            {"type": "auto_ets", "params": {"model": "ANN"}},
            "ensemble",
        ],
    }
    summary = run_experiment(load_experiment(write_yaml(raw, "fc.yaml")), tmp_path / "o")
    assert summary.failed == [] and summary.experiment.primary_metric == "qloss"
    assert summary.experiment.lower_is_better
    qloss = {c.name: c.metrics["qloss"] for c in summary.candidates}
    assert all(np.isfinite(v) and v > 0 for v in qloss.values())
    models = {c.name for c in summary.candidates if c.role == "model"}
    rules = {c.name for c in summary.candidates if c.role == "baseline"}
    champ = summary.champion
    assert champ.name == min(models, key=qloss.get) and champ.baseline == min(rules, key=qloss.get)
    assert champ.metric == "qloss"
    assert champ.delta == pytest.approx(qloss[champ.name] - qloss[champ.baseline])
    run = load_run(tmp_path / "o")
    paired = run.metric("qloss", champ.name, against=champ.baseline)
    assert champ.delta_ci == pytest.approx(list(paired.ci))  # the reopened run agrees
    value = run.metric("qloss", champ.name)
    assert value.value == pytest.approx(qloss[champ.name])
    assert value.ci[0] < value.value < value.ci[1]  # 12 series: a CI over series


@pytest.mark.parametrize(
    ("metric", "fragment"), [("coverage_80", "cannot choose"), ("crps", "cannot choose")]
)
def test_a_champion_metric_must_rank(metric: str, fragment: str, write_yaml) -> None:
    from salesml.errors import ConfigError
    from salesml.experiment.config import load_experiment

    raw = {
        "name": "fc-bad-metric",
        "task": "forecast",
        "data": {"path": "sales.csv", "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 4,
        "evaluation": {"metric": metric},
    }
    with pytest.raises(ConfigError) as info:
        load_experiment(write_yaml(raw, "fc.yaml"))
    message = str(info.value)
    assert "evaluation.metric" in message and repr(metric) in message and fragment in message
    assert (
        "qloss" in message and "mase" in message and "coverage_80" not in message.split("from")[1]
    )
