"""End to end: classification experiments into a temporary MLflow store.

The expensive runs happen once per module (module-scoped fixtures) and several
tests read their summary, MLflow runs and exported models.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from conftest import BANT_RULES
from salesml.classify.task import ClassificationTask
from salesml.cli import app
from salesml.errors import DataError
from salesml.experiment.config import load_experiment
from salesml.experiment.evaluation import CLASSIFICATION_METRICS
from salesml.experiment.results import ClassificationData, Summary, load_summary

LEADS = "test-classification-leads"
TRIALS = "test-classification-trial-to-paid"


def _write_yaml(data: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _lead_config(name: str, **overrides) -> dict:
    cfg = {
        "name": name,
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "target": "converted",
            "id": "lead_id",
            "time": "created_at",
            # leaky / free text, plus low-signal columns left out to keep the run fast
            "drop": [
                "last_stage_reached",
                "job_title",
                "noise_score",
                "form_variant",
                "email_domain_type",
                "content_downloads",
                "hours_to_first_contact",
                "contact_attempts",
                "email_clicks",
            ],
        },
        "split": {"method": "stratified", "test_size": 0.25, "seed": 42},
        "baselines": [
            "prior",
            "control_points",
            {"name": "bant_scorecard", "type": "scorecard", "rules": BANT_RULES},
        ],
        "models": ["logistic", {"type": "lightgbm", "params": {"n_estimators": 50}}],
        "evaluation": {"bootstrap": 200},
    }
    cfg.update(overrides)
    return cfg


def _run_cli(*args: str):
    result = CliRunner().invoke(app, ["run", *map(str, args)])
    assert "Traceback" not in result.output, result.output
    return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def module_tracking(mlflow_store: str) -> str:
    """Module-scoped twin of the ``tracking`` fixture (same store, same artifact folder)."""
    artifacts = Path(mlflow_store.removeprefix("sqlite:///")).parent / "artifacts"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", mlflow_store)
        mp.setenv("SALESML_ARTIFACT_ROOT", str(artifacts))
        yield mlflow_store


@pytest.fixture(scope="module")
def leads_csv(leads_small: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small leads, rows shuffled (so file order is not time order), as CSV."""
    folder = tmp_path_factory.mktemp("leads")
    path = folder / "leads.csv"
    leads_small.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- the full run


@pytest.fixture(scope="module")
def lead_run(module_tracking: str, leads_csv: Path) -> dict:
    """ONE full run_experiment on the leads: 3 baselines, 2 models, 200 bootstraps."""
    from salesml.runner import run_experiment

    cfg_path = _write_yaml(_lead_config(LEADS), leads_csv.parent / "leads.yaml")
    config = load_experiment(cfg_path)
    out = leads_csv.parent / "out"
    summary = run_experiment(config, output_dir=out)
    return {"summary": summary, "out": out, "config": config, "csv": leads_csv}


