"""The bookings task end to end: rules and the deal model backtested, tracked, judged."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from conftest import bookings_config
from salesml.experiment.config import load_experiment
from salesml.experiment.results import load_summary
from salesml.pipeline.task import BookingsTask


@pytest.mark.slow
def test_bookings_end_to_end(tmp_path, tracking):
    import mlflow

    from salesml.runner import run_experiment

    screen = io.StringIO()
    config = load_experiment(bookings_config(tmp_path))
    summary = run_experiment(config, tmp_path / "out", console=Console(file=screen, width=220))
    assert summary.failed == []
    assert summary.data.cutoffs == ["2024-09", "2024-10", "2024-11", "2024-12"]
    assert summary.data.segments == ["enterprise", "mid_market", "smb"] and summary.data.history
    for c in summary.candidates:
        assert np.isfinite(c.metrics["mae"]) and len(c.metrics["mae_ci"]) == 2, c.name
        assert ("deal_auc" in c.metrics) == (c.name not in ("run_rate", "last_year")), c.name
    champ = summary.champion
    assert champ.name == "deal_lightgbm" and champ.delta is not None and champ.verdict
    preds = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    units = preds[preds["level"] == "segment"]
    assert len(units) == 4 * 3 * len(summary.candidates)
    deals = preds[(preds["level"] == "deal") & (preds["candidate"] == "deal_lightgbm")]
    assert deals["probability"].between(0, 1).all() and deals["won"].isin([0, 1]).all()
    # the model's forecast is the sum of its deals' expected values plus new deals, per unit
    model = units[units["candidate"] == "deal_lightgbm"].set_index(["cutoff", "segment"])
    from_deals = deals.groupby(["cutoff", "segment"])["expected"].sum()
    assert (model["mean"] >= from_deals.reindex(model.index).fillna(0) - 1e-6).all()
    text = screen.getvalue()
    assert "deal_lightgbm" in text and "12 periods x segments" in text
    ahead = summary.data.next_period["deal_lightgbm"]
    assert (ahead["period"], ahead["as_of"]) == ("2025-01", "2025-01-01")
    totals = {r["segment"]: r for r in ahead["segments"]}
    assert totals["total"]["mean"] == pytest.approx(
        sum(r["mean"] for s, r in totals.items() if s != "total")
    )
    from salesml.experiment.tasks import task_spec

    sections = task_spec("bookings").make_view().sections(summary)
    this = next(s for s in sections if s.title == "This period")
    assert "deal_lightgbm forecasts the bookings of 2025-01" in this.paragraphs[0]
    assert len(this.rows) == 5
    run = mlflow.get_run(summary.candidate("stage_weighted").mlflow_run_id)
    assert float(run.data.metrics["mae"]) == pytest.approx(
        summary.candidate("stage_weighted").metrics["mae"]
    )
    assert load_summary(tmp_path / "out").champion.name == "deal_lightgbm"
    # the exported champion scores the export from the command line and in MLflow alike
    from salesml.scoring.batch import score_file

    uri = summary.candidate("deal_lightgbm").model_uri
    assert summary.candidate("run_rate").model_uri is None  # rules are not exported
    score_file(uri, tmp_path / "opportunities.csv", tmp_path / "scores.csv", as_of="2025-01-10")
    scored = pd.read_csv(tmp_path / "scores.csv")
    served = mlflow.pyfunc.load_model(uri).predict(
        pd.read_csv(tmp_path / "opportunities.csv", parse_dates=["created_at", "close_date"]),
        params={"as_of": "2025-01-10"},
    )
    assert (scored["as_of"] == "2025-01-10").all() and len(scored) == len(served)
    np.testing.assert_allclose(
        scored["probability"].fillna(-1), served["probability"].fillna(-1), rtol=1e-9
    )
    # served over REST: the export as JSON records, the day as a param; a bad day is a 400
    import json
    import os
    import warnings

    from salesml.tracking import load_model
    from salesml.tracking.serving import serving_app

    with warnings.catch_warnings():  # starlette's note on its httpx client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    flag = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"  # MLflow's server marks the process as serving
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(flag, os.environ.get(flag, "false"))
        client = TestClient(serving_app(load_model(uri, tracking), uri))
    export = pd.read_csv(tmp_path / "opportunities.csv")
    records = json.loads(export.to_json(orient="records"))
    answer = client.post(
        "/invocations", json={"dataframe_records": records, "params": {"as_of": "2025-01-10"}}
    )
    assert answer.status_code == 200, answer.text
    rows = pd.DataFrame(answer.json()["predictions"])
    np.testing.assert_allclose(
        rows["probability"].fillna(-1), scored["probability"].fillna(-1), rtol=1e-9
    )
    refused = client.post(
        "/invocations", json={"dataframe_records": records, "params": {"as_of": "2024-06-01"}}
    )
    assert refused.status_code == 400 and "as of 2024-12-31" in refused.text
    from salesml.errors import DataError

    with pytest.raises(DataError, match="as of 2024-12-31; a forecast as of 2024-06-01"):
        score_file(uri, tmp_path / "opportunities.csv", tmp_path / "x.csv", as_of="2024-06-01")
    assert not (tmp_path / "x.csv").exists()


def test_without_a_stage_history_the_rules_that_need_one_fail_clearly(tmp_path):
    task = BookingsTask(load_experiment(bookings_config(tmp_path, history=False)))
    info = task.prepare().info
    assert not info.history and info.current == ["amount"]
    spec = {c.name: c for _, c in task.config.candidates}
    with pytest.raises(Exception, match="needs each deal's stage as it was"):
        task.fit_evaluate(spec["stage_weighted"], "baseline", tmp_path / "plots")
    outcome = task.fit_evaluate(spec["run_rate"], "baseline", tmp_path / "plots")
    assert np.isfinite(outcome.metrics["mae"])
    assert any("today's amount" in line for line in task.notes())


def test_what_a_period_and_later_ones_booked_changes_none_of_its_forecasts(tmp_path):
    """Candidates see ``Known``: the outcomes from the period's start on never reach them."""
    import dataclasses

    from salesml.pipeline.deals import DealModel
    from salesml.pipeline.rules import LastYear, LearnedStageWeights, RunRate, StageWeighted

    task = BookingsTask(load_experiment(bookings_config(tmp_path)))
    bt = task.prepare().backtest
    i = bt.scored[1]
    rewritten = [
        dataclasses.replace(
            p,
            outcomes=p.outcomes.assign(won=~p.outcomes["won"], won_amount=1e9),
            bookings=p.bookings * 10 + 1,
            new_bookings=p.new_bookings * 10 + 1,
        )
        for p in bt.periods[i:]
    ]
    other = dataclasses.replace(bt, periods=bt.periods[:i] + tuple(rewritten))
    for make in (
        RunRate,
        LastYear,
        LearnedStageWeights,
        StageWeighted,
        lambda: DealModel(n_estimators=40),
    ):
        a = make().fit(bt.known(i)).predict(bt.known(i))
        b = make().fit(other.known(i)).predict(other.known(i))
        pd.testing.assert_frame_equal(a.by_segment, b.by_segment)
    # and the check can fail: the period before is visible
    j = i + 1
    a = RunRate().fit(bt.known(j)).predict(bt.known(j)).by_segment
    b = RunRate().fit(other.known(j)).predict(other.known(j)).by_segment
    assert not a.equals(b)


