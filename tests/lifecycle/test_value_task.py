"""The customer_value task: a transaction log cleaned by counted rules, rules against models."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from conftest import ROOT
from salesml.experiment.config import load_experiment
from salesml.lifecycle.task import ValueTask
from salesml.lifecycle.transactions import CleaningRules, Columns, clean

CDNOW = ROOT / "experiments" / "customer_value" / "cdnow.yaml"


def _shop_log() -> pd.DataFrame:
    """A shop's export: a guest line, a duplicated line, a cancelled invoice, a free sample."""
    return pd.DataFrame(
        {
            "Invoice": ["1", "1", "2", "C3", "4", "5", "6", "7"],
            "Customer ID": ["a", "a", "b", "b", None, "a", "c", "b"],
            "InvoiceDate": [
                "2024-01-02",
                "2024-01-02",
                "2024-01-03",
                "2024-01-03",
                "2024-01-04",
                "2024-02-01",
                "2024-02-02",
                "2024-03-01",
            ],  # fmt: skip
            "Quantity": [2, 2, 1, 1, 3, 1, 1, 1],
            "Price": [5.0, 5.0, 30.0, 10.0, 4.0, 8.0, 0.0, 12.0],
        }
    )


def test_each_cleaning_rule_is_counted_and_returns_net_against_their_day():
    cols = Columns("Customer ID", "InvoiceDate", "Price", "Quantity", "Invoice")
    lines, counts = clean(_shop_log(), cols, CleaningRules())
    assert counts == {
        "lines": 8, "no_customer": 1, "duplicates": 1, "returns": 1, "zero_value": 1, "used": 5
    }  # fmt: skip
    day = lines[(lines["customer"] == "b") & (lines["time"] == "2024-01-03")]["value"]
    assert sorted(day) == [-10.0, 30.0]  # netted to 20 when the day is summed
    _, dropped = clean(_shop_log(), cols, CleaningRules(returns="drop", duplicates="keep"))
    assert dropped["used"] == 5 and "duplicates" not in dropped


def test_a_shop_export_runs_from_yaml_alone(tmp_path: Path):
    path = tmp_path / "shop.csv"
    _shop_log().to_csv(path, index=False, sep=";")
    raw = {
        "name": "shop",
        "task": "customer_value",
        "data": {
            "path": str(path),
            "customer": "Customer ID",
            "time": "InvoiceDate",
            "value": "Price",
            "quantity": "Quantity",
            "invoice": "Invoice",
        },  # fmt: skip
        "calibration_end": "2024-02-15",
        "holdout_end": "2024-03-31",
        "unit_days": 1,
        "baselines": ["last_period"],
        "models": ["bgnbd_gamma_gamma"],
    }
    cfg = tmp_path / "shop.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    task = ValueTask(load_experiment(cfg))
    prep = task.prepare()
    s = prep.data.summary
    assert list(s.index) == ["a", "b"]  # c's only purchase was a free sample: dropped
    assert s.loc["a", "frequency"] == 1 and s.loc["b", "frequency"] == 0
    first = prep.data.summary.loc["b"]  # b's first day: 30 bought, 10 returned
    assert first["monetary"] == 0 and first["T"] == 43
    assert prep.actual.loc["b", "actual_purchases"] == 1
    assert "1 without a customer dropped" in prep.info.cleaning_line
    assert "1 returns netted against their day" in prep.info.cleaning_line


def test_the_holdout_never_reaches_a_fit():
    """Rewriting every holdout purchase changes the actuals and none of the predictions."""
    task = ValueTask(load_experiment(CDNOW))
    prep = task.prepare()
    cands = {c.name: (role, c) for role, c in task.config.candidates}
    before = {n: task.fit_evaluate(c, r, Path("unused")).predictions for n, (r, c) in cands.items()}
    doubled = prep.actual * 2
    task._prepared = dataclasses.replace(prep, actual=doubled)
    for name, (role, cand) in cands.items():
        after = task.fit_evaluate(cand, role, Path("unused")).predictions
        pd.testing.assert_series_equal(before[name]["purchases"], after["purchases"])
        assert (after["actual_purchases"] == 2 * before[name]["actual_purchases"]).all()
    # the learners' targets end at the calibration end
    assert prep.data.train_horizon == pytest.approx(
        (pd.Timestamp("1997-09-30") - pd.Timestamp(prep.info.train_cut).normalize()).days / 7
    )