@pytest.mark.slow
def test_summary_json_has_the_documented_shape(lead_run, module_tracking):
    summary, out = lead_run["summary"], lead_run["out"]
    assert isinstance(summary, Summary)
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(summary.to_dict(), default=str))
    assert list(on_disk) == [
        "schema_version", "experiment", "data", "candidates", "champion", "plots",
    ]  # fmt: skip
    assert load_summary(out / "summary.json").to_dict() == on_disk
    assert on_disk["plots"] == [str(out / "plots" / "comparison.png")]
    experiment = on_disk["experiment"]
    assert experiment["tracking_uri"] == module_tracking
    assert experiment["name"] == LEADS
    assert experiment["task"] == "lead_conversion"
    assert experiment["primary_metric"] == "roc_auc"
    assert experiment["confidence"] == 0.95
    assert experiment["mlflow_run_id"] == summary.experiment.mlflow_run_id

    data = on_disk["data"]
    csv = lead_run["csv"]
    frame = pd.read_csv(csv)
    assert Path(data["path"]) == csv.resolve()
    assert data["sha256"] == _sha256(csv)
    assert data["rows"] == len(frame) == 3000
    assert data["positive_rate"] == round(frame["converted"].mean(), 4)
    assert data["train_rows"] + data["test_rows"] == 3000 and data["test_rows"] == 750
    for col in ("lead_id", "converted", "last_stage_reached", "job_title", "noise_score"):
        assert col not in data["features"]
    assert len(data["features"]) == 13 and data["excluded"] == {}

    names = [c["name"] for c in on_disk["candidates"]]
    assert names == ["prior", "control_points", "bant_scorecard", "logistic", "lightgbm"]
    roles = {c["name"]: c["role"] for c in on_disk["candidates"]}
    assert roles == {
        "prior": "baseline",
        "control_points": "baseline",
        "bant_scorecard": "baseline",
        "logistic": "model",
        "lightgbm": "model",
    }
    for cand in on_disk["candidates"]:
        assert cand["status"] == "ok", cand.get("error")
        assert len(cand["mlflow_run_id"]) == 32
        assert cand["model_uri"].startswith(("models:/", "runs:/"))
        assert cand["fit_seconds"] >= 0
        metrics = cand["metrics"]
        for name in CLASSIFICATION_METRICS:
            value, (lo, hi) = metrics[name], metrics[f"{name}_ci"]
            assert np.isfinite(value), (cand["name"], name)
            assert lo <= value + 1e-9 and value <= hi + 1e-9, (cand["name"], name)
        assert 0 <= metrics["roc_auc"] <= 1 and 0 <= metrics["brier"] <= 1
    by_name = {c["name"]: c for c in on_disk["candidates"]}
    assert by_name["prior"]["metrics"]["roc_auc"] == 0.5
    assert by_name["prior"]["metrics"]["lift_at_10"] == pytest.approx(1.0)
    for model in ("logistic", "lightgbm"):
        assert "brier_uncalibrated" in by_name[model]["metrics"]
        assert by_name[model]["metrics"]["roc_auc"] > 0.75  # the leads carry real signal
    assert by_name["bant_scorecard"]["metrics"]["roc_auc"] > 0.6


@pytest.mark.slow
def test_champion_is_best_model_against_best_baseline(lead_run):
    summary = lead_run["summary"]
    cands = {c.name: c for c in summary.candidates}
    auc = {n: c.metrics["roc_auc"] for n, c in cands.items()}
    champ = summary.champion
    best_model = max(("logistic", "lightgbm"), key=auc.get)
    best_base = max(("prior", "control_points", "bant_scorecard"), key=auc.get)
    assert champ.name == best_model
    assert champ.baseline == best_base
    assert champ.model_uri == cands[best_model].model_uri
    assert champ.metric == "roc_auc" and champ.confidence == 0.95
    assert champ.delta == pytest.approx(auc[best_model] - auc[best_base], abs=1e-12)
    lo, hi = champ.delta_ci
    assert lo <= champ.delta <= hi
    assert champ.beats_baseline == (lo > 0)


@pytest.mark.slow
def test_champion_registry_matches_the_verdict(lead_run):
    from mlflow import MlflowClient

    champ = lead_run["summary"].champion
    client = MlflowClient()
    registered = client.search_registered_models(filter_string=f"name = '{LEADS}'")
    if champ.beats_baseline:
        version = client.get_model_version_by_alias(LEADS, "champion")
        assert str(version.version) == champ.registered_version
    else:
        assert champ.registered_version is None
        assert registered == []


def _runs(parent_id: str):
    import mlflow

    parent = mlflow.get_run(parent_id)
    children = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}'",
        output_format="list",
    )
    return parent, {r.info.run_name: r for r in children}


