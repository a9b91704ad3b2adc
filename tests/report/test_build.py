"""``salesml report``: headline words, the page's content, and the page in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salesml.cli import app
from salesml.report.build import headline


def _summary(task: str, metrics: dict[str, dict[str, float]], champion: str, baseline=None):
    from salesml.experiment.results import (
        CandidateResult,
        Champion,
        DataInfo,
        ExperimentInfo,
        Summary,
    )

    metric = "mase" if task == "forecast" else "roc_auc"
    cands = [
        CandidateResult(
            name=n,
            role="model" if n == champion else "baseline",
            type="scorecard" if "scorecard" in n else n,
            metrics=m,
        )
        for n, m in metrics.items()
    ]
    return Summary(
        experiment=ExperimentInfo(name="x", task=task, primary_metric=metric, confidence=0.95),
        data=DataInfo(path="x.csv", sha256="0", rows=10),
        candidates=cands,
        champion=Champion(champion, champion, None, metric, 0.95, baseline=baseline),
    )


def test_headline_for_leads_names_both_shares():
    s = _summary(
        "lead_conversion",
        {
            "lightgbm": {"capture_at_20": 0.61},
            "bant_scorecard": {"capture_at_20": 0.43},
            "prior": {"capture_at_20": 0.2},
        },
        "lightgbm",
    )
    text = headline(s)
    assert text == (
        "The model (lightgbm) finds 61% of conversions in the top 20 % of leads; "
        "the bant scorecard finds 43%."
    )


def test_headline_names_a_points_rule():
    s = _summary(
        "churn", {"gbm": {"capture_at_20": 0.57}, "control_points": {"capture_at_20": 0.51}}, "gbm"
    )
    assert headline(s).endswith("; the control points rule finds 51%.")


def test_headline_for_churn_and_forecasts():
    churn = headline(_summary("churn", {"gbm": {"capture_at_20": 0.55}}, "gbm"))
    assert churn == "The model (gbm) finds 55% of churners in the top 20 % of customers."
    fc = headline(
        _summary(
            "forecast",
            {"ets": {"mase": 0.69}, "naive": {"mase": 0.8}, "seasonal_naive": {"mase": 1.0}},
            "ets",
            baseline="naive",
        )
    )
    # against the best rule, the one the verdict uses
    assert fc.startswith("The forecast's error (ets) is 14% below naive's"), fc


def test_report_page_holds_the_findings(trained_leads, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    out = tmp_path / "leads.html"
    result = CliRunner().invoke(app, ["report", "-e", "scoring-leads", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    summary = trained_leads["summary"]
    assert headline(summary) in html.replace("&#39;", "'")
    assert summary.experiment.mlflow_run_id in html and summary.data.sha256 in html
    assert "ROC-AUC with 95% CI" in html
    for cand in summary.candidates:
        assert f"<td>{cand.name}" in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) >= 2
    assert not re.search(r'(src|href)="https?://', html)  # self-contained: no external requests
    assert "Top drivers" in html


def test_report_unknown_experiment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    result = CliRunner().invoke(app, ["report", "-e", "nope"])
    assert result.exit_code == 2 and "no experiment 'nope'" in result.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason=".ci/run installs Debian's chromium")
def test_report_renders_in_headless_chromium(trained_leads, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    out = tmp_path / "leads.html"
    assert CliRunner().invoke(app, ["report", "-e", "scoring-leads", "-o", str(out)]).exit_code == 0
    flags = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-images-loaded="true"' in dom.stdout  # every embedded image decoded
    images = int(re.search(r'data-images="(\d+)"', dom.stdout).group(1))
    assert images >= 2
    expected = headline(trained_leads["summary"])
    assert expected.replace("'", "&#39;") in dom.stdout or expected in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, "--window-size=1280,2000", f"--screenshot={shot}", out.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
