"""The churn_survival task: Kaplan-Meier rules against Cox and a hazard LightGBM, with censoring."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from conftest import ROOT
from salesml.errors import DataError
from salesml.experiment.config import load_experiment
from salesml.lifecycle.survival.candidates import CoxModel, HazardLightGBM, KaplanMeierRule
from salesml.lifecycle.survival.curves import kaplan_meier, leave_within, remaining_mean
from salesml.lifecycle.survival.metrics import Frame, s_column, statistic
from salesml.lifecycle.survival.task import SurvivalTask

TELCO_SURVIVAL = ROOT / "experiments" / "churn" / "telco-survival.yaml"
TELCO = ROOT / "data" / "external" / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    return pd.read_csv(TELCO)


def _xte(telco: pd.DataFrame, seed: int = 0):
    t = telco["tenure"].to_numpy(float)
    e = (telco["Churn"] == "Yes").to_numpy()
    X = telco.drop(columns=["customerID", "tenure", "Churn", "TotalCharges"])
    idx = np.random.default_rng(seed).permutation(len(telco))
    return X, t, e, idx[:5000], idx[5000:]


def test_kaplan_meier_matches_scikit_survival(telco):
    from sksurv.nonparametric import kaplan_meier_estimator

    _, t, e, _, _ = _xte(telco)
    times, s = kaplan_meier(t, e)
    ref_t, ref_s = kaplan_meier_estimator(e, t)
    np.testing.assert_allclose(times, ref_t)
    np.testing.assert_allclose(s, ref_s)


def test_every_metric_equals_scikit_survival_at_unit_weights(telco):
    from sksurv.metrics import (
        concordance_index_censored,
        concordance_index_ipcw,
        cumulative_dynamic_auc,
        integrated_brier_score,
    )
    from sksurv.util import Surv

    X, t, e, tr, te = _xte(telco)
    # scikit-survival refuses a censoring curve at 0: keep the last time an event
    te = te[~((t[te] >= t[te][e[te]].max()) & ~e[te])]
    S = CoxModel().fit(X.iloc[tr], t[tr], e[tr]).survival(X.iloc[te])
    times = np.arange(1.0, 60.0)
    preds = pd.DataFrame(
        {"customer": np.arange(len(te)), "time": t[te], "event": e[te].astype(int)}
    ).assign(risk=-S.sum(1), eval_times="6 12 24")
    for k in times:
        preds[s_column(k)] = S[:, int(k)]
    y = Surv.from_arrays(e[te], t[te])
    f = Frame(preds)

    def point(name: str) -> float:
        return float(statistic(preds, name, f)(None)[0])

    assert point("c_harrell") == pytest.approx(
        concordance_index_censored(e[te], t[te], -S.sum(1))[0]
    )
    uno = concordance_index_ipcw(y, y, -S.sum(1), tau=times[-1])[0]
    assert point("c_uno") == pytest.approx(uno)
    assert point("ibs") == pytest.approx(integrated_brier_score(y, y, S[:, 1:60], times))
    auc, _ = cumulative_dynamic_auc(y, y, 1 - S[:, [6, 12, 24]], [6.0, 12.0, 24.0])
    assert [point(f"auc_{k}") for k in (6, 12, 24)] == pytest.approx(list(auc))


def test_the_conditional_score_is_judged_at_landmarks(telco):
    """Kaplan-Meier fitted on the customers it is judged on is calibrated at every landmark."""
    X, t, e, _, _ = _xte(telco)
    S = KaplanMeierRule().fit(X, t, e).survival(X)
    preds = pd.DataFrame({"customer": np.arange(len(t)), "time": t, "event": e.astype(int)})
    preds = preds.assign(risk=0.0, eval_times="6 12 24", landmarks="6 12 24", landmark_h=6.0)
    for k in range(1, 71):
        preds[s_column(float(k))] = S[:, k]
    assert statistic(preds, "landmark_calibration")(None)[0] < 0.005
    # told that everyone stays, the score is off by the share that leaves
    stay = preds.assign(**{s_column(float(k)): 1.0 for k in range(1, 71)})
    assert statistic(stay, "landmark_calibration")(None)[0] > 0.03
    assert statistic(stay, "landmark_brier")(None)[0] > statistic(preds, "landmark_brier")(None)[0]


def test_bootstrap_replicates_of_pairwise_metrics_are_bilinear_forms():
    rng = np.random.default_rng(0)
    n = 60
    preds = pd.DataFrame(
        {
            "customer": np.arange(n),
            "time": rng.integers(1, 30, n).astype(float),
            "event": rng.integers(0, 2, n),
            "risk": rng.normal(size=n),
            "eval_times": "10",
            "s_10": rng.uniform(size=n),
        }
    )
    stat = statistic(preds, "c_harrell")
    w = rng.integers(0, 3, size=(1, n)).astype(float)
    rows = np.repeat(np.arange(n), w[0].astype(int))
    resampled = preds.iloc[rows].assign(customer=np.arange(len(rows)))
    assert stat(w)[0] == pytest.approx(statistic(resampled, "c_harrell")(None)[0], rel=1e-6)


def test_leaving_is_conditional_on_the_time_already_survived(telco):
    X, t, e, tr, _ = _xte(telco)
    everyone = KaplanMeierRule().fit(X.iloc[tr], t[tr], e[tr])
    S, grid = everyone.survival(X.iloc[[0]]), everyone.grid_
    new = leave_within(grid, S, np.array([0.0]), [3.0])[0, 0]
    five_years = leave_within(grid, S, np.array([60.0]), [3.0])[0, 0]
    assert new == pytest.approx(1 - S[0, 3])  # the unconditional curve's 90 days
    assert 0 < five_years < new / 3
    assert five_years == pytest.approx(1 - S[0, 63] / S[0, 60])
    # a model's curve is conditioned the same way, per customer
    model = CoxModel(strata=["Contract"]).fit(X.iloc[tr], t[tr], e[tr])
    Sm = model.survival(X.iloc[:50])
    p = leave_within(model.grid_, Sm, np.full(50, 60.0), [3.0])[:, 0]
    np.testing.assert_allclose(p, 1 - Sm[:, 63] / Sm[:, 60])
    # the expected time to come within a year is at most a year, more for the loyal
    rem = remaining_mean(grid, np.vstack([S, S]), np.array([0.0, 60.0]), 12.0)
    assert 0 < rem[0] < rem[1] <= 12.0


def test_strata_give_each_contract_its_own_baseline(telco):
    X, t, e, tr, te = _xte(telco)
    plain = CoxModel().fit(X.iloc[tr], t[tr], e[tr])
    strat = CoxModel(strata=["Contract"]).fit(X.iloc[tr], t[tr], e[tr])
    assert set(strat.baselines_) == {"Month-to-month", "One year", "Two year"}
    two = (X.iloc[te]["Contract"] == "Two year").to_numpy()
    # nobody leaves a two-year contract in its first year: the stratified curve says so
    assert (1 - strat.survival(X.iloc[te][two])[:, 12]).max() < 0.01
    assert (1 - plain.survival(X.iloc[te][two])[:, 12]).max() > 0.01


def test_segment_rule_gives_each_segment_its_own_curve(telco):
    X, t, e, tr, te = _xte(telco)
    rule = KaplanMeierRule(by=["Contract"]).fit(X.iloc[tr], t[tr], e[tr])
    assert set(rule.curves_) == {"Month-to-month", "One year", "Two year"}
    S = rule.survival(X.iloc[te])
    m2m = (X.iloc[te]["Contract"] == "Month-to-month").to_numpy()
    assert (S[m2m, 24] < S[~m2m, 24].min()).all()  # month-to-month leave sooner
    with pytest.raises(KeyError, match="Plan"):
        KaplanMeierRule(by=["Plan"]).fit(X.iloc[tr], t[tr], e[tr])


def test_hazard_lightgbm_curves_are_monotone_and_explained(telco):
    X, t, e, tr, te = _xte(telco)
    model = HazardLightGBM(n_estimators=60).fit(X.iloc[tr], t[tr], e[tr])
    S = model.survival(X.iloc[te[:200]])
    assert (np.diff(S, axis=1) <= 1e-12).all() and S[:, 0] == pytest.approx(1.0)
    terms = model.contributions(X.iloc[te[:300]], t[te[:300]])
    assert "Contract" in terms.columns and "interval_start__" not in terms.columns
    # path attribution names the same strongest driver as TreeSHAP for most customers
    Z = model.encode_.transform(X.iloc[te[:300]]).reset_index(drop=True)
    idx = np.clip(np.searchsorted(model.edges_, t[te[:300]], side="right") - 1, 0, None)
    Z["interval_start__"] = model.edges_[np.minimum(idx, len(model.edges_) - 2)]
    shap = np.asarray(model.model_.predict(Z, pred_contrib=True))[:, :-2]  # no interval, bias
    top_shap = np.asarray(Z.columns[:-1])[np.abs(shap).argmax(1)]
    top_path = np.asarray(terms.columns)[np.abs(terms.to_numpy()).argmax(1)]
    assert (top_shap == top_path).mean() > 0.8


def _config(tmp_path: Path, frame: pd.DataFrame, **extra) -> Path:
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False, sep=";")
    raw = {
        "name": "surv",
        "task": "churn_survival",
        "data": {"path": str(path), "id": "customerID", "duration": "tenure", "event": "Churn"},
        "evaluation": {"bootstrap": 100},
        **extra,
    }
    cfg = tmp_path / "surv.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return cfg


def test_a_feature_that_gives_the_duration_away_is_left_out(telco, tmp_path):
    task = SurvivalTask(load_experiment(_config(tmp_path, telco.head(2000))))
    info = task.prepare().info
    assert list(info.guarded) == ["TotalCharges"] and "MonthlyCharges" in info.features
    assert "TotalCharges" in " ".join(task.notes())
    cfg = _config(tmp_path, telco.head(2000), data=None)
    raw = yaml.safe_load(cfg.read_text())
    raw["data"] = {**yaml.safe_load(_config(tmp_path, telco.head(2000)).read_text())["data"]}
    raw["data"]["allow"] = ["TotalCharges"]
    cfg.write_text(yaml.safe_dump(raw))
    assert SurvivalTask(load_experiment(cfg)).prepare().info.guarded == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(tenure=f["tenure"].where(f.index != 3)), "missing, non-numeric or negative duration"),
        (lambda f: f.assign(tenure=f["tenure"].where(f.index != 5, -2)), "data row 6"),
        (lambda f: f.assign(Churn=f["Churn"].where(f.index != 7)), "no event value"),
        (lambda f: f.assign(Churn=f["Churn"].map({"Yes": "gone", "No": "here"})), "set data.event_value"),
        (lambda f: f.assign(Churn="No"), "not enough data"),
    ],
)  # fmt: skip
def test_bad_customers_are_refused_naming_file_column_and_rows(telco, tmp_path, change, message):
    cfg = _config(tmp_path, change(telco.head(400).copy()))
    with pytest.raises(DataError, match=message) as err:
        SurvivalTask(load_experiment(cfg)).prepare()
    assert "customers.csv" in str(err.value)


@pytest.mark.slow
def test_telco_survival_end_to_end(tracking, tmp_path):
    from salesml.runner import run_experiment
    from salesml.scoring.batch import score_file

    screen = io.StringIO()
    summary = run_experiment(
        load_experiment(TELCO_SURVIVAL),
        tmp_path / "out",
        console=Console(file=screen, width=220),
    )
    assert summary.failed == [] and summary.data.rows == 7043
    assert list(summary.data.guarded) == ["TotalCharges"]
    champ = summary.champion
    assert champ.verdict == "model" and champ.baseline in ("km_contract", "km_contract_internet")
    assert champ.delta_ci[1] < 0  # a lower integrated Brier score, with its CI
    cox = summary.candidate("cox").metrics
    km = summary.candidate("kaplan_meier").metrics
    assert km["c_harrell"] == pytest.approx(0.5) and cox["c_uno"] > 0.8
    assert cox["ibs_ci"][0] < cox["ibs"] < cox["ibs_ci"][1]
    assert cox["value_top_decile"] > 2 * km["value_top_decile"]
    assert "beats" in screen.getvalue() and "TotalCharges" in screen.getvalue()
    # scored from the command's code path: active customers, from their current tenure
    rows = pd.read_csv(TELCO).head(400)
    rows.to_csv(tmp_path / "in.csv", index=False)
    score_file(summary.candidate("cox").model_uri, tmp_path / "in.csv", tmp_path / "s.csv")
    scored = pd.read_csv(tmp_path / "s.csv")
    active = scored["status"] == "active"
    assert (active == (rows["Churn"] == "No")).all()
    p = scored.loc[active, ["p_leave_1", "p_leave_3", "p_leave_6"]].to_numpy()
    assert ((p[:, 0] <= p[:, 1]) & (p[:, 1] <= p[:, 2]) & (p[:, 2] < 1)).all()
    assert scored.loc[~active, "p_leave_3"].isna().all()
    assert (scored.loc[active, "value_at_risk"] >= 0).all()
    assert scored.loc[active, "reason_1"].str.contains("=").any()
    assert cox["landmark_calibration"] < 0.05 and "landmark_brier_ci" in cox
    # the exported score, P(leave within 6 months | here), is judged as it is used
    assert summary.data.landmarks == [0.0, 6.0, 12.0, 24.0, 48.0]
    rule = summary.candidate("km_contract").metrics
    assert cox["landmark_brier"] < rule["landmark_brier"] < km["landmark_brier"]
    # and over REST, as salesml serve answers
    import os
    import warnings

    with warnings.catch_warnings():  # starlette's note on its httpx client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from salesml.tracking import load_model
    from salesml.tracking.serving import serving_app

    uri = summary.candidate("cox").model_uri
    flag = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(flag, os.environ.get(flag, "false"))
        client = TestClient(serving_app(load_model(uri, tracking), uri))
    answer = client.post(
        "/invocations",
        content=rows.head(20).to_csv(index=False),
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    served = pd.DataFrame(answer.json()["predictions"])
    np.testing.assert_allclose(
        served["p_leave_3"].astype(float), scored["p_leave_3"].head(20), rtol=1e-9
    )


def _dated(telco: pd.DataFrame) -> pd.DataFrame:
    """Telco as a CRM exports it: a signup date, a cancellation date while gone, in `;` CSV."""
    day = pd.Timestamp("2024-06-30")
    start = day - pd.to_timedelta((telco["tenure"] * 30.4375).round(), unit="D")
    end = start.where(telco["Churn"] == "Yes") + pd.to_timedelta(
        (telco["tenure"] * 30.4375).round(), unit="D"
    )
    return telco.drop(columns=["tenure", "Churn"]).assign(
        signup=start.dt.strftime("%Y-%m-%d"), cancelled=end.dt.strftime("%Y-%m-%d")
    )


def test_dates_as_a_crm_exports_them_give_the_same_durations(telco, tmp_path):
    from salesml.lifecycle.survival.dates import from_dates

    frame = _dated(telco.head(600))
    got = from_dates(frame, "signup", "cancelled", "month", None, "x.csv")
    assert f"{got.as_of:%Y-%m-%d}" == "2024-06-30"
    np.testing.assert_allclose(got.time, telco["tenure"].head(600), atol=0.02)
    assert (got.event == (telco["Churn"].head(600) == "Yes")).all()
    # a cancellation booked for after the as-of day is a customer still here then
    later = from_dates(frame, "signup", "cancelled", "month", "2024-05-31", "x.csv")
    assert later.ends_later > 0 and later.joined_later.sum() > 0  # and those not yet in
    assert np.isnan(later.time[later.joined_later]).all()
    assert later.event.sum() == got.event.sum() - later.ends_later
    bad = frame.assign(cancelled=frame["cancelled"].where(frame.index != 4, "2000-01-01"))
    with pytest.raises(DataError, match=r"'cancelled': 1 row\(s\) end before they start"):
        from_dates(bad, "signup", "cancelled", "month", None, "x.csv")
    path = tmp_path / "crm.csv"
    _dated(telco.head(1500)).to_csv(path, sep=";", index=False)
    raw = {
        "name": "crm",
        "task": "churn_survival",
        "data": {"path": str(path), "id": "customerID", "start": "signup", "end": "cancelled"},
        "models": ["cox"],
        "baselines": ["kaplan_meier"],
        "evaluation": {"bootstrap": 100},
    }
    cfg = tmp_path / "crm.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    task = SurvivalTask(load_experiment(cfg))
    info = task.prepare().info
    assert info.as_of == "2024-06-30" and "signup" not in info.features
    from salesml.experiment.task import Outcome

    cand = next(c for role, c in task.config.candidates if role == "model")
    model = task.export(Outcome(name="cox", role="model", type="cox"), cand).predictor
    scored = model.predict(_dated(telco.head(50)), {"as_of": "2024-07-31"})
    assert (scored["as_of"] == "2024-07-31").all()
    stayed = (telco["Churn"].head(50) == "No").to_numpy()
    expected = telco["tenure"].head(50) + stayed  # a month more for those still here
    np.testing.assert_allclose(scored["tenure"], expected, atol=0.05)
    assert (scored["status"][~stayed] == "left").all()
    early = model.predict(_dated(telco.head(50)), {"as_of": "2024-05-31"})
    new = (telco["tenure"].head(50) == 0).to_numpy()
    assert (early["status"][new] == "not yet").all() and early["p_leave_3"][new].isna().all()
    both = dict(raw["data"], duration="tenure")
    with pytest.raises(Exception, match="not both"):
        cfg.write_text(yaml.safe_dump({**raw, "data": both}))
        load_experiment(cfg)