@pytest.mark.slow
def test_mlflow_parent_and_child_runs(lead_run):
    from mlflow import MlflowClient

    summary = lead_run["summary"]
    parent, children = _runs(summary.experiment.mlflow_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["salesml.role"] == "experiment"
    assert parent.data.tags["salesml.task"] == "lead_conversion"
    assert parent.data.tags["salesml.data.sha256"] == _sha256(lead_run["csv"])
    assert parent.data.params["data.rows"] == "3000"
    assert parent.data.tags["salesml.champion"] == summary.champion.name
    assert "delta_roc_auc" in parent.data.metrics

    import mlflow

    experiment_runs = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id], output_format="list"
    )
    parents = [r for r in experiment_runs if r.data.tags.get("salesml.role") == "experiment"]
    assert [r.info.run_id for r in parents] == [parent.info.run_id]  # one parent run
    assert len(children) == len(experiment_runs) - 1 == 5
    assert set(children) == {c.name for c in summary.candidates}
    for cand in summary.candidates:
        run = children[cand.name]
        assert run.info.run_id == cand.mlflow_run_id
        assert run.info.status == "FINISHED"
        assert run.data.tags["salesml.role"] == cand.role
        assert run.data.params["type"] == cand.type
        assert run.data.metrics["roc_auc"] == pytest.approx(cand.metrics["roc_auc"])
        lo, hi = cand.metrics["roc_auc_ci"]
        assert run.data.metrics["roc_auc_ci_low"] == pytest.approx(lo)
        assert run.data.metrics["roc_auc_ci_high"] == pytest.approx(hi)
        assert "fit_seconds" in run.data.metrics
    assert children["bant_scorecard"].data.params["rules"] == str(len(BANT_RULES))
    assert children["lightgbm"].data.params["n_estimators"] == "50"
    assert children["logistic"].data.params["calibration"] == "isotonic"
    assert "top_features" in children["lightgbm"].data.params
    assert "brier_uncalibrated" in children["logistic"].data.metrics

    client = MlflowClient()
    top = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"config.yaml", "summary.json", "plots"} <= top
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert "plots/comparison.png" in plots
    for run in children.values():
        child_plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
        assert "plots/evaluation.png" in child_plots, run.info.run_name
    assert (lead_run["out"] / "plots" / "comparison.png").stat().st_size > 1000


@pytest.mark.slow
def test_logged_config_is_the_resolved_config(lead_run):
    import mlflow

    run_id = lead_run["summary"].experiment.mlflow_run_id
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml")
    logged = yaml.safe_load(text)
    assert logged == lead_run["config"].resolved_dict()
    assert logged["evaluation"]["bootstrap"] == 200
    assert Path(logged["data"]["path"]).is_absolute()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bant_scorecard", "lightgbm"])
def test_exported_models_load_and_reproduce_the_test_metric(lead_run, name):
    """pyfunc.load_model(model_uri).predict gives the very probabilities that were evaluated."""
    import mlflow

    cand = lead_run["summary"].candidate(name)
    model = mlflow.pyfunc.load_model(cand.model_uri)
    task = ClassificationTask(lead_run["config"])
    task.prepare()
    head = model.predict(task.data.X_test.head())
    assert list(head.columns) == [
        "probability",
        "score",
        "tier",
        "reason_1",
        "reason_2",
        "reason_3",
    ]
    assert head["probability"].between(0, 1).all() and head["score"].between(0, 100).all()
    assert set(head["tier"]) <= {"A", "B", "C", "D"}
    p = model.predict(task.data.X_test, params={"reasons": False})["probability"].to_numpy()
    assert roc_auc_score(task.data.y_test, p) == pytest.approx(cand.metrics["roc_auc"], abs=1e-9)
    # with reasons, LightGBM's probability comes from the reasons' pass over its trees
    np.testing.assert_array_equal(model.predict(task.data.X_test)["probability"].to_numpy(), p)


# --------------------------------------------------------------------------- split and bad input


def _prepare(cfg: dict, folder: Path) -> tuple[ClassificationTask, ClassificationData]:
    task = ClassificationTask(load_experiment(_write_yaml(cfg, folder / "cfg.yaml")))
    return task, task.prepare().info


def test_time_split_trains_on_earlier_rows(leads_csv, tmp_path):
    cfg = _lead_config("time", split={"method": "time", "test_size": 0.25})
    cfg["data"]["path"] = str(leads_csv)
    task, info = _prepare(cfg, tmp_path)
    assert info.split == "time" and info.test_rows == 750
    assert task.data.X_train["created_at"].max() <= task.data.X_test["created_at"].min()
    # the file is shuffled, so this is not just "the first rows of the file"
    times = pd.to_datetime(pd.read_csv(leads_csv)["created_at"])
    assert not times.is_monotonic_increasing
    cutoff = times.sort_values().iloc[2250]
    assert (task.data.X_test["created_at"] >= cutoff).all()


