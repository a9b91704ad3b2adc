"""Tests for the forecast task: data preparation, baselines, backtest, metrics, export, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from salesml.config import load_experiment
from salesml.errors import DataError
from salesml.forecast_models import (
    LastYearGrowth,
    StatsForecaster,
    build_forecaster,
    periods_per_year,
    season_length_for,
)
from salesml.forecasting import (
    ForecastTask,
    add_intervals,
    backtest,
    backtest_cutoffs,
    bias,
    conformal_quantiles,
    coverage,
    evaluate_forecasts,
    mase,
    rmsse,
    smape,
    to_long,
    wape,
)

# ---------------------------------------------------------------- helpers


def daily_frame(
    ids: tuple[str, ...] = ("A", "B", "C"), n: int = 120, seed: int = 0
) -> pd.DataFrame:
    """Positive daily sales with a weekly pattern, columns series/date/sales/promo."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="D")
    weekly = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.6, 1.4])
    rows = []
    for i, uid in enumerate(ids):
        level = 50 + 20 * i
        y = level * weekly[dates.dayofweek] * rng.gamma(30, 1 / 30, n)
        rows.append(pd.DataFrame({"series": uid, "date": dates, "sales": np.round(y, 1)}))
    out = pd.concat(rows, ignore_index=True)
    out["promo"] = (np.arange(len(out)) % 11 == 0).astype(int)
    return out


