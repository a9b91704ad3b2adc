"""The forecast task: data preparation, refusal of bad input, and a whole experiment end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.experiment.config import load_experiment
from salesml.experiment.results import ForecastData, Summary, load_summary

# ---------------------------------------------------------------- prepare and bad input


def test_good_daily_data_prepare(make_task, daily_frame) -> None:
    task = make_task(daily_frame(), data={"exog": ["promo"]})
    info = task.prepare().info
    assert isinstance(info, ForecastData)
    assert info.series_used == 3 and info.season_length == 7 and info.excluded == {}
    assert len(info.cutoffs) == 2 and info.end == "2022-05-02"
    assert list(task.df.columns) == ["unique_id", "ds", "y", "promo"]


def test_duplicate_rows_name_the_series(make_task, daily_frame) -> None:
    frame = daily_frame()
    frame = pd.concat([frame, frame[frame["series"] == "B"].iloc[[5]]])
    task = make_task(frame)
    with pytest.raises(DataError, match=r"repeat a \(series, date\) pair in series 'B'"):
        task.prepare()


def test_gaps_are_filled_with_zero_sales(make_task, daily_frame) -> None:
    frame = daily_frame(n=120)
    drop = frame.index[
        (frame["series"] == "C") & frame["date"].isin(pd.to_datetime(["2022-02-01", "2022-02-02"]))
    ]
    frame.loc[frame.index[(frame["series"] == "A")][10], "promo"] = np.nan
    task = make_task(frame.drop(drop), data={"exog": ["promo"]})
    info = task.prepare().info
    assert task.df["promo"].notna().all()  # missing exog: carried forward within the series
    assert info.gaps_filled == {"C": 2}
    filled = task.df[
        (task.df["unique_id"] == "C")
        & task.df["ds"].isin(pd.to_datetime(["2022-02-01", "2022-02-02"]))
    ]
    assert filled["y"].tolist() == [0.0, 0.0]
    assert filled["promo"].notna().all()


def test_uninferable_frequency_is_an_error(make_task) -> None:
    rng = np.random.default_rng(1)
    dates = pd.Timestamp("2022-01-01") + pd.to_timedelta(
        np.cumsum(rng.integers(1, 9, 80)), unit="D"
    )
    frame = pd.DataFrame({"series": "A", "date": dates, "sales": 5.0})
    task = make_task(frame, data={"freq": None})
    with pytest.raises(DataError, match="cannot infer the frequency"):
        task.prepare()


@pytest.mark.parametrize("mode", ["keep", "clip", "error"])
def test_negative_sales_follow_data_negative(make_task, daily_frame, mode: str) -> None:
    frame = daily_frame()
    rows = (frame["series"] == "B").to_numpy().nonzero()[0]
    frame.loc[rows[3], "sales"] = -2.0
    frame.loc[rows[40], "sales"] = -1.5
    task = make_task(frame, data={"negative": mode})
    if mode == "error":
        with pytest.raises(
            DataError, match=r"sales\.csv: 2 negative sales .*'B' on 2022-01-06: -2"
        ):
            task.prepare()
        return
    info = task.prepare().info
    assert (info.negative, info.negative_values, info.negative_series) == (mode, 2, 1)
    b = task.df.loc[task.df["unique_id"] == "B", "y"].to_numpy()
    assert (b[3], b[40]) == ((-2.0, -1.5) if mode == "keep" else (0.0, 0.0))
    assert task.signed == (["B"] if mode == "keep" else [])
    assert (
        f"2 negative values in 1 series ({'kept' if mode == 'keep' else 'set to 0'})"
        in (task.notes()[0])
    )


def test_short_series_are_kept_and_ended_series_listed(make_task, daily_frame) -> None:
    frame = daily_frame(n=120)
    short = frame[(frame["series"] == "A") & (frame["date"] >= "2022-04-25")]  # 8 days
    early = frame[(frame["series"] == "B") & (frame["date"] < "2022-03-01")]
    frame = pd.concat([short, early, frame[frame["series"] == "C"]])
    info = make_task(frame, data={"discontinued_after": 28}).prepare().info
    assert set(info.excluded) == {"B"} and "before the last date" in info.excluded["B"]
    assert info.series == 3 and info.series_used == 2 and info.unscored == {}
    assert (info.fill, info.discontinued_after) == ("zero", 28)
    # by default daily data waits half a year: B (silent for 62 days) is live, filled with 0
    info = make_task(frame).prepare().info
    assert info.excluded == {} and info.series_used == 3


def test_a_series_starting_in_the_last_window_is_listed_as_unscored(make_task, daily_frame):
    frame = daily_frame(n=120)
    frame = frame[(frame["series"] != "A") | (frame["date"] >= "2022-04-28")]  # last 5 days
    task = make_task(frame)
    info = task.prepare().info
    assert list(info.unscored) == ["A"] and "inside the last backtest window" in info.unscored["A"]
    assert "not scored (too new): 'A'" in task.notes()[0]


def test_horizon_longer_than_history_is_an_error(make_task, daily_frame) -> None:
    task = make_task(daily_frame(n=60), horizon=61)
    with pytest.raises(DataError, match="horizon 61 is longer than the history"):
        task.prepare()


def test_unparseable_dates_name_the_column_and_value(make_task, daily_frame) -> None:
    frame = daily_frame(n=30)
    frame["date"] = frame["date"].dt.strftime("%d-%m-%Y")
    frame.loc[4, "date"] = "31-02-2022"
    task = make_task(frame, data={"date_format": "%d-%m-%Y"})
    with pytest.raises(DataError, match=r"time column 'date'.*'31-02-2022'"):
        task.prepare()


@pytest.mark.parametrize("freq", ["W-SAT", "D"])
def test_frequency_that_does_not_match_names_the_series(make_task, daily_frame, freq: str) -> None:
    frame = daily_frame(n=120)
    frame = frame[frame["date"].dt.dayofweek == 4]  # Fridays only: weekly data
    task = make_task(frame, data={"freq": freq}, horizon=2, backtest={"windows": 1})
    with pytest.raises(DataError, match=f"frequency '{freq}' does not match .*'A'"):
        task.prepare()


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_run_experiment_end_to_end(tmp_path: Path, tracking: str, write_yaml) -> None:
    import mlflow

    from salesml.runner import run_experiment
    from salesml.synthetic.sales import generate_sales

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
    path = write_yaml(raw, "fc.yaml")
    summary = run_experiment(load_experiment(path), tmp_path / "out")
    assert isinstance(summary, Summary)
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary.to_dict(), default=str))
    assert load_summary(tmp_path / "out" / "summary.json").to_dict() == on_disk
    assert on_disk["experiment"]["primary_metric"] == summary.experiment.primary_metric == "mase"
    assert summary.experiment.task == "forecast" and summary.experiment.tracking_uri == tracking
    assert isinstance(summary.data, ForecastData)
    assert on_disk["data"]["freq"] == "D" and on_disk["data"]["series_used"] == 6
    assert summary.data.freq == "D" and summary.data.series_used == 6
    roles = {c.name: c.role for c in summary.candidates}
    assert roles == {
        "seasonal_naive": "baseline",
        "last_year_growth": "baseline",
        "lightgbm_global": "model",
        "auto_ets": "model",
        "ensemble": "model",
    }
    assert summary.failed == []
    for c in summary.candidates:
        assert c.status == "ok", c.error
        for key in ("mase", "wape", "smape", "bias", "rmsse", "coverage_80", "coverage_95"):
            assert np.isfinite(c.metrics[key]), (c.name, key)
        # 6 series and 2 windows (2 horizon-long blocks): too few units for a CI (10)
        assert "mase_ci" not in c.metrics, c.name
    champ = summary.champion
    assert champ.name in ("lightgbm_global", "auto_ets", "ensemble")
    assert champ.baseline in ("seasonal_naive", "last_year_growth")
    assert champ.metric == "mase"
    assert champ.verdict == "insufficient" and champ.delta_ci is None
    assert not champ.beats_baseline and champ.registered_version is None
    assert champ.reason.startswith("6 series and 14 scored periods, 2 blocks")
    mase = {c.name: c.metrics["mase"] for c in summary.candidates}
    assert champ.delta == pytest.approx(mase[champ.name] - mase[champ.baseline])
    assert (tmp_path / "out" / "plots" / "comparison.png").exists()
    mlflow.set_tracking_uri(tracking)
    model = mlflow.pyfunc.load_model(summary.candidate("seasonal_naive").model_uri)
    uid = sorted(set(frame["store"] + "/" + frame["product"]))[0]
    out = model.predict(pd.DataFrame({"unique_id": [uid], "h": [5]}))
    assert list(out.columns) == ["unique_id", "ds", "seasonal_naive"] + [
        f"seasonal_naive-{s}-{lv}" for lv in (80, 95) for s in ("lo", "hi")
    ]
    assert len(out) == 5 and out["ds"].min() > frame["ds"].max()
    lgb = mlflow.pyfunc.load_model(summary.candidate("lightgbm_global").model_uri)
    future = pd.DataFrame(
        {
            "unique_id": [uid] * 3,
            "ds": pd.date_range(frame["ds"].max(), periods=4, freq="D")[1:],
            "promo": [0.0, 1.0, 0.0],
        }
    )
    assert lgb.predict(future)["lightgbm_global"].notna().all()


def test_summaries_written_before_the_fallback_fields_still_load(tmp_path: Path) -> None:
    from salesml.experiment.results import CandidateResult, ExperimentInfo

    data = ForecastData(path="s.csv", sha256="ab", rows=10, series=2, negative_values=3)
    data.fallbacks["auto_ets"] = {"naive": 1}
    summary = Summary(
        experiment=ExperimentInfo("fc", "forecast", "mase", 0.95),
        data=data,
        candidates=[CandidateResult("naive", "baseline", "naive", metrics={"mase": 1.0})],
    )
    raw = summary.to_dict()
    assert load_summary(summary.write(tmp_path / "new.json")).data == data
    new = ("negative", "negative_values", "negative_series", "demand", "fallbacks", "unscored")
    for key in new:
        del raw["data"][key]
    (tmp_path / "old.json").write_text(json.dumps(raw), encoding="utf-8")
    old = load_summary(tmp_path / "old.json").data
    assert (old.negative, old.negative_values, old.fallbacks, old.demand) == ("keep", 0, {}, {})
