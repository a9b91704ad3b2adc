"""``salesml serve`` (a real server on 127.0.0.1) and ``salesml export`` (folder and model card)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from salesml.cli import app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status


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
    assert f"best baseline `{summary.champion.baseline}`" in card
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