@pytest.mark.slow
def test_cdnow_end_to_end(tracking, tmp_path):
    from salesml.runner import run_experiment

    screen = io.StringIO()
    summary = run_experiment(
        load_experiment(CDNOW), tmp_path / "out", console=Console(file=screen, width=220)
    )
    assert summary.failed == [] and summary.data.rows == 2357
    champ = summary.champion
    assert (champ.name, champ.baseline, champ.verdict) == (
        "bgnbd_gamma_gamma",
        "rfm_segments",
        "model",
    )
    preds = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    bg = preds[preds["candidate"] == "bgnbd_gamma_gamma"]
    assert bg["purchases"].sum() == pytest.approx(1653, rel=0.01)  # as the pinned BG/NBD
    assert bg["p_alive"].between(0, 1).all()
    assert np.isnan(preds.loc[preds["candidate"] == "last_period", "p_alive"]).all()
    assert "bgnbd_gamma_gamma beats rfm_segments" in screen.getvalue()
    # scored from the command's code path: the log in, a value per customer out
    from salesml.scoring.batch import score_file

    uri = summary.candidate("bgnbd_gamma_gamma").model_uri
    log = ROOT / "data" / "external" / "cdnow" / "cdnow_transactions.csv"
    score_file(uri, log, tmp_path / "value.csv", h=90, as_of="1998-03-31")
    scored = pd.read_csv(tmp_path / "value.csv", dtype={"customer": str})
    assert len(scored) == 2357 and (scored["horizon_days"] == 90).all()
    assert (scored["as_of"] == "1998-03-31").all() and scored["customer"].str.len().eq(4).all()
    assert summary.candidate("rfm_segments").model_uri is None
    # and over REST, as salesml serve answers: the log in, the same values out
    import os
    import warnings

    with warnings.catch_warnings():  # starlette's note on its httpx client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from salesml.tracking import load_model
    from salesml.tracking.serving import serving_app

    flag = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(flag, os.environ.get(flag, "false"))
        client = TestClient(serving_app(load_model(uri, tracking), uri))
    body = {
        "dataframe_split": json.loads(pd.read_csv(log, dtype=str).to_json(orient="split")),
        "params": {"h": 90.0, "as_of": "1998-03-31"},
    }
    body["dataframe_split"].pop("index", None)
    answer = client.post("/invocations", json=body)
    assert answer.status_code == 200, answer.text
    served = pd.DataFrame(answer.json()["predictions"])
    assert len(served) == 2357
    np.testing.assert_allclose(
        served.sort_values("customer")["expected_purchases"].astype(float),
        scored.assign(customer=scored["customer"]).sort_values("customer")["expected_purchases"],
        rtol=1e-9,
    )


def test_the_exported_model_values_every_customer_of_a_log():
    from salesml.experiment.task import Outcome

    task = ValueTask(load_experiment(CDNOW))
    task.prepare()
    cand = next(c for role, c in task.config.candidates if c.name == "bgnbd_gamma_gamma")
    model = task.export(Outcome(name=cand.name, role="model", type=cand.type), cand)
    raw = pd.read_csv(ROOT / "data" / "external" / "cdnow" / "cdnow_transactions.csv")
    year = model.predictor.predict(raw)
    assert len(year) == 2357 and (year["as_of"] == "1998-06-30").all()
    assert (year["horizon_days"] == 273).all()  # the holdout's length
    two = model.predictor.predict(raw, {"h": 546})
    assert (two["expected_purchases"].to_numpy() >= year["expected_purchases"].to_numpy()).all()
    assert year["p_alive"].between(0, 1).all() and (year["expected_value"] >= 0).all()
    early = model.predictor.predict(raw, {"as_of": "1997-09-30"})
    assert len(early) == 2357 and early["T"].max() < year["T"].max()
    with pytest.raises(ValueError, match="before the log's first purchase"):
        model.predictor.predict(raw, {"as_of": "1990-01-01"})
    rule = next(c for role, c in task.config.candidates if role == "baseline")
    assert task.export(Outcome(name=rule.name, role="baseline", type=rule.type), rule) is None


def test_metrics_drawn_together_equal_each_drawn_alone():
    from salesml.experiment.task import Resampling
    from salesml.lifecycle.view import ValueView, metrics_with_cis

    rng = np.random.default_rng(1)
    n = 300
    actual = rng.poisson(1.0, n).astype(float)
    preds = pd.DataFrame(
        {
            "customer": [f"{i:04d}" for i in range(n)],
            "frequency": rng.poisson(1.0, n),
            "purchases": actual + rng.normal(0, 0.5, n),
            "spend": actual * 20 + rng.normal(0, 5, n),
            "actual_purchases": actual,
            "actual_spend": actual * 20,
        }
    )
    rs = Resampling(bootstrap=200, seed=3, n_jobs=1)
    names = ["purchases_mae", "purchases_corr", "return_auc", "total_spend_error"]
    together = metrics_with_cis(preds, names, rs)
    view = ValueView(None)
    for name in names:
        point, ci = view.metric(preds, name, rs)
        assert together[name][0] == pytest.approx(point)
        assert together[name][1] == pytest.approx(ci)
