"""Past covariates enter only lagged by the horizon; the exported model needs future ones only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

LGB = {"type": "lightgbm_global", "params": {"n_estimators": 120, "holidays": None}}
H = 7


def _series(shift: int, n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Daily sales equal to a random covariate ``x`` ``shift`` days earlier (iid noise otherwise)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="D")
    rows = []
    for uid in ("A", "B", "C", "D"):
        x = rng.normal(100, 10, n + shift).round(2)
        sales = x[:n] if shift else x
        rows.append(pd.DataFrame({"series": uid, "date": dates, "sales": sales, "x": x[shift:]}))
    return pd.concat(rows, ignore_index=True)


def _fit(task: Any, tmp_path: Path, name: str = "lightgbm_global") -> tuple[Any, Any]:
    task.prepare()
    for role, cand in task.config.candidates:
        if cand.name == name:
            return task.fit_evaluate(cand, role, tmp_path), cand
    raise AssertionError(name)


def _mase(make_task, tmp_path: Path, frame: pd.DataFrame, exog: Any) -> float:
    task = make_task(frame, data={"exog": exog}, models=[LGB], backtest={"windows": 2})
    return float(_fit(task, tmp_path)[0].metrics["mase"])


def test_a_past_covariate_cannot_leak_the_target(make_task, tmp_path: Path) -> None:
    frame = _series(shift=0)  # sales are x itself
    # as a future covariate (known in advance) x gives the answer away: the control
    assert _mase(make_task, tmp_path, frame, ["x"]) < 0.2
    # as a past covariate it is lagged by the horizon: no better than noise
    assert _mase(make_task, tmp_path, frame, {"past": ["x"]}) > 0.5


def test_a_past_covariate_lagged_by_the_horizon_is_used(make_task, tmp_path: Path) -> None:
    frame = _series(shift=H)  # sales are x a horizon earlier: knowable at the origin
    assert _mase(make_task, tmp_path, frame, {"past": ["x"]}) < 0.2
    assert _mase(make_task, tmp_path, frame, []) > 0.5  # without it: noise


def _holidays(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="D")
    rows = []
    for uid in ("A", "B", "C"):
        code = rng.choice(["0", "a", "b", "c"], n, p=[0.7, 0.1, 0.1, 0.1])
        lift = np.select([code == "a", code == "b"], [40.0, 20.0], 0.0)
        sales = 100 + lift + rng.normal(0, 2, n)
        temp = rng.normal(20, 5, n).round(1)
        rows.append(
            pd.DataFrame(
                {"series": uid, "date": dates, "sales": sales.round(1), "temp": temp}
            ).assign(holiday=code)
        )
    return pd.concat(rows, ignore_index=True)


def _exported(make_task, tmp_path: Path, exog: Any) -> Any:
    task = make_task(_holidays(), data={"exog": exog}, models=[LGB], backtest={"windows": 2})
    outcome, cand = _fit(task, tmp_path)
    return outcome, task.export(outcome, cand)


def _future(days: list[str], holiday: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ["A"] * len(days), "ds": days, "holiday": holiday})


def test_a_categorical_future_covariate_end_to_end(make_task, tmp_path: Path) -> None:
    outcome, exported = _exported(make_task, tmp_path, {"future": ["holiday"], "past": ["temp"]})
    assert outcome.metrics["mase"] < 0.5  # the holiday codes explain the sales
    days = [f"2022-06-{d:02d}" for d in range(2, 9)]  # the 7 days after the history
    out = exported.predictor.predict(_future(days, ["a", "0", "b", "0", "c", "0", "0"]))
    point = out["lightgbm_global"].to_numpy()
    assert point[0] - point[1] > 25 and 10 < point[2] - point[3] < 30
    # a code never seen in training is taken as missing, not refused
    unseen = exported.predictor.predict(_future(days, ["z"] * 7))
    assert np.isfinite(unseen["lightgbm_global"]).all()


def test_the_exported_model_needs_future_covariates_only(make_task, tmp_path: Path) -> None:
    _, exported = _exported(make_task, tmp_path, {"future": ["holiday"], "past": ["temp"]})
    predictor = exported.predictor
    assert list(exported.input_example.columns) == ["unique_id", "ds", "holiday"]
    assert predictor.metadata()["salesml"]["exog"] == ["holiday"]
    assert predictor.metadata()["salesml"]["past_exog"] == ["temp"]
    days = [f"2022-06-{d:02d}" for d in range(2, 9)]
    out = predictor.predict(_future(days, ["0"] * 7))  # no temp: it comes from the history
    assert len(out) == 7 and np.isfinite(out["lightgbm_global"]).all()
    # the past covariate is known at most a horizon ahead
    late = [f"2022-06-{d:02d}" for d in range(2, 10)]
    with pytest.raises(ValueError, match="'A' on 2022-06-09 .* past covariates temp"):
        predictor.predict(_future(late, ["0"] * 8))


def test_a_model_with_past_covariates_only_takes_ids_and_h(make_task, tmp_path: Path) -> None:
    _, exported = _exported(make_task, tmp_path, {"past": ["temp"]})
    assert list(exported.input_example.columns) == ["unique_id", "h"]
    out = exported.predictor.predict(pd.DataFrame({"unique_id": ["B", "C"], "h": [3, 3]}))
    assert len(out) == 6 and str(out["ds"].min().date()) == "2022-06-02"


def test_a_missing_future_covariate_is_refused_naming_it(make_task, tmp_path: Path) -> None:
    _, exported = _exported(make_task, tmp_path, {"future": ["holiday"], "past": ["temp"]})
    frame = pd.DataFrame({"unique_id": ["A"] * 2, "ds": ["2022-06-02", "2022-06-03"]})
    with pytest.raises(ValueError) as err:
        exported.predictor.predict(frame)
    message = str(err.value)
    assert "\n" not in message
    assert "needs future values of holiday" in message and "known in advance" in message
    assert "temp" not in message  # the past covariate is not asked for


def test_score_reads_the_training_files_columns(make_task, tmp_path: Path) -> None:
    from salesml.experiment.card import ModelCard
    from salesml.forecast.export import scoring_input

    raw = {"id": ["Store", "Dept"], "time": "Date", "date_format": "%d-%m-%Y"}
    card = ModelCard(kind="forecast", facts={"horizon": 8, "raw_columns": raw})
    frame = pd.DataFrame({"Store": [1, 1], "Dept": [3, 3], "Date": ["02-11-2012", "09-11-2012"]})
    out = scoring_input(frame, card, ["unique_id", "ds", "Holiday_Flag"], {}, "models:/m")
    assert list(out["unique_id"]) == ["1/3", "1/3"]
    assert list(out["ds"].dt.strftime("%Y-%m-%d")) == ["2012-11-02", "2012-11-09"]


def test_future_rows_on_other_dates_are_refused(make_task, tmp_path: Path) -> None:
    _, exported = _exported(make_task, tmp_path, {"future": ["holiday"]})
    days = [f"2022-05-{d:02d}" for d in range(26, 32)] + ["2022-06-01"]  # the last history week
    with pytest.raises(ValueError) as err:
        exported.predictor.predict(_future(days, ["a"] * 7))
    message = str(err.value)
    assert "series 'A'" in message and "2022-06-02 to 2022-06-08" in message
    assert "got 2022-05-26 to 2022-06-01" in message and "\n" not in message
