"""Reopening a finished run (``salesml.load_run``): its numbers, recomputed from its predictions.

A small lead-conversion run and a small forecast run are made once each (module
fixtures, own sqlite stores). Reopened from the output folder or from MLflow by
run id, every stored metric and CI, and the champion's paired difference, must
come back to 1e-9; metrics the run did not compute (``capture_at_10``) come with
a CI; figures are drawn from the predictions alone. The forecast view's maths
is also checked on a hand-made backtest frame, without a run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import BANT_RULES
from salesml.errors import DataError
from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import mean_difference
from salesml.experiment.results import PREDICTIONS, load_summary
from salesml.experiment.task import Resampling
from salesml.experiment.tasks import task_spec
from salesml.forecast.metrics import evaluate_forecasts
from salesml.forecast.view import ForecastView

TOL = {"rel": 0, "abs": 1e-9}

LEADS = {
    "name": "reopen-leads",
    "task": "lead_conversion",
    "data": {
        "path": "leads.csv",
        "generate": {"kind": "leads", "rows": 2000, "seed": 11},
        "target": "converted",
        "id": "lead_id",
        "time": "created_at",
        "drop": ["last_stage_reached", "job_title"],
    },
    "split": {"method": "time", "test_size": 0.25, "seed": 42},
    "baselines": [
        "prior",
        "control_points",
        {"name": "bant", "type": "scorecard", "rules": BANT_RULES},
    ],
    "models": ["logistic", {"type": "lightgbm", "params": {"n_estimators": 60}}],
    # not the defaults (1000, 0, 0.95): a reopened run must take its own
    "evaluation": {"bootstrap": 200, "seed": 1, "confidence": 0.9},
}

FORECAST = {
    "name": "reopen-forecast",
    "task": "forecast",
    "data": {
        "path": "sales.csv",
        "generate": {"kind": "sales", "rows": 12, "seed": 5},
        "id": "unique_id",
        "time": "ds",
        "target": "y",
        "freq": "D",
    },
    "horizon": 7,
    "backtest": {"windows": 2},
    "baselines": ["naive", "seasonal_naive", "moving_average"],
    "models": [
        {"type": "auto_ets", "params": {"max_history": 120, "refit": False, "damped": False}},
        "lightgbm_global",
    ],
    "evaluation": {"bootstrap": 200, "seed": 3, "confidence": 0.9},
    "levels": [80, 95],
}


def _run(config: dict[str, Any], folder: Path) -> dict[str, Any]:
    from salesml import load_experiment, run_experiment

    store = f"sqlite:///{folder / 'mlflow.db'}"
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SALESML_ARTIFACT_ROOT", str(folder / "artifacts"))
        summary = run_experiment(load_experiment(path), folder / "out", store, quiet=True)
    assert not summary.failed, [c.error for c in summary.candidates]
    assert summary.champion is not None and summary.champion.baseline is not None
    return {"summary": summary, "out": folder / "out", "store": store}


@pytest.fixture(scope="module")
def leads_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(LEADS, tmp_path_factory.mktemp("reopen_leads"))


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(FORECAST, tmp_path_factory.mktemp("reopen_forecast"))


@pytest.fixture(params=["leads", "forecast"])
def any_run(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(f"{request.param}_run")


def _load(source: Any, **kw: Any) -> Any:
    from salesml import load_run

    return load_run(source, **kw)


def _stored_with_ci(metrics: dict[str, Any]) -> list[str]:
    return [k for k in metrics if not k.endswith("_ci") and f"{k}_ci" in metrics]


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


# ---- a run reopened gives the run's numbers --------------------------------------------


@pytest.mark.slow
def test_every_stored_metric_and_ci_comes_back(any_run):
    summary = any_run["summary"]
    run = _load(any_run["out"])
    assert run.candidates == [c.name for c in summary.candidates]
    checked = 0
    for cand in summary.candidates:
        keys = _stored_with_ci(cand.metrics)
        assert summary.experiment.primary_metric in keys
        for key in keys:
            got = run.metric(key, cand.name)
            assert got.value == pytest.approx(cand.metrics[key], **TOL), (cand.name, key)
            assert list(got.ci) == pytest.approx(cand.metrics[f"{key}_ci"], **TOL), (cand.name, key)
            assert got.confidence == summary.experiment.confidence
            checked += 1
    assert checked >= len(summary.candidates)


@pytest.mark.slow
def test_every_forecast_metric_point_value_comes_back(forecast_run):
    summary = forecast_run["summary"]
    run = _load(forecast_run["out"])
    names = [m.name for m in task_spec("forecast").metrics]
    for cand in summary.candidates:
        for key in names:
            assert run.metric(key, cand.name).value == pytest.approx(
                cand.metrics[key], rel=1e-9, abs=1e-12
            ), (cand.name, key)
        frame = run.predictions_of(cand.name)
        scored = frame[frame["window"] > 0]
        mase = evaluate_forecasts(scored, [80, 95])[0]["mase"]
        assert run.metric("mase", cand.name).value == pytest.approx(mase, rel=0, abs=1e-12)


@pytest.mark.slow
def test_the_champions_paired_difference_comes_back(any_run):
    summary = any_run["summary"]
    champ = summary.champion
    run = _load(any_run["out"])
    got = run.metric(summary.experiment.primary_metric, against=champ.baseline)
    assert (got.candidate, got.against) == (champ.name, champ.baseline)
    assert got.value == pytest.approx(champ.delta, **TOL)
    assert list(got.ci) == pytest.approx(champ.delta_ci, **TOL)
    assert str(got).startswith(f"{champ.metric} of {champ.name} minus {champ.baseline}: ")


@pytest.mark.slow
def test_forecast_paired_mase_is_the_mean_difference_over_common_series(forecast_run):
    run = _load(forecast_run["out"])
    rs = run.resampling()
    a, b = run.predictions_of("naive"), run.predictions_of("lightgbm_global")
    a = a[a["unique_id"] != a["unique_id"].min()]  # a series only b scored is left out
    per = [evaluate_forecasts(f[f["window"] > 0], [])[1]["mase"] for f in (a, b)]
    common = per[0].index.intersection(per[1].index)
    want = mean_difference(per[0].loc[common].to_numpy(), per[1].loc[common].to_numpy(), *_rs(rs))
    got = run.view.paired(a, b, "mase", rs)
    assert got[0] == pytest.approx(want[0], **TOL)
    assert got[1] == pytest.approx(want[1], **TOL)


@pytest.mark.slow
def test_capture_at_10_is_computed_on_request_with_a_ci(leads_run):
    summary = leads_run["summary"]
    run = _load(leads_run["out"])
    got = run.metric("capture_at_10")
    assert got.candidate == summary.champion.name
    assert 0.0 <= got.ci[0] <= got.value <= got.ci[1] <= 1.0
    assert str(got).startswith(f"capture_at_10 of {got.candidate}: ")
    assert "90% CI" in str(got)
    wider = run.metric("capture_at_10", confidence=0.99, bootstrap=100, seed=5)
    assert wider.confidence == 0.99 and wider.value == got.value
    table = run.metric_table("capture_at_10")
    assert list(table.columns) == ["value", "ci_low", "ci_high"]
    assert set(table.index) == set(run.candidates)
    assert table.loc[got.candidate, "value"] == got.value


@pytest.mark.slow
def test_reopened_by_mlflow_run_id_gives_the_same_numbers(any_run):
    summary = any_run["summary"]
    local = _load(any_run["out"])
    remote = _load(summary.experiment.mlflow_run_id, tracking_uri=any_run["store"])
    assert remote.summary.to_dict() == summary.to_dict()
    pd.testing.assert_frame_equal(remote.predictions, local.predictions)
    metric = summary.experiment.primary_metric
    for name in remote.candidates:
        a, b = remote.metric(metric, name), local.metric(metric, name)
        assert (a.value, a.ci) == (b.value, b.ci)


@pytest.mark.slow
def test_reopened_from_the_summary_file_and_its_tables(leads_run):
    run = _load(leads_run["out"] / "summary.json")
    assert run.spec.name == "lead_conversion"
    frame = run.metrics_frame()
    assert set(frame.index) == {c.name for c in leads_run["summary"].candidates}
    assert run.predictions_of(run.candidates[0]).columns.tolist().count("candidate") == 0
    assert run.rules == ["control_points", "bant"]  # the prior is the floor, not a rule


@pytest.mark.slow
def test_figures_are_drawn_from_the_predictions(any_run, tmp_path):
    run = _load(any_run["out"])
    assert "comparison" in run.figures
    default = run.figure("comparison")
    assert default.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in run.figures:
        path = run.figure(name, path=tmp_path / f"{name}.png")
        assert path == tmp_path / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    with pytest.raises(KeyError, match="choose from"):
        run.figure("no_such_figure")


@pytest.mark.slow
def test_unknown_metric_and_candidate_name_the_choices(any_run):
    run = _load(any_run["out"])
    with pytest.raises(KeyError, match="choose from"):
        run.metric("no_such_metric")
    with pytest.raises(KeyError, match=run.candidates[0]):
        run.metric(run.summary.experiment.primary_metric, "no_such_candidate")


# ---- what cannot be reopened is one clear line -----------------------------------------


@pytest.mark.slow
def test_a_run_without_predictions_asks_to_be_rerun(leads_run, tmp_path):
    shutil.copy(leads_run["out"] / "summary.json", tmp_path / "summary.json")
    with pytest.raises(DataError) as exc:
        _load(tmp_path)
    text = _one_line(exc)
    assert "before runs kept their predictions" in text and "re-run" in text


@pytest.mark.slow
def test_an_mlflow_run_without_predictions_asks_to_be_rerun(leads_run, tmp_path):
    from mlflow import MlflowClient

    store = leads_run["store"]
    client = MlflowClient(store)
    run_id = client.create_run(leads_run["summary"].experiment.experiment_id).info.run_id
    client.log_artifact(run_id, str(leads_run["out"] / "summary.json"))
    client.set_terminated(run_id)
    with pytest.raises(DataError) as exc:
        _load(run_id, tracking_uri=store)
    text = _one_line(exc)
    assert run_id in text and "before runs kept their predictions" in text


@pytest.mark.slow
def test_an_unknown_run_id_is_one_line_naming_it(leads_run):
    run_id = "0123456789abcdef0123456789abcdef"
    with pytest.raises(DataError) as exc:
        _load(run_id, tracking_uri=leads_run["store"])
    assert run_id in _one_line(exc)


def test_a_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="summary not found"):
        _load(tmp_path / "nowhere")


# ---- the forecast view on a hand-made backtest, no run ---------------------------------


def _backtest(seed: int = 0, series: int = 12, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(series):
        level = 10.0 + 5 * s
        for window in range(3):
            cutoff = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * window)
            scale, scale2 = 1.0 + 0.1 * s + 0.05 * window, 2.0 + 0.2 * s
            for step in range(1, 5):
                y = level + rng.normal(0, 2)
                yhat = level + shift + rng.normal(0, 2)
                rows.append(
                    {
                        "unique_id": f"s{s:02d}",
                        "ds": cutoff + pd.Timedelta(days=step - 1),
                        "y": y,
                        "yhat": yhat,
                        "window": window,
                        "cutoff": cutoff,
                        "step": step,
                        "scale": scale,
                        "scale2": scale2,
                        "lo-80": yhat - 2.5,
                        "hi-80": yhat + 2.5,
                    }
                )
    return pd.DataFrame(rows)


def _rs(rs: Resampling) -> tuple[int, int, float, int]:
    return rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs


@pytest.fixture
def view() -> ForecastView:
    return ForecastView(task_spec("forecast"))


def test_forecast_view_metrics_equal_evaluate_forecasts(view):
    fc = _backtest()
    want, per_series, _ = evaluate_forecasts(fc[fc["window"] > 0], [80])
    rs = Resampling(bootstrap=150, seed=4, confidence=0.9, n_jobs=1)
    for name, value in want.items():
        point, (lo, hi) = view.metric(fc, name, rs)
        assert point == pytest.approx(value, rel=1e-12, abs=1e-12), name
        assert lo <= hi, name
    _, ci = mean_difference(per_series["mase"], np.zeros(len(per_series)), *_rs(rs))
    assert view.metric(fc, "mase", rs)[1] == pytest.approx(ci, **TOL)
    # threads do not change the replicates
    assert view.metric(fc, "wape", rs) == view.metric(fc, "wape", Resampling(150, 4, 0.9, 2))


def test_forecast_view_paired_is_a_minus_b(view):
    a, b = _backtest(1), _backtest(1, shift=3.0)
    rs = Resampling(bootstrap=100, seed=0, confidence=0.95, n_jobs=1)
    for name in ("wape", "bias", "abs_bias", "smape", "coverage_80", "rmsse"):
        diff, (lo, hi) = view.paired(a, b, name, rs)
        assert diff == pytest.approx(view.metric(a, name, rs)[0] - view.metric(b, name, rs)[0])
        assert lo <= hi
    assert view.paired(a, a, "wape", rs) == (0.0, [0.0, 0.0])
    with pytest.raises(KeyError, match="coverage_80"):
        view.metric(a, "coverage_50", rs)


def _summary(champion: Any, mase: dict[str, float], **data: Any) -> Any:
    candidates = [SimpleNamespace(name=n, metrics={"mase": v}) for n, v in mase.items()]
    by_name = {c.name: c for c in candidates}
    return SimpleNamespace(
        champion=champion,
        candidates=candidates,
        candidate=by_name.__getitem__,
        data=SimpleNamespace(**data),
    )


def test_forecast_headline_compares_with_the_best_rule(view):
    champ = SimpleNamespace(name="auto_ets", baseline="moving_average")
    summary = _summary(champ, {"auto_ets": 0.8, "moving_average": 1.0, "seasonal_naive": 0.9})
    assert view.headline(summary) == (
        "The forecast's error (auto_ets) is 20% below moving average's (MASE 0.800 against 1.000)."
    )
    worse = _summary(champ, {"auto_ets": 1.1, "moving_average": 1.0})
    assert "10% above moving average's" in view.headline(worse)
    alone = _summary(SimpleNamespace(name="auto_ets", baseline=None), {"auto_ets": 0.8})
    assert view.headline(alone) == "The best forecast, auto_ets, has a MASE of 0.800."
    assert view.headline(_summary(None, {})).startswith("No model could be fitted")


def test_forecast_sections_and_card_lines(view):
    assert view.sections(_summary(None, {}, fallbacks={}, unscored={})) == []
    sections = view.sections(
        _summary(None, {}, fallbacks={"auto_ets": {"naive": 2}}, unscored={"s9": "new"})
    )
    assert sections[0].rows == (("auto_ets", "naive", "2"),)
    assert "1 series starts inside the last backtest window" in sections[0].paragraphs[1]
    card = ModelCard(
        kind="forecast",
        data={"start": "2023-01-01", "end": "2024-01-01", "cutoffs": ["2023-12-01"]},
        facts={"unknown_series": "refused", "short_series": "naive for 2"},
    )
    assert view.card_lines(card, None) == [
        "",
        "## Series",
        "",
        "- Unknown series: refused.",
        "- Short series: naive for 2.",
    ]
    card = ModelCard(kind="forecast", facts={"unknown_series": "refused"})
    assert view.card_lines(card, None)[-1] == "- Unknown series: refused."


def test_a_summary_without_predictions_beside_it_is_refused(tmp_path):
    """The resampling settings are read back from the summary; no predictions: re-run."""
    raw = {
        "schema_version": 3,
        "experiment": {
            "name": "x",
            "task": "forecast",
            "primary_metric": "mase",
            "confidence": 0.8,
            "bootstrap": 50,
            "bootstrap_seed": 9,
        },
        "data": {"path": "p", "sha256": "s", "rows": 1},
        "candidates": [],
    }
    (tmp_path / "summary.json").write_text(json.dumps(raw), encoding="utf-8")
    exp = load_summary(tmp_path).experiment
    assert (exp.bootstrap, exp.bootstrap_seed, exp.confidence) == (50, 9, 0.8)
    assert not (tmp_path / PREDICTIONS).exists()
    with pytest.raises(DataError, match="re-run"):
        _load(tmp_path)