def make_task(tmp_path: Path, frame: pd.DataFrame, **overrides: Any) -> tuple[ForecastTask, Path]:
    """A ForecastTask on ``frame`` written as CSV, from a YAML config with ``overrides``."""
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    data = {"path": str(csv), "id": "series", "time": "date", "target": "sales", "freq": "D"}
    data.update(overrides.pop("data", {}))
    raw = {
        "name": "fc-test",
        "task": "forecast",
        "data": data,
        "horizon": 7,
        "backtest": {"windows": 2},
        "baselines": ["naive"],
        **overrides,
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return ForecastTask(load_experiment(path)), csv


def long(frame: pd.DataFrame) -> pd.DataFrame:
    return to_long(frame, "series", "date", "sales")


# ---------------------------------------------------------------- long format


def test_to_long_joins_id_list_and_parses_date_format() -> None:
    raw = pd.DataFrame(
        {
            "Store": [2, 1, 1, 2],
            "Dept": ["x", "a", "a", "x"],
            "Date": ["12-02-2010", "12-02-2010", "05-02-2010", "05-02-2010"],
            "Weekly_Sales": ["10.5", "3", "4", "7"],
            "Holiday_Flag": [True, True, False, False],
        }
    )
    out = to_long(raw, ["Store", "Dept"], "Date", "Weekly_Sales", ["Holiday_Flag"], "%d-%m-%Y")
    assert list(out.columns) == ["unique_id", "ds", "y", "Holiday_Flag"]
    assert out["unique_id"].tolist() == ["1/a", "1/a", "2/x", "2/x"]
    assert out["ds"].tolist() == [pd.Timestamp("2010-02-05"), pd.Timestamp("2010-02-12")] * 2
    assert out["y"].tolist() == [4.0, 3.0, 7.0, 10.5]
    assert out["Holiday_Flag"].tolist() == [0.0, 1.0, 0.0, 1.0]
    custom = to_long(
        raw,
        "Store",
        "Date",
        "Weekly_Sales",
        (),
        "%d-%m-%Y",
        id_col="sid",
        time_col="t",
        target_col="v",
    )
    assert list(custom.columns) == ["sid", "t", "v"]


def test_season_and_year_defaults_follow_the_frequency() -> None:
    assert [season_length_for(f) for f in ("D", "W-FRI", "MS", "QS", "h", "B")] == [
        7,
        52,
        12,
        4,
        24,
        5,
    ]
    assert [periods_per_year(f) for f in ("D", "W-FRI", "MS", "QS")] == [364, 52, 12, 4]


# ---------------------------------------------------------------- baselines


def one_series(values: list[float], freq: str = "D") -> pd.DataFrame:
    ds = pd.date_range("2023-01-02", periods=len(values), freq=freq)
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": np.asarray(values, float)})


def test_statistical_baselines_match_hand_computations() -> None:
    df = one_series([1, 2, 3, 4, 5, 6, 7, 8])
    naive = StatsForecaster("naive", "D", 4).fit(df).predict(3)
    assert naive["yhat"].tolist() == [8, 8, 8]
    assert naive["ds"].tolist() == list(pd.date_range("2023-01-10", periods=3, freq="D"))
    snaive = StatsForecaster("seasonal_naive", "D", 4).fit(df).predict(6)
    assert snaive["yhat"].tolist() == [5, 6, 7, 8, 5, 6]
    ma = StatsForecaster("moving_average", "D", 4, {"window": 3}).fit(df).predict(2)
    assert ma["yhat"].tolist() == pytest.approx([7, 7])
    default_window = StatsForecaster("moving_average", "D", 4).fit(df).predict(1)
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


def test_last_year_growth_defaults_and_many_series() -> None:
    rows = []
    for uid, mult in (("a", 1.0), ("b", 2.0)):
        y = mult * (100 + np.arange(70, dtype=float))
        rows.append(one_series(list(y), "W-FRI").assign(unique_id=uid))
    df = pd.concat(rows, ignore_index=True)
    model = build_forecaster("last_year_growth", {}, "W-FRI", 52)
    fc = model.fit(df).predict(2)
    assert (model.year, model.quarter) == (52, 13)
    for uid, mult in (("a", 1.0), ("b", 2.0)):
        y = mult * (100 + np.arange(70, dtype=float))
        growth = y[-13:].sum() / y[-65:-52].sum()
        expected = y[70 - 52 : 70 - 50] * growth
        assert fc.loc[fc["unique_id"] == uid, "yhat"].to_numpy() == pytest.approx(expected)


def test_unknown_candidate_params_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown params"):
        build_forecaster("auto_ets", {"windw": 3}, "D", 7)
    with pytest.raises(ValueError, match="unknown params"):
        build_forecaster("last_year_growth", {"years": 1}, "D", 7)


# ---------------------------------------------------------------- backtest


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
def test_backtest_cutoffs_never_leak(refit: bool) -> None:
    df = long(daily_frame(n=60))
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


# ---------------------------------------------------------------- metrics


def test_metric_functions_against_hand_computations() -> None:
    y, yhat, train = (
        np.array([2.0, 4.0, 6.0]),
        np.array([3.0, 2.0, 6.0]),
        np.array([1.0, 3.0, 2.0, 4.0]),
    )
    # in-sample naive (season 1) errors 2, 1, 2: MAE 5/3, MSE 3
    assert mase(y, yhat, train, 1) == pytest.approx((3 / 3) / (5 / 3))
    assert rmsse(y, yhat, train, 1) == pytest.approx(np.sqrt((5 / 3) / 3))
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


# ---------------------------------------------------------------- bad input


def test_good_daily_data_prepare(tmp_path: Path) -> None:
    task, _ = make_task(tmp_path, daily_frame(), data={"exog": ["promo"]})
    info = task.prepare()
    assert info["series_used"] == 3 and info["season_length"] == 7 and info["excluded"] == {}
    assert len(info["cutoffs"]) == 2 and info["end"] == "2022-05-02"
    assert list(task.df.columns) == ["unique_id", "ds", "y", "promo"]


def test_duplicate_rows_name_the_series(tmp_path: Path) -> None:
    frame = daily_frame()
    frame = pd.concat([frame, frame[frame["series"] == "B"].iloc[[5]]])
    task, _ = make_task(tmp_path, frame)
    with pytest.raises(DataError, match=r"repeat a \(series, date\) pair in series 'B'"):
        task.prepare()


def test_gaps_are_filled_with_zero_sales(tmp_path: Path) -> None:
    frame = daily_frame(n=120)
    drop = frame.index[
        (frame["series"] == "C") & frame["date"].isin(pd.to_datetime(["2022-02-01", "2022-02-02"]))
    ]
    frame.loc[frame.index[(frame["series"] == "A")][10], "promo"] = np.nan
    task, _ = make_task(tmp_path, frame.drop(drop), data={"exog": ["promo"]})
    info = task.prepare()
    assert task.df["promo"].notna().all()  # missing exog: carried forward within the series
    assert info["gaps_filled"] == {"C": 2}
    filled = task.df[
        (task.df["unique_id"] == "C")
        & task.df["ds"].isin(pd.to_datetime(["2022-02-01", "2022-02-02"]))
    ]
    assert filled["y"].tolist() == [0.0, 0.0]
    assert filled["promo"].notna().all()


def test_uninferable_frequency_is_an_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    dates = pd.Timestamp("2022-01-01") + pd.to_timedelta(
        np.cumsum(rng.integers(1, 9, 80)), unit="D"
    )
    frame = pd.DataFrame({"series": "A", "date": dates, "sales": 5.0})
    task, _ = make_task(tmp_path, frame, data={"freq": None})
    with pytest.raises(DataError, match="cannot infer the frequency"):
        task.prepare()


def test_negative_sales_name_the_series(tmp_path: Path) -> None:
    frame = daily_frame()
    frame.loc[(frame["series"] == "B").to_numpy().nonzero()[0][3], "sales"] = -2.0
    task, _ = make_task(tmp_path, frame)
    with pytest.raises(DataError, match="negative sales in series 'B'"):
        task.prepare()


def test_short_series_are_dropped_and_listed(tmp_path: Path) -> None:
    frame = daily_frame(n=120)
    short = frame[(frame["series"] == "A") & (frame["date"] >= "2022-04-25")]  # 8 days
    early = frame[(frame["series"] == "B") & (frame["date"] < "2022-03-01")]
    frame = pd.concat([short, early, frame[frame["series"] == "C"]])
    task, _ = make_task(tmp_path, frame)
    with pytest.warns(UserWarning, match="dropped 2 series"):
        info = task.prepare()
    assert set(info["excluded"]) == {"A", "B"}
    assert "shorter than two seasons" in info["excluded"]["A"]
    assert "before the last date" in info["excluded"]["B"]
    assert task.df["unique_id"].unique().tolist() == ["C"]


def test_no_series_left_is_an_error(tmp_path: Path) -> None:
    frame = daily_frame(n=120)
    frame = frame[frame["date"] >= "2022-04-22"]  # 11 days: shorter than two weeks
    task, _ = make_task(tmp_path, frame, horizon=2, backtest={"windows": 1})
    with pytest.raises(DataError, match="no series can be backtested"):
        task.prepare()


def test_horizon_longer_than_history_is_an_error(tmp_path: Path) -> None:
    task, _ = make_task(tmp_path, daily_frame(n=60), horizon=61)
    with pytest.raises(DataError, match="horizon 61 is longer than the history"):
        task.prepare()


def test_unparseable_dates_name_the_column_and_value(tmp_path: Path) -> None:
    frame = daily_frame(n=30)
    frame["date"] = frame["date"].dt.strftime("%d-%m-%Y")
    frame.loc[4, "date"] = "31-02-2022"
    task, _ = make_task(tmp_path, frame, data={"date_format": "%d-%m-%Y"})
    with pytest.raises(DataError, match=r"time column 'date'.*'31-02-2022'"):
        task.prepare()


@pytest.mark.parametrize("freq", ["W-SAT", "D"])
def test_frequency_that_does_not_match_names_the_series(tmp_path: Path, freq: str) -> None:
    frame = daily_frame(n=120)
    frame = frame[frame["date"].dt.dayofweek == 4]  # Fridays only: weekly data
    task, _ = make_task(tmp_path, frame, data={"freq": freq}, horizon=2, backtest={"windows": 1})
    with pytest.raises(DataError, match=f"frequency '{freq}' does not match .*'A'"):
        task.prepare()


# ---------------------------------------------------------------- export


def pyfunc(forecaster: Any, name: str = "m") -> Any:
    from salesml.forecast_export import ForecastPyfunc

    quantiles = {80: np.array([1.0, 2.0]), 95: np.array([2.0, 3.0])}
    scales = pd.Series(1.0, index=["A", "B", "C"])
    return ForecastPyfunc(forecaster, name, 3, [80, 95], quantiles, scales)


def test_pyfunc_wrapper_columns_and_horizon() -> None:
    df = long(daily_frame(n=40))
    wrapper = pyfunc(StatsForecaster("naive", "D", 7).fit(df), "naive")
    out = wrapper.predict(None, pd.DataFrame({"unique_id": ["B", "A"], "h": [4, 4]}))
    cols = ["naive-lo-80", "naive-hi-80", "naive-lo-95", "naive-hi-95"]
    assert list(out.columns) == ["unique_id", "ds", "naive", *cols]
    assert sorted(out["unique_id"].unique()) == ["A", "B"] and len(out) == 8
    first = out[out["unique_id"] == "A"]
    last_a = df[df["unique_id"] == "A"]["y"].iloc[-1]
    assert np.allclose(first["naive"], last_a)
    # steps beyond the calibrated horizon reuse the last quantile
    assert np.allclose(first["naive-hi-80"] - first["naive"], [1.0, 2.0, 2.0, 2.0])
    assert len(wrapper.predict(None, pd.DataFrame({"unique_id": ["C"]}))) == 3  # default horizon
    assert len(wrapper.predict(None, pd.DataFrame({"unique_id": ["C"]}), params={"h": 2})) == 2
    with pytest.raises(ValueError, match="unknown series"):
        wrapper.predict(None, pd.DataFrame({"unique_id": ["Z"]}))


def test_pyfunc_wrapper_with_future_exog() -> None:
    df = long(daily_frame(n=60)).merge(
        to_long(daily_frame(n=60), "series", "date", "sales", ["promo"])[
            ["unique_id", "ds", "promo"]
        ]
    )
    params = {"n_estimators": 20, "holidays": None}
    model = build_forecaster("lightgbm_global", params, "D", 7, ["promo"]).fit(df)
    wrapper = pyfunc(model, "lgb")
    future = pd.DataFrame(
        {
            "unique_id": ["A"] * 2,
            "ds": pd.date_range("2022-03-04", periods=2, freq="D"),
            "promo": [1.0, 0.0],
        }
    )
    out = wrapper.predict(None, future)
    assert list(out.columns[:3]) == ["unique_id", "ds", "lgb"] and len(out) == 2
    assert (out["lgb-lo-95"] <= out["lgb"]).all() and (out["lgb"] <= out["lgb-hi-95"]).all()
    with pytest.raises(ValueError, match="future values of promo"):
        wrapper.predict(None, future.drop(columns="promo"))


# ---------------------------------------------------------------- end to end


def test_run_experiment_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    from salesml.runner import run_experiment
    from salesml.synthetic_sales import generate_sales

    monkeypatch.setenv("SALESML_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    frame = generate_sales(6, seed=3, n_days=480)
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    raw = {
        "name": "fc-e2e",
        "task": "forecast",
        "data": {
            "path": str(csv),
            "id": ["store", "product"],
            "time": "ds",
            "target": "y",
            "exog": ["promo"],
        },
        "horizon": 7,
        "backtest": {"windows": 2},
        "evaluation": {"bootstrap": 200},
        "baselines": ["seasonal_naive", "last_year_growth"],
        "models": [
            {"type": "lightgbm_global", "params": {"n_estimators": 40}},
            {"type": "auto_ets", "params": {"model": "ANN", "refit": False}},
            "ensemble",
        ],
    }
    path = tmp_path / "fc.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    summary = run_experiment(load_experiment(path), tmp_path / "out", tracking_uri=uri)
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["primary_metric"] == summary["primary_metric"] == "mase"
    assert on_disk["data"]["freq"] == "D" and on_disk["data"]["series_used"] == 6
    roles = {c["name"]: c["role"] for c in summary["candidates"]}
    assert roles == {
        "seasonal_naive": "baseline",
        "last_year_growth": "baseline",
        "lightgbm_global": "model",
        "auto_ets": "model",
        "ensemble": "model",
    }
    for c in summary["candidates"]:
        assert c["status"] == "ok", c.get("error")
        for key in ("mase", "wape", "smape", "bias", "rmsse", "coverage_80", "coverage_95"):
            assert np.isfinite(c["metrics"][key]), (c["name"], key)
        assert len(c["metrics"]["mase_ci"]) == 2
    champ = summary["champion"]
    assert champ["name"] in ("lightgbm_global", "auto_ets", "ensemble")
    assert champ["baseline"] in ("seasonal_naive", "last_year_growth")
    lo, hi = champ["delta_ci"]
    assert lo <= champ["delta_mase"] <= hi and champ["beats_baseline"] == (hi < 0)
    assert (tmp_path / "out" / "plots" / "comparison.png").exists()
    mlflow.set_tracking_uri(uri)
    by_name = {c["name"]: c for c in summary["candidates"]}
    model = mlflow.pyfunc.load_model(by_name["seasonal_naive"]["model_uri"])
    uid = sorted(set(frame["store"] + "/" + frame["product"]))[0]
    out = model.predict(pd.DataFrame({"unique_id": [uid], "h": [5]}))
    assert list(out.columns) == ["unique_id", "ds", "seasonal_naive"] + [
        f"seasonal_naive-{s}-{lv}" for lv in (80, 95) for s in ("lo", "hi")
    ]
    assert len(out) == 5 and out["ds"].min() > frame["ds"].max()
    lgb = mlflow.pyfunc.load_model(by_name["lightgbm_global"]["model_uri"])
    future = pd.DataFrame(
        {
            "unique_id": [uid] * 3,
            "ds": pd.date_range(frame["ds"].max(), periods=4, freq="D")[1:],
            "promo": [0.0, 1.0, 0.0],
        }
    )
    assert lgb.predict(future)["lightgbm_global"].notna().all()


def test_holiday_feature_counts_holidays_in_each_period() -> None:
    from salesml.forecast_models import HolidayFeature

    weeks = pd.DatetimeIndex(["2010-11-19", "2010-11-26", "2010-12-31", "2011-01-07"])
    # a W-FRI date labels Saturday..Friday: Thanksgiving (Thu 25 Nov) is in the week ending
    # 26 Nov; New Year's Day observed on Fri 31 Dec in the week ending that day
    assert HolidayFeature("W-FRI")(weeks).tolist() == [0.0, 1.0, 1.0, 0.0]
    assert HolidayFeature("MS")(pd.DatetimeIndex(["2010-11-01"])).tolist() == [2.0]
    days = pd.DatetimeIndex(["2023-07-03", "2023-07-04"])
    assert HolidayFeature("D")(days).tolist() == [0.0, 1.0]