def test_too_short_a_history_is_refused_with_the_count(tmp_path):
    from salesml.errors import DataError

    path = bookings_config(tmp_path, backtest={"cutoffs": 20, "min_past": 10})
    with pytest.raises(DataError, match=r"opportunities\.csv: the data span 24 whole months"):
        BookingsTask(load_experiment(path)).prepare()


@pytest.mark.slow
def test_the_olist_funnel_as_a_bookings_forecast(tracking, tmp_path):
    """Real data: leads and the deals won from them, no amounts, no stages, no history."""
    from conftest import ROOT
    from salesml.runner import run_experiment

    config = load_experiment(ROOT / "experiments" / "pipeline" / "olist.yaml")
    screen = io.StringIO()
    summary = run_experiment(config, tmp_path / "out", console=Console(file=screen, width=200))
    assert summary.failed == []
    assert summary.data.deals["won"] == 842 and summary.data.rows == 8000
    assert summary.data.cutoffs == ["2018-02", "2018-03", "2018-04", "2018-05"]
    assert summary.champion.verdict in ("model", "rule", "tie")
    text = screen.getvalue()
    assert "bookings are counted in deals won" in text
    assert "last_year: no period a year before for 4 of 4 forecasts" in text


def test_quarters_and_too_few_units_for_a_verdict(tmp_path):
    """Three quarters x three segments are nine units: a point difference, no interval."""
    from salesml.experiment.evaluation import NotEnoughData

    path = bookings_config(tmp_path, period="quarter", backtest={"cutoffs": 3, "min_past": 4})
    task = BookingsTask(load_experiment(path))
    info = task.prepare().info
    assert info.cutoffs == ["2024Q2", "2024Q3", "2024Q4"]
    cands = {c.name: (role, c) for role, c in task.config.candidates}
    out = {
        name: task.fit_evaluate(cands[name][1], cands[name][0], tmp_path / "plots")
        for name in ("run_rate", "deal_lightgbm")
    }
    for o in out.values():
        assert np.isfinite(o.metrics["mae"]) and "mae_ci" not in o.metrics
    with pytest.raises(NotEnoughData, match="9 periods x segments, fewer than the 10"):
        task.difference(out["deal_lightgbm"], out["run_rate"])