def test_one_class_in_test_part_is_a_data_error(leads_small, tmp_path):
    frame = leads_small.sort_values("created_at").reset_index(drop=True)
    frame.loc[len(frame) * 7 // 10 :, "converted"] = 0  # the late rows never convert
    frame.to_csv(tmp_path / "leads.csv", index=False)
    cfg = _lead_config("one-class", split={"method": "time", "test_size": 0.25})
    with pytest.raises(DataError, match=r"'converted'.*one class only in the test part"):
        _prepare(cfg, tmp_path)


def _tiny_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "visits": rng.poisson(3, n),
            "score": x,
            "segment": rng.choice(["smb", "mid", "ent"], n),
            "won": np.where(rng.random(n) < 1 / (1 + np.exp(-2 * x)), "yes", "no"),
        }
    )


def _tiny_config(name: str, **data) -> dict:
    return {
        "name": name,
        "task": "lead_conversion",
        "data": {"path": "tiny.csv", "target": "won", "positive": "yes", **data},
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }


def test_three_target_values_is_a_data_error(tmp_path):
    frame = _tiny_frame()
    frame.loc[::7, "won"] = "maybe"
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    with pytest.raises(DataError, match=r"'won' has 3 distinct values.*must be binary"):
        _prepare(_tiny_config("three"), tmp_path)


def test_positive_label_that_never_occurs_is_a_data_error(tmp_path):
    _tiny_frame().to_csv(tmp_path / "tiny.csv", index=False)
    cfg = _tiny_config("positive")
    cfg["data"]["positive"] = "Yes"  # the file says 'yes'
    with pytest.raises(DataError, match=r"positive label 'Yes' never occurs.*'won'"):
        _prepare(cfg, tmp_path)


def test_bad_input_through_the_cli_exits_2_without_traceback(tmp_path):
    frame = _tiny_frame()
    frame.loc[::7, "won"] = "maybe"
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    cfg = _write_yaml(_tiny_config("cli-bad"), tmp_path / "cfg.yaml")
    result = _run_cli(cfg, "--output-dir", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "'won'" in result.output
    assert not (tmp_path / "out" / "summary.json").exists()


def test_all_nan_feature_is_excluded_and_listed(tmp_path):
    frame = _tiny_frame()
    frame["not recorded"] = np.nan
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    task, info = _prepare(_tiny_config("all-nan"), tmp_path)
    assert info.excluded == {"not recorded": "entirely missing"}
    assert "not recorded" not in info.features
    assert "not recorded" not in task.data.X_train.columns
    assert set(info.features) == {"visits", "score", "segment"}


# --------------------------------------------------------------------------- awkward data, end to end


def _awkward_frame(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """German CRM export: spaces and non-ASCII names, 50 % missing, an empty column,
    and categories that only appear late (unseen in train under a time split)."""
    rng = np.random.default_rng(seed)
    late = np.arange(n) >= int(n * 0.8)
    pay = rng.choice(np.array(["Überweisung", "Karte", "Lastschrift"], dtype=object), n)
    pay[late & (rng.random(n) < 0.3)] = "Krypto"  # only in the test rows
    region = rng.choice(np.array(["Süd", "West", "Nord"], dtype=object), n)
    region[late & (rng.random(n) < 0.3)] = "Nord-Ost"
    umsatz = rng.gamma(2.0, 500.0, n)
    rabatt = rng.uniform(0, 30, n)
    rabatt_missing = rng.random(n) < 0.5
    logit = 0.002 * umsatz - 2 + np.where(pay == "Karte", 1.0, 0) + np.where(rabatt_missing, -1, 0)
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "Kunden-Nr.": [f"K{i:05d}" for i in range(n)],
            "erstellt am": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "Zahlungs art é": pay,
            "Region": region,
            "Umsatz (€)": umsatz.round(2),
            "Rabatt %": np.where(rabatt_missing, np.nan, rabatt.round(1)),
            "leer": np.nan,
            "Abschluss": np.where(won, "ja", "nein"),
        }
    )


