"""Real weekly store sales, made awkward: returns, short and new series, an intermittent one.

Built from the shipped Walmart file (18 stores, 143 weeks): stores 4 and 13
(one series in nine) get a week of net returns (negative sales); stores 16
and 17 keep their last 30 weeks, store 18 its last 10 (shorter than the
horizon + 1 in the first window), store 15 its last 3 (it starts inside the
last backtest window); store 14 sells one week in three. With horizon 8 and
two windows, the fallback rule (``salesml.forecast.fallback``) fixes what
every candidate does with each series; the counts below follow from it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from salesml.errors import DataError
from salesml.experiment.card import ModelCard
from salesml.experiment.config import load_experiment
from salesml.forecast.task import ForecastTask
from salesml.scoring.card import render_card

WALMART = ROOT / "data" / "external" / "walmart_sales" / "Walmart_Store_sales.csv"
RETURNS = {4: 20, 13: 60}  # store: week of the return
SHORT = {16: 30, 17: 30, 18: 10, 15: 3}  # store: weeks kept
ALL = [str(s) for s in range(1, 19)]


def store_sales() -> pd.DataFrame:
    raw = pd.read_csv(WALMART)
    raw = raw[raw["Store"] <= 18].copy()
    raw["Date"] = pd.to_datetime(raw["Date"], format="%d-%m-%Y")
    dates = np.sort(raw["Date"].unique())
    for store, week in RETURNS.items():
        idx = raw.index[raw["Store"] == store][week]
        raw.loc[idx, "Weekly_Sales"] = -0.05 * raw.loc[idx, "Weekly_Sales"]
    for store, weeks in SHORT.items():
        raw = raw[(raw["Store"] != store) | (raw["Date"] >= dates[-weeks])]
    sparse = (raw["Store"] == 14) & (np.arange(len(raw)) % 3 != 0)
    raw.loc[sparse, "Weekly_Sales"] = 0.0
    return raw.reset_index(drop=True)


def _config(tmp_path: Path, write_yaml, negative: str = "keep", **extra) -> Path:
    csv = tmp_path / "stores.csv"
    store_sales().to_csv(csv, index=False)
    raw = {
        "name": "stores-awkward",
        "task": "forecast",
        "data": {
            "path": str(csv),
            "id": "Store",
            "time": "Date",
            "target": "Weekly_Sales",
            "freq": "W-FRI",
            "negative": negative,
        },
        "horizon": 8,
        "backtest": {"windows": 2},
        "evaluation": {"bootstrap": 100},
        "baselines": ["seasonal_naive", "last_year_growth", "moving_average", "croston"],
        **extra,
    }
    return write_yaml(raw, "stores.yaml")


def test_every_series_is_forecast_and_scored(tmp_path, write_yaml) -> None:
    task = ForecastTask(load_experiment(_config(tmp_path, write_yaml)))
    info = task.prepare().info
    assert (info.series, info.series_used, info.excluded) == (18, 18, {})
    assert (info.negative_values, info.negative_series) == (2, 2)
    assert info.demand == {"smooth": 17, "intermittent": 1}
    assert list(info.unscored) == ["15"]
    expected = {
        # 30-week stores have < 52 weeks: seasonal naive cannot, naive does; the
        # 10- and 3-week stores likewise.
        "seasonal_naive": {"naive": 4},
        "last_year_growth": {"naive": 4},
        # a 52-week window average of a shorter series is not finite: naive
        "moving_average": {"naive": 4},
        "croston": {},
    }
    for role, cand in task.config.candidates:
        out = task.fit_evaluate(cand, role, tmp_path / "plots" / cand.name)
        per_series = task.fits[cand.name].per_series
        scored = sorted(per_series.index)
        assert scored == sorted(set(ALL) - {"15"}), cand.name  # store 18 too: 2 weeks of history
        assert sorted(out.predictions.query("window > 0")["unique_id"].unique()) == scored
        assert np.isfinite(per_series).all() and np.isfinite(out.metrics["mase"])
        assert info.fallbacks[cand.name] == expected[cand.name]
        assert {k: v for k, v in out.params.items() if k.startswith("fallback.")} == {
            f"fallback.{form}": n for form, n in expected[cand.name].items()
        }
        model = task.export(out, cand)
        final = model.predictor.predict(pd.DataFrame({"unique_id": ALL, "h": [8] * 18}))
        assert final.groupby("unique_id").size().to_dict() == dict.fromkeys(ALL, 8)
        assert final[cand.name].notna().all()
        card = render_card(ModelCard.from_metadata(model.metadata()), None, "models:/x/1")
        used = ", ".join(f"{n} on {form}" for form, n in expected[cand.name].items())
        assert "- Short series: series too short for the model get" in card
        assert (used or "none needed one") in card
    # store 4's return is in its history: its forecasts and bounds are not clipped at 0
    assert task.signed == ["13", "4"]
    bt = task.fits["seasonal_naive"].backtest
    assert bt.loc[bt["unique_id"] == "4", "signed"].all()
    assert not bt.loc[bt["unique_id"] == "1", "signed"].any()
    notes = task.notes()
    assert notes[0].startswith("series: 18 of 18 forecast; demand: 17 smooth, 1 intermittent")
    assert "2 negative values in 2 series (kept)" in notes[0]
    # weekly data, but no candidate here carries a season in model states: nothing tested
    assert info.seasonal is None and not any(n.startswith("seasonality") for n in notes)
    fallback_line = next(line for line in notes if line.startswith("fallbacks"))
    assert "seasonal_naive 4 naive" in fallback_line and "croston" not in fallback_line


def test_clip_and_error_modes_on_store_sales(tmp_path, write_yaml) -> None:
    clip = ForecastTask(load_experiment(_config(tmp_path, write_yaml, "clip")))
    info = clip.prepare().info
    assert (info.negative, info.negative_values, info.negative_series) == ("clip", 2, 2)
    assert clip.df["y"].min() == 0.0 and clip.signed == []
    value = store_sales().query("Store == 13")["Weekly_Sales"].min()
    err = ForecastTask(load_experiment(_config(tmp_path, write_yaml, "error")))
    with pytest.raises(DataError) as caught:
        err.prepare()
    assert str(caught.value).startswith(f"{tmp_path / 'stores.csv'}: 2 negative sales")
    assert f"series '13', '4' (e.g. '13' on 2011-04-01: {value:.12g})" in str(caught.value)


@pytest.mark.slow
def test_store_sales_end_to_end_with_seasonal_models(tmp_path, write_yaml, tracking) -> None:
    import mlflow
    from rich.console import Console

    from salesml.experiment.results import load_summary
    from salesml.runner import run_experiment

    path = _config(
        tmp_path,
        write_yaml,
        baselines=["naive", "seasonal_naive", "croston", "adida"],
        models=[
            {"type": "auto_ets", "params": {"damped": False}},
            {"type": "auto_theta"},
            {"type": "lightgbm_global", "params": {"n_estimators": 40}},
            "ensemble",
        ],
    )
    screen = io.StringIO()
    summary = run_experiment(
        load_experiment(path), tmp_path / "out", console=Console(file=screen, width=200)
    )
    assert summary.failed == []
    # 30-week stores: the non-seasonal ETS / Theta; 10- and 3-week stores: naive
    # (too short for the non-seasonal form in the window, or at all).
    fallbacks = load_summary(tmp_path / "out").data.fallbacks
    assert fallbacks["auto_ets"] == {"non_seasonal": 2, "naive": 2}
    assert fallbacks["auto_theta"] == {"non_seasonal": 2, "naive": 2}
    assert fallbacks["lightgbm_global"] == {} and "ensemble" not in fallbacks
    assert fallbacks["croston"] == fallbacks["adida"] == {} == fallbacks["naive"]
    text = screen.getvalue()
    assert "auto_ets 2 non_seasonal + 2 naive" in text
    assert "returns: 2 negative values in 2 series (kept)" in text
    run = mlflow.get_run(summary.candidate("auto_ets").mlflow_run_id)
    assert run.data.params["fallback.non_seasonal"] == "2"
    assert run.data.params["fallback.naive"] == "2"
    for c in summary.candidates:
        assert np.isfinite(c.metrics["mase"]), c.name
    model = mlflow.pyfunc.load_model(summary.candidate("auto_ets").model_uri)
    out = model.predict(pd.DataFrame({"unique_id": ["1", "15", "18"], "h": [4, 4, 4]}))
    assert len(out) == 12 and out["auto_ets"].notna().all()
