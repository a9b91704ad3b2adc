"""Exported classifiers take data as it comes: ``pd.read_csv`` of the training file's format.

Plain ``mlflow.pyfunc.load_model(uri).predict(pd.read_csv(...))``: integer
columns where doubles were trained, floats with NaN, text, booleans, dates as
text. Rows the model cannot score (``inf``, a missing column) are refused with
one message naming the column, the value and the row: a salesml ``DataError``
that is also an ``MlflowException`` (HTTP 400 when served).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from conftest import TELCO
from salesml.errors import DataError

OUTPUT = ["probability", "score", "tier", "reason_1", "reason_2", "reason_3"]


def _pyfunc(uri: str, store: str) -> Any:
    import mlflow

    mlflow.set_tracking_uri(store)
    return mlflow.pyfunc.load_model(uri)


def _speaks_sales(out: pd.DataFrame, rows: int) -> None:
    assert list(out.columns) == OUTPUT and len(out) == rows
    assert out["probability"].between(0, 1).all() and out["score"].between(0, 100).all()
    assert set(out["tier"]) <= {"A", "B", "C", "D"}
    assert out["reason_1"].map(lambda t: isinstance(t, str)).all()


@pytest.fixture(scope="module")
def telco_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small Telco churn run: prior, a scorecard, logistic and LightGBM (no search)."""
    from salesml import load_experiment, run_experiment

    folder = tmp_path_factory.mktemp("telco")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    config = {
        "name": "telco-raw-frames",
        "task": "churn",
        "data": {"path": str(TELCO), "target": "Churn", "positive": "Yes", "id": "customerID"},
        "split": {"method": "stratified", "test_size": 0.25, "seed": 42},
        "baselines": [
            "prior",
            {
                "name": "retention",
                "type": "scorecard",
                "rules": [
                    {"column": "Contract", "eq": "Month-to-month", "points": 35},
                    {"column": "tenure", "lt": 6, "points": 20},
                ],
            },
        ],
        "models": ["logistic", {"type": "lightgbm", "params": {"n_estimators": 60}}],
        "evaluation": {"bootstrap": 50},
    }
    path = folder / "telco.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    summary = run_experiment(
        load_experiment(path), folder / "out", store, console=Console(file=io.StringIO())
    )
    assert not summary.failed, [c.error for c in summary.candidates]
    return {"summary": summary, "store": store}


def test_telco_champion_and_every_candidate_predict_on_read_csv(telco_run):
    """``tenure`` is int64 and ``TotalCharges`` text with blanks in ``pd.read_csv``'s frame."""
    summary = telco_run["summary"]
    raw = pd.read_csv(TELCO).head(400)
    assert raw["tenure"].dtype == np.int64 and raw["TotalCharges"].dtype == object
    blank = raw["TotalCharges"].str.strip().eq("")
    raw.loc[raw.index[:3], "TotalCharges"] = " "  # blanks, as in the file's new customers
    names = {summary.champion.name, *(c.name for c in summary.candidates if c.status == "ok")}
    for name in sorted(names):
        model = _pyfunc(summary.candidate(name).model_uri, telco_run["store"])
        out = model.predict(raw)
        _speaks_sales(out, len(raw))
        assert out.index.equals(raw.index)
    # a model's scores do not depend on the integer/decimal form of a number
    model = _pyfunc(summary.champion.model_uri, telco_run["store"])
    as_float = raw.astype({"tenure": float, "MonthlyCharges": float, "SeniorCitizen": float})
    pd.testing.assert_frame_equal(model.predict(raw), model.predict(as_float))
    assert not blank.all()


def test_telco_predictions_equal_salesml_score(telco_run, tmp_path: Path):
    from salesml.scoring.batch import score_file

    summary = telco_run["summary"]
    uri = summary.candidate("lightgbm").model_uri
    src, out = tmp_path / "telco.csv", tmp_path / "scores.csv"
    pd.read_csv(TELCO).head(500).to_csv(src, index=False)
    score_file(uri, src, out, tracking_uri=telco_run["store"])
    scored = pd.read_csv(out, keep_default_na=False)
    direct = _pyfunc(uri, telco_run["store"]).predict(pd.read_csv(src))
    np.testing.assert_allclose(scored["probability"], direct["probability"], rtol=1e-12)
    assert scored["tier"].tolist() == direct["tier"].tolist()


