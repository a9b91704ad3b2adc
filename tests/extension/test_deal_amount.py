"""A task salesml does not ship runs end to end from this folder alone.

``deal_amount.py`` (beside this file) registers a third task through the
documented extension point; no salesml module knows it. The test runs it the
way a user would: ``salesml candidates``, ``run --dry-run``, ``run``,
``report``, ``load_run`` and ``score``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import salesml
from conftest import ROOT
from salesml.cli import app
from salesml.experiment.tasks import task_names, unregister_task

SEGMENTS = {"smb": (2_000, 150), "mid": (8_000, 220), "enterprise": (30_000, 300)}


@pytest.fixture(autouse=True, scope="module")
def registered():
    """The task is known while this module's tests run, and forgotten after them."""
    import importlib

    module = importlib.import_module("deal_amount")  # importing it registers the task
    assert "deal_amount" in task_names()
    yield module.SPEC
    unregister_task("deal_amount")


def _deals(n: int, seed: int) -> pd.DataFrame:
    """Deals whose amount grows with seats at a segment's price: the rule misses the seats."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(list(SEGMENTS), size=n, p=[0.5, 0.35, 0.15])
    seats = rng.integers(1, 200, size=n)
    base = np.array([SEGMENTS[s][0] for s in segment])
    price = np.array([SEGMENTS[s][1] for s in segment])
    amount = base + price * seats + rng.normal(0, 1_500, size=n)
    ids = [f"D{i:05d}" for i in range(n)]
    return pd.DataFrame({"deal_id": ids, "segment": segment, "seats": seats, "amount": amount})


@pytest.fixture
def deal_config(tmp_path: Path) -> Path:
    _deals(1_500, seed=4).to_csv(tmp_path / "deals.csv", index=False)
    config = {
        "name": "deal-amount",
        "task": "deal_amount",
        "data": {"path": "deals.csv", "target": "amount", "id": "deal_id"},
        "baselines": ["segment_median"],
        "models": ["seats_line"],
        "evaluation": {"bootstrap": 200},
    }
    path = tmp_path / "deal_amount.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_the_task_is_listed_with_its_candidates():
    result = invoke("candidates", "--task", "deal_amount")
    assert result.exit_code == 0, result.output
    assert "segment_median" in result.output and "seats_line" in result.output


def test_a_config_key_of_another_task_is_named(deal_config: Path):
    raw = yaml.safe_load(deal_config.read_text())
    raw["horizon"] = 4
    deal_config.write_text(yaml.safe_dump(raw))
    result = invoke("run", str(deal_config), "--dry-run")
    assert result.exit_code == 2
    assert "horizon: unknown key: it applies to forecast experiments, not deal_amount" in (
        result.stderr
    )


@pytest.mark.slow
def test_the_third_task_runs_end_to_end(deal_config: Path, tmp_path: Path, tracking: str):
    plan = invoke("run", str(deal_config), "--dry-run")
    assert plan.exit_code == 0, plan.output
    assert "split: train 1,050 deals, test 450 deals" in plan.output
    assert "nothing was fitted" in plan.output

    out = tmp_path / "out"
    result = invoke("run", str(deal_config), "-o", str(out))
    assert result.exit_code == 0, result.output
    summary = salesml.load_summary(out)
    champ = summary.champion
    assert (champ.name, champ.baseline) == ("seats_line", "segment_median")
    assert champ.beats_baseline and champ.delta_ci[1] < 0  # lower error is better
    assert summary.experiment.lower_is_better

    # reopened: a metric the run did not pair, with its CI, without fitting
    run = salesml.load_run(out)
    mae = run.metric("mae", "seats_line")
    assert mae.value == pytest.approx(summary.candidate("seats_line").metrics["mae"], rel=1e-12)
    diff = run.metric("bias", "seats_line", against="segment_median")
    assert diff.ci[0] <= diff.value <= diff.ci[1]
    assert run.figure("residuals", path=tmp_path / "residuals.png").stat().st_size > 0

    page = tmp_path / "deal.html"
    report = invoke("report", "-e", "deal-amount", "-o", str(page))
    assert report.exit_code == 0, report.output
    html = page.read_text(encoding="utf-8")
    assert "misprices a deal by" in html and "mean absolute error" in html
    assert "1,500 deals." in html

    new = _deals(20, seed=9).drop(columns="amount")
    new.to_csv(tmp_path / "new.csv", index=False)
    scored_path = tmp_path / "scored.csv"
    scored = invoke(
        "score", "-m", champ.model_uri, "-i", str(tmp_path / "new.csv"), "-o", str(scored_path)
    )
    assert scored.exit_code == 0, scored.output
    frame = pd.read_csv(scored_path)
    assert list(frame.columns) == ["deal_id", "amount"]
    expected = [
        SEGMENTS[s][0] + SEGMENTS[s][1] * n for s, n in zip(new.segment, new.seats, strict=True)
    ]
    assert np.abs(frame["amount"] - expected).mean() < 1_000  # close to the true price list


def test_no_salesml_module_names_the_third_task():
    src = ROOT / "src" / "salesml"
    hits = [p for p in src.rglob("*.py") if "deal_amount" in p.read_text(encoding="utf-8")]
    assert not hits