@pytest.fixture(scope="module")
def awkward_run(module_tracking: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("awkward")
    frame = _awkward_frame()
    frame.to_csv(folder / "export.csv", index=False)
    cfg = {
        "name": "test-classification-awkward",
        "task": "lead_conversion",
        "data": {
            "path": "export.csv",
            "target": "Abschluss",
            "positive": "ja",
            "id": "Kunden-Nr.",
            "time": "erstellt am",
        },
        "split": {"method": "time", "test_size": 0.25},
        "baselines": [
            {
                "name": "broken_rules",
                "type": "scorecard",
                "rules": [{"column": "Budget", "ge": 1000, "points": 50}],
            },
            {
                "name": "umsatz_rules",
                "type": "scorecard",
                "rules": [
                    {"column": "Umsatz (€)", "ge": 1000, "points": 50},
                    {"column": "Zahlungs art é", "eq": "Karte", "points": 30},
                ],
            },
        ],
        "models": [{"type": "lightgbm", "params": {"n_estimators": 40, "min_child_samples": 10}}],
        "evaluation": {"bootstrap": 100},
    }
    cfg_path = _write_yaml(cfg, folder / "awkward.yaml")
    result = _run_cli(cfg_path, "--output-dir", folder / "out")
    summary = json.loads((folder / "out" / "summary.json").read_text(encoding="utf-8"))
    return {"result": result, "summary": summary, "frame": frame, "folder": folder}


@pytest.mark.slow
def test_failed_candidate_is_recorded_and_the_others_still_run(awkward_run):
    import mlflow

    result, summary = awkward_run["result"], awkward_run["summary"]
    assert result.exit_code == 1, result.output
    assert "broken_rules" in result.output
    cands = {c["name"]: c for c in summary["candidates"]}
    broken = cands["broken_rules"]
    assert broken["status"] == "failed"
    assert "DataError" in broken["error"] and "'Budget'" in broken["error"]
    assert broken["model_uri"] is None and broken["metrics"] == {}
    assert list(cands) == ["broken_rules", "umsatz_rules", "lightgbm"]
    for name in ("umsatz_rules", "lightgbm"):
        assert cands[name]["status"] == "ok", cands[name].get("error")
        assert cands[name]["error"] is None
    # MLflow: the failed child run is FAILED with the error; the others finished with metrics
    _, children = _runs(summary["experiment"]["mlflow_run_id"])
    failed = children["broken_rules"]
    assert failed.info.run_id == broken["mlflow_run_id"]
    assert failed.info.status == "FAILED"
    assert "'Budget'" in failed.data.tags["salesml.error"]
    assert "DataError" in mlflow.artifacts.load_text(f"runs:/{failed.info.run_id}/error.txt")
    for name in ("umsatz_rules", "lightgbm"):
        assert children[name].info.status == "FINISHED"
        assert "roc_auc" in children[name].data.metrics
    assert summary["champion"]["name"] == "lightgbm"
    assert summary["champion"]["baseline"] == "umsatz_rules"


@pytest.mark.slow
def test_awkward_columns_work_end_to_end(awkward_run):
    import mlflow

    summary, frame = awkward_run["summary"], awkward_run["frame"]
    data = summary["data"]
    assert data["split"] == "time" and data["test_rows"] == 150
    assert data["excluded"] == {"leer": "entirely missing"}
    train_rows = frame.iloc[:450]  # time order = file order here
    assert "Krypto" not in set(train_rows["Zahlungs art é"])
    assert "Nord-Ost" not in set(train_rows["Region"])
    assert 0.4 < train_rows["Rabatt %"].isna().mean() < 0.6
    assert set(data["features"]) == {
        "erstellt am", "Zahlungs art é", "Region", "Umsatz (€)", "Rabatt %",
    }  # fmt: skip
    lgbm = next(c for c in summary["candidates"] if c["name"] == "lightgbm")
    assert lgbm["metrics"]["roc_auc"] > 0.65
    # the exported model scores the late rows, with categories never seen in train,
    # under the original (non-ASCII) column names
    model = mlflow.pyfunc.load_model(lgbm["model_uri"])
    assert "Zahlungs art é" in model.metadata.get_input_schema().input_names()
    test_rows = frame.iloc[-150:][data["features"]].copy()
    assert {"Krypto"} <= set(test_rows["Zahlungs art é"])
    assert {"Nord-Ost"} <= set(test_rows["Region"])
    test_rows["erstellt am"] = pd.to_datetime(test_rows["erstellt am"])
    scores = model.predict(test_rows)
    assert len(scores) == 150 and np.isfinite(scores["probability"]).all()
    assert scores["reason_1"].str.len().gt(0).all()  # every row has a reason
    texts = pd.concat([scores[f"reason_{i}"] for i in (1, 2, 3)])
    texts = texts[texts != ""]
    assert texts.map(lambda t: any(t.startswith(f"{f} = ") for f in data["features"])).all()


# --------------------------------------------------------------------------- any binary CSV


def _trial_to_paid(n: int = 500, seed: int = 5) -> pd.DataFrame:
    """A dataset the code has never seen: SaaS trials that did or did not start paying."""
    rng = np.random.default_rng(seed)
    logins = rng.poisson(4, n)
    seats = rng.integers(1, 40, n)
    integration = rng.random(n) < 0.35
    plan = rng.choice(["Starter", "Team", "Business"], n, p=[0.5, 0.35, 0.15])
    invited = rng.random(n) < 0.5
    logit = 0.45 * logins + 1.4 * integration + 0.03 * seats - 3.4 + (plan == "Business")
    logit += 0.8 * invited
    paid = rng.random(n) < 1 / (1 + np.exp(-logit))
    # True/False with blanks: pandas reads it as an object column of bools and NaN
    invited_text = np.where(invited, "True", "False").astype(object)
    invited_text[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "Trial ID": [f"TR-{i:04d}" for i in range(n)],
            "Signup Date": (
                pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "Plan": plan,
            "Seats": seats,
            "Logins first week": logins,
            "Used integration": np.where(integration, "Yes", "No"),
            "Country": rng.choice(["DE", "FR", "US", "GB", "NL"], n),
            "Invited teammates": invited_text,
            "Converted to paid": np.where(paid, "Yes", "No"),
        }
    )


@pytest.fixture(scope="module")
def trial_setup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trials")
    _trial_to_paid().to_csv(folder / "trials.csv", index=False)
    cfg = {
        "name": TRIALS,
        "task": "lead_conversion",
        "data": {
            "path": "trials.csv",
            "target": "Converted to paid",
            "positive": "Yes",
            "id": "Trial ID",
        },
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 100},
    }
    return _write_yaml(cfg, folder / "trials.yaml")


