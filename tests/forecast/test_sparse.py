"""Sparse sales (issue 20, item 4): no row is no sale, and only a long silence is discontinued.

Store x department-like weekly data, where a week without sales has no row:
departments with random missing weeks, departments that stop 3 weeks before the
end (live: they sold a few weeks ago), departments that stop 40 weeks before the
end (discontinued), and one whose last 30 rows say 0 (silent, with rows).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesml.errors import ConfigError
from salesml.experiment.config import load_experiment
from salesml.forecast.data import regularize, select_series, silence_default, to_long

WEEKS = 130
END = pd.Timestamp("2012-10-26")  # a Friday: W-FRI
HOLEY = ("1/1", "1/2", "2/1", "2/2", "3/1", "3/2", "4/1", "4/2")
STOP3 = ("5/1", "5/2")
STOP40 = ("6/1", "6/2")
ZEROS30 = "7/1"  # rows to the end, but the last 30 are 0 sales


def _departments(seed: int = 7) -> tuple[pd.DataFrame, dict[str, list[pd.Timestamp]]]:
    """Weekly sales per store/dept (columns store, dept, week, sales) and the dropped weeks.

    The holey series miss about 10 % of their weeks at random (never their last
    two); the others are complete up to where they stop.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end=END, periods=WEEKS, freq="W-FRI")
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(WEEKS) / 52)
    frames, dropped = [], {}
    for i, uid in enumerate((*HOLEY, *STOP3, *STOP40, ZEROS30)):
        y = np.round((100 + 10 * i) * season * rng.gamma(20, 1 / 20, WEEKS), 1)
        keep = np.ones(WEEKS, bool)
        if uid in HOLEY:
            keep[:-2] = rng.random(WEEKS - 2) > 0.1
        elif uid in STOP3:
            keep[-3:] = False
        elif uid in STOP40:
            keep[-40:] = False
        else:
            y[-30:] = 0.0
        store, dept = uid.split("/")
        frames.append(pd.DataFrame({"store": store, "dept": dept, "week": dates, "sales": y})[keep])
        dropped[uid] = list(dates[~keep])
    return pd.concat(frames, ignore_index=True), dropped


@pytest.fixture
def weekly_task(make_task):
    """``weekly_task(**data)``: a ForecastTask on :func:`_departments` with these data keys."""

    def _make(**data):
        frame, _ = _departments()
        data = {"id": ["store", "dept"], "time": "week", "freq": "W-FRI", **data}
        return make_task(frame, data=data, horizon=4)

    return _make


def test_only_the_long_silent_series_are_discontinued(weekly_task) -> None:
    task = weekly_task()
    info = task.prepare().info
    assert sorted(info.excluded) == sorted([*STOP40, ZEROS30])
    for uid in STOP40:
        assert info.excluded[uid].startswith("discontinued: no sale in the last 40 weeks")
        assert "(data.discontinued_after: 26)" in info.excluded[uid]
    assert "no sale in the last 30 weeks" in info.excluded[ZEROS30]
    assert info.series == 13 and info.series_used == 10
    kept = set(task.df["unique_id"])
    assert kept == {*HOLEY, *STOP3}
    # everything kept is forecast from the common origin: every series reaches the last date
    assert (task.df.groupby("unique_id")["ds"].max() == END).all()
    notes = task.notes()[0]
    assert "series: 10 of 13 forecast" in notes
    assert "left out: 3 discontinued (no sale in the last 26 weeks): '6/1', '6/2', '7/1'" in notes


def test_fill_zero_creates_the_missing_weeks_with_zero_sales(weekly_task) -> None:
    _, dropped = _departments()
    task = weekly_task(fill="zero")
    info = task.prepare().info
    expect = {u: len(d) for u, d in dropped.items() if d}
    assert info.gaps_filled == expect
    df = task.df.set_index(["unique_id", "ds"])
    for uid in (*HOLEY, *STOP3):
        assert dropped[uid], uid  # the data really has holes there
        assert df.loc[[(uid, d) for d in dropped[uid]], "y"].eq(0.0).all()
        assert df.xs(uid).index.is_monotonic_increasing and len(df.xs(uid)) == WEEKS
    n, k = sum(expect.values()), len(expect)
    assert task.notes()[1] == f"filled {n:,} missing weeks in {k} series with 0 (data.fill: zero)"


def test_fill_missing_keeps_the_old_behaviour(weekly_task, tmp_path: Path) -> None:
    frame, dropped = _departments()
    task = weekly_task(fill="missing")
    info = task.prepare().info
    # the path before data.fill: gaps inside a series are 0, a series ends at its last row,
    # and any series that ends before the last date is left out. The discontinued rule
    # applies in both modes: 30 weeks of rows saying 0 are a silence too.
    long = to_long(frame, ["store", "dept"], "week", "sales")
    old, _, old_gaps = regularize(long, "W-FRI")
    old, old_excluded = select_series(old)
    assert sorted(old_excluded) == sorted([*STOP3, *STOP40])
    old = old[old["unique_id"] != ZEROS30].reset_index(drop=True)
    pd.testing.assert_frame_equal(task.df, old)
    assert info.gaps_filled == old_gaps == {u: len(dropped[u]) for u in HOLEY if dropped[u]}
    assert sorted(info.excluded) == sorted([*STOP3, *STOP40, ZEROS30])
    assert info.excluded[ZEROS30].startswith("discontinued: no sale in the last 30 weeks")
    assert "before the last date" in info.excluded["5/1"]
    assert "data.fill: missing" in info.excluded["5/1"]
    assert task.notes()[1].endswith("a series ends at its last row (data.fill: missing)")