def test_the_signature_names_the_columns_and_the_card_their_types(telco_run):
    summary = telco_run["summary"]
    model = _pyfunc(summary.champion.model_uri, telco_run["store"])
    schema = model.metadata.get_input_schema()
    assert schema.input_names() == summary.data.features
    assert all(c.required for c in schema.inputs)
    types = model.metadata.metadata["salesml"]["input_types"]
    assert set(types) == set(summary.data.features)  # the MLmodel file sorts keys
    assert types["tenure"] == "double" and types["Contract"] == "string"
    outputs = {c.name: c.type.name for c in model.metadata.get_output_schema().inputs}
    assert outputs["probability"] == outputs["score"] == "double" and outputs["tier"] == "string"


@pytest.mark.parametrize("name", ["lightgbm", "logistic", "bant", "control_points"])
def test_synthetic_leads_as_read_csv_predict_like_salesml_score(
    trained_leads, tmp_path: Path, name: str
):
    from salesml.scoring.batch import score_file

    uri, store = trained_leads["uris"][name], trained_leads["store"]
    leads = pd.read_csv(trained_leads["data"]).tail(300).reset_index(drop=True)
    assert leads["email_opens"].dtype == np.int64  # the column MLflow used to refuse
    assert leads["created_at"].dtype == object  # dates as text
    leads.loc[:9, "hours_to_first_contact"] = np.nan
    out = _pyfunc(uri, store).predict(leads)
    _speaks_sales(out, len(leads))
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    leads.to_csv(src, index=False)
    score_file(uri, src, dst, tracking_uri=store)
    scored = pd.read_csv(dst, keep_default_na=False)
    np.testing.assert_allclose(scored["probability"], out["probability"], rtol=1e-12)
    assert (scored["reason_1"] == out["reason_1"]).all()


def test_booleans_and_numbers_as_text_are_coerced(trained_leads):
    model = _pyfunc(trained_leads["uris"]["lightgbm"], trained_leads["store"])
    leads = pd.read_csv(trained_leads["data"]).head(40)
    texts = leads.astype(str).replace({"True": "yes", "False": "no"})
    texts["hours_to_first_contact"] = leads["hours_to_first_contact"].map(
        lambda v: "" if pd.isna(v) else f"{v}"
    )
    pd.testing.assert_frame_equal(
        model.predict(texts, params={"reasons": False}),
        model.predict(leads, params={"reasons": False}),
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(np.inf, "inf"), (-np.inf, "-inf"), ("Infinity", "'Infinity'"), ("lots", "'lots'")],
)
def test_bad_numbers_are_refused_naming_column_value_and_row(trained_leads, value, shown):
    from mlflow.exceptions import MlflowException

    model = _pyfunc(trained_leads["uris"]["logistic"], trained_leads["store"])
    leads = pd.read_csv(trained_leads["data"]).head(20)
    leads["email_opens"] = leads["email_opens"].astype(object)
    leads.loc[6, "email_opens"] = value
    with pytest.raises(DataError) as info:
        model.predict(leads)
    message = str(info.value)
    assert "'email_opens'" in message and f"{shown} in data row 7" in message
    assert "\n" not in message and "Traceback" not in message
    assert isinstance(info.value, MlflowException)
    assert info.value.get_http_status_code() == 400


def test_a_missing_column_is_named(trained_leads):
    from mlflow.exceptions import MlflowException

    model = _pyfunc(trained_leads["uris"]["lightgbm"], trained_leads["store"])
    leads = pd.read_csv(trained_leads["data"]).head(5).drop(columns=["seniority"])
    with pytest.raises(MlflowException, match="seniority"):
        model.predict(leads)