@pytest.mark.slow
def test_any_binary_csv_runs_from_a_yaml_config_alone(module_tracking, trial_setup):
    from mlflow import MlflowClient

    out = trial_setup.parent / "out"
    result = _run_cli(trial_setup, "--output-dir", out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["data"]["rows"] == 500 and summary["data"]["test_rows"] == 125
    assert "Trial ID" not in summary["data"]["features"]
    assert {"Signup Date", "Plan", "Invited teammates"} <= set(summary["data"]["features"])
    assert [c["status"] for c in summary["candidates"]] == ["ok", "ok"]
    champ = summary["champion"]
    assert champ["name"] == "logistic" and champ["baseline"] == "prior"
    # a real signal against the prior: the model wins, and is registered as champion
    assert champ["beats_baseline"] is True
    version = MlflowClient().get_model_version_by_alias(TRIALS, "champion")
    assert str(version.version) == champ["registered_version"]
    assert version.source == champ["model_uri"] or champ["model_uri"].endswith(version.model_id)


@pytest.mark.slow
def test_set_override_changes_the_run(module_tracking, trial_setup):
    import mlflow

    out = trial_setup.parent / "out-set"
    result = _run_cli(
        trial_setup, "--output-dir", out, "--set", "split.test_size=0.3", "--set", "models=[]"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["data"]["test_rows"] == 150  # 30 % of 500 instead of 25 %
    assert [c["name"] for c in summary["candidates"]] == ["prior"]
    assert summary["champion"] is None
    logged = yaml.safe_load(
        mlflow.artifacts.load_text(f"runs:/{summary['experiment']['mlflow_run_id']}/config.yaml")
    )
    assert logged["split"]["test_size"] == 0.3 and logged["models"] == []
