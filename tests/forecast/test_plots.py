"""The fan chart drawn from the few rows it shows is the chart drawn from all data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesml.forecast.plots import fan_chart, fan_rows


def _backtest(n_series: int = 9, days: int = 200, h: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ds = pd.date_range("2024-01-01", periods=days, freq="D")
    history = pd.concat(
        pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": rng.gamma(2, 10 * (i + 1), days)})
        for i in range(n_series)
    )
    rows = []
    for window, cutoff in ((1, ds[-2 * h]), (2, ds[-h])):
        part = history[history["ds"] >= cutoff].groupby("unique_id").head(h).copy()
        part["window"], part["cutoff"] = window, cutoff
        part["step"] = part.groupby("unique_id").cumcount() + 1
        part["yhat"] = part["y"] * 1.1
        for lv, k in ((80, 0.2), (95, 0.4)):
            part[f"lo-{lv}"], part[f"hi-{lv}"] = part["yhat"] * (1 - k), part["yhat"] * (1 + k)
        rows.append(part)
    return history, pd.concat(rows, ignore_index=True)


def test_the_fan_chart_of_its_rows_is_the_fan_chart_of_all_data(tmp_path: Path):
    history, forecasts = _backtest()
    past, last = fan_rows(history, forecasts, top=6)
    final = forecasts[forecasts["window"] == 2]
    largest = final.groupby("unique_id")["y"].sum().nlargest(6).index
    assert sorted(last["unique_id"].unique()) == sorted(largest)
    assert (last["window"] == 2).all()
    assert past["unique_id"].value_counts().max() == 60  # max(4 h, 60) periods each
    assert (past["ds"] < last["cutoff"].iloc[0]).all()
    full = fan_chart(history, forecasts, "m", [80, 95], tmp_path / "full.png")
    small = fan_chart(past, last, "m", [80, 95], tmp_path / "small.png")
    assert full.read_bytes() == small.read_bytes()