def test_discontinued_after_is_configurable(weekly_task) -> None:
    info = weekly_task(discontinued_after=3).prepare().info
    assert sorted(info.excluded) == sorted([*STOP3, *STOP40, ZEROS30])
    assert "no sale in the last 3 weeks" in info.excluded["5/1"]
    info = weekly_task(discontinued_after=41).prepare().info
    assert info.excluded == {}


@pytest.mark.parametrize("value", [0, -2, "often"])
def test_a_bad_discontinued_after_is_refused(weekly_task, value) -> None:
    with pytest.raises(ConfigError, match="discontinued_after"):
        weekly_task(discontinued_after=value)


def test_a_bad_fill_is_refused(weekly_task) -> None:
    with pytest.raises(ConfigError, match="fill"):
        weekly_task(fill="nan")


@pytest.mark.parametrize(
    ("freq", "season", "expect"),
    [("W-FRI", 52, 26), ("W", 52, 26), ("D", 7, 181), ("MS", 12, 6), ("QS", 4, 2), ("YS", 1, 1)],
)
def test_the_default_silence_is_half_a_year(freq: str, season: int, expect: int) -> None:
    assert silence_default(freq, season) == expect


def test_a_series_that_never_sold_is_discontinued_only_when_long() -> None:
    dates = pd.date_range(end=END, periods=60, freq="W-FRI")
    df = pd.DataFrame(
        {
            "unique_id": ["live"] * 60 + ["never"] * 30 + ["new"] * 5,
            "ds": [*dates, *dates[-30:], *dates[-5:]],
            "y": [5.0] * 60 + [0.0] * 35,
        }
    )
    kept, excluded = select_series(df, freq="W-FRI", after=26)
    assert list(excluded) == ["never"] and "never sold in its 30 weeks" in excluded["never"]
    assert set(kept["unique_id"]) == {"live", "new"}


def test_dry_run_prints_the_fill_line(make_task, tmp_path: Path, write_yaml) -> None:
    from rich.console import Console

    from salesml.runner import dry_run

    frame, dropped = _departments()
    csv = tmp_path / "depts.csv"
    frame.to_csv(csv, index=False)
    path = write_yaml(_config(csv), "sparse.yaml")
    screen = io.StringIO()
    info = dry_run(load_experiment(path), console=Console(file=screen, width=250))
    out = screen.getvalue()
    n = sum(len(d) for d in dropped.values())
    k = sum(1 for d in dropped.values() if d)
    assert f"filled {n:,} missing weeks in {k} series with 0 (data.fill: zero)" in out
    assert "left out: 6/1 (discontinued: no sale in the last 40 weeks" in out
    assert "left out: 5/1" not in out
    assert sorted(info.excluded) == sorted([*STOP40, ZEROS30])


@pytest.mark.slow
def test_a_run_records_the_discontinued_series(tmp_path: Path, write_yaml, tracking) -> None:
    from rich.console import Console

    from salesml.runner import run_experiment

    frame, _ = _departments()
    csv = tmp_path / "depts.csv"
    frame.to_csv(csv, index=False)
    path = write_yaml(_config(csv), "sparse.yaml")
    screen = io.StringIO()
    summary = run_experiment(
        load_experiment(path), tmp_path / "out", console=Console(file=screen, width=250)
    )
    assert summary.failed == []
    data = json.loads((tmp_path / "out" / "summary.json").read_text())["data"]
    assert sorted(data["excluded"]) == sorted([*STOP40, ZEROS30])
    assert all("discontinued" in why for why in data["excluded"].values())
    assert data["series"] == 13 and data["series_used"] == 10
    # the live departments that stopped 3 weeks ago are forecast and scored
    assert "filled " in screen.getvalue() and "(data.fill: zero)" in screen.getvalue()
    preds = pd.read_parquet(next((tmp_path / "out").rglob("predictions.parquet")))
    scored = preds[preds["window"] > 0]
    assert set(STOP3) <= set(scored["unique_id"]) and not set(STOP40) & set(scored["unique_id"])


def _config(csv: Path) -> dict:
    return {
        "name": "fc-sparse",
        "task": "forecast",
        "data": {
            "path": str(csv),
            "id": ["store", "dept"],
            "time": "week",
            "target": "sales",
            "freq": "W-FRI",
        },
        "horizon": 4,
        "backtest": {"windows": 2},
        "evaluation": {"bootstrap": 50},
        "baselines": ["naive", "seasonal_naive"],
    }
