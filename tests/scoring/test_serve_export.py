"""``salesml serve`` (a real server on 127.0.0.1) and ``salesml export`` (folder and model card)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from salesml.cli import app

SERVING_FLAG = "_MLFLOW_IS_IN_SERVING_ENVIRONMENT"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


def _post(port: int, body: str, content_type: str = "application/json") -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body.encode(),
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_serve_answers_with_tiers_and_reasons(trained_leads, tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": trained_leads["store"]}
    uri = trained_leads["uris"]["lightgbm"]
    cmd = [sys.executable, "-m", "salesml", "serve", "--model", uri, "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/ping") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the server did not answer /ping in 90 s"
            time.sleep(0.5)
        leads = pd.read_csv(trained_leads["data"]).head(8)
        features = trained_leads["summary"].data.features
        records = json.loads(leads[features].to_json(orient="records", date_format="iso"))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps({"dataframe_records": records}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        rows = body["predictions"]
        assert len(rows) == 8
        assert all(r["tier"] in {"A", "B", "C", "D"} for r in rows)
        assert all(0 <= r["score"] <= 100 and 0 <= r["probability"] <= 1 for r in rows)
        assert all(r["reason_1"].endswith("log-odds)") for r in rows)

        # a non-finite number: HTTP 400, one message naming the column, no stack trace
        records[2]["email_opens"] = float("inf")  # sent as Infinity
        status, answer = _post(port, json.dumps({"dataframe_records": records}))
        assert status == 400, answer
        error = json.loads(answer)
        assert set(error) == {"error_code", "message"}
        assert "'email_opens'" in error["message"] and "inf in data row 3" in error["message"]
        assert "Traceback" not in answer and "stack_trace" not in answer
        assert len(answer) < 600
        # the server is still up and answers a frame read from CSV, sent as CSV
        csv = leads[features].head(4).to_csv(index=False)
        status, answer = _post(port, csv, "text/csv")
        assert status == 200 and len(json.loads(answer)["predictions"]) == 4
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_unknown_model_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    result = CliRunner().invoke(app, ["serve", "--model", str(tmp_path / "no-model")])
    assert result.exit_code == 2 and "cannot be loaded" in result.stderr


def test_export_writes_a_self_contained_folder_with_a_card(trained_leads, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    summary = trained_leads["summary"]
    to = tmp_path / "handover"
    result = CliRunner().invoke(app, ["export", "-m", summary.champion.model_uri, "--to", str(to)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in to.iterdir()) == ["MODEL_CARD.md", "model", "requirements.txt"]
    reqs = (to / "requirements.txt").read_text()
    assert "mlflow==" in reqs and "scikit-learn==" in reqs and "skops==" in reqs
    card = (to / "MODEL_CARD.md").read_text()
    champ = summary.candidate(summary.champion.name)
    assert f"# Model card: {champ.name}" in card
    assert summary.data.sha256 in card
    assert f"{champ.metrics['roc_auc']:.3f} [{champ.metrics['roc_auc_ci'][0]:.3f}" in card
    from salesml.experiment.results import champion_verdict

    assert summary.champion.baseline in champion_verdict(summary)
    assert champion_verdict(summary) in card
    for section in ("## Calibration", "## Tiers", "## Top drivers", "## Intended use"):
        assert section in card
    assert "## Known limits and leakage notes" in card and "`last_stage_reached`" in card
    assert "training window: " in card
    tiers = [line for line in card.splitlines() if line.startswith(("| A |", "| D |"))]
    rate = [float(t.rsplit("|", 2)[1].strip().rstrip("%")) for t in tiers]
    assert rate[0] > rate[1]  # tier A converts better than tier D on the test part

    # the exported folder loads and scores on its own (no tracking store needed)
    import mlflow

    from salesml import feature_frame, load_table

    model = mlflow.pyfunc.load_model(str(to / "model"))
    rows = feature_frame(load_table(trained_leads["data"]).frame.head(3), summary.data.features)
    assert list(model.predict(rows)["tier"].str.len()) == [1, 1, 1]

    again = CliRunner().invoke(app, ["export", "-m", summary.champion.model_uri, "--to", str(to)])
    assert again.exit_code == 2 and "not empty" in again.stderr


@pytest.fixture(scope="module")
def rest(trained_leads) -> dict:
    """``salesml serve``'s app for the logistic model, in process (FastAPI's test client)."""
    import warnings

    with warnings.catch_warnings():  # starlette's note on its httpx client
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from salesml.tracking import load_model
    from salesml.tracking.serving import serving_app

    uri = trained_leads["uris"]["logistic"]
    with pytest.MonkeyPatch.context() as mp:  # MLflow's server marks the process as serving
        mp.setenv(SERVING_FLAG, os.environ.get(SERVING_FLAG, "false"))
        app = serving_app(load_model(uri, trained_leads["store"]), uri)
    leads = pd.read_csv(trained_leads["data"]).head(6)
    return {"client": TestClient(app), "uri": uri, "leads": leads}


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def test_rest_takes_rows_as_read_from_csv(rest):
    leads = rest["leads"]
    assert leads["email_opens"].dtype == "int64" and leads["created_at"].dtype == object
    answer = rest["client"].post("/invocations", json={"dataframe_records": _records(leads)})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["predictions"]
    assert len(rows) == 6 and {r["tier"] for r in rows} <= {"A", "B", "C", "D"}
    as_csv = rest["client"].post(
        "/invocations", content=leads.to_csv(index=False), headers={"Content-Type": "text/csv"}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert [r["probability"] for r in as_csv.json()["predictions"]] == pytest.approx(
        [r["probability"] for r in rows], rel=1e-12
    )


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (
            lambda r: r[1].update(web_visits="Infinity"),
            ["'web_visits'", "'Infinity' in data row 2"],
        ),
        (lambda r: r[4].update(noise_score=float("inf")), ["'noise_score'", "inf in data row 5"]),
        (lambda r: r[0].update(email_opens=float("-inf")), ["'email_opens'", "-inf in data row 1"]),
        (lambda r: r[3].update(web_visits="lots"), ["'web_visits'", "numeric", "'lots'"]),
        (lambda r: [x.pop("seniority") for x in r], ["'seniority'", "required by model"]),
    ],
    ids=["Infinity as text", "Infinity", "-Infinity", "text", "missing column"],
)
def test_rest_refuses_bad_rows_with_one_message(rest, body, fragments):
    records = _records(rest["leads"])
    body(records)
    text = json.dumps({"dataframe_records": records})  # inf is sent as JSON's Infinity
    answer = rest["client"].post(
        "/invocations", content=text, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert set(error) == {"error_code", "message"} and error["error_code"] == "BAD_REQUEST"
    assert error["message"].startswith("request: column")
    for fragment in [*fragments, rest["uri"]]:
        assert fragment in error["message"], error["message"]
    assert "Traceback" not in answer.text and "\n" not in error["message"]


def test_rest_refuses_a_broken_request_without_a_stack_trace(rest):
    answer = rest["client"].post(
        "/invocations",
        content='{"dataframe_records": [',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"error_code", "message"} and "JSON" in answer.json()["message"]
    assert "Traceback" not in answer.text and "stack_trace" not in answer.text
    assert rest["client"].get("/ping").status_code == 200
