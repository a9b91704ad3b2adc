"""The synthetic shop log has the mess of a real export, and its buyers follow the BG/NBD story."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from salesml.synthetic.transactions import generate_transactions


@pytest.fixture(scope="module")
def log():
    return generate_transactions(4000, seed=5)


def test_the_export_has_guests_credit_notes_free_samples_and_twice_exported_lines(log):
    n = len(log)
    assert 0.01 < log["Customer ID"].isna().mean() < 0.03
    credit = log["Invoice"].str.startswith("C")
    assert 0.02 < credit.mean() < 0.05 and (log.loc[credit, "Quantity"] < 0).all()
    assert 0.002 < (log["Price"] == 0).mean() < 0.01
    assert 0.001 < log.duplicated().sum() / n < 0.006
    assert log["InvoiceDate"].is_monotonic_increasing


def test_bgnbd_tells_the_story_better_than_each_customers_past_rate(log, tmp_path: Path):
    from salesml.experiment.config import load_experiment
    from salesml.lifecycle.task import ValueTask

    path = tmp_path / "shop.csv"
    log.to_csv(path, index=False)
    raw = yaml.safe_load((ROOT / "benchmarks" / "configs" / "scale_value.yaml").read_text())
    raw["data"]["path"] = str(path)
    raw["data"].pop("generate")
    cfg = tmp_path / "shop.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    task = ValueTask(load_experiment(cfg))
    info = task.prepare().info
    assert info.cleaning["no_customer"] > 0 and info.cleaning["returns"] > 0
    cands = {c.name: (role, c) for role, c in task.config.candidates}
    mae = {
        name: task.fit_evaluate(cands[name][1], cands[name][0], tmp_path).metrics["purchases_mae"]
        for name in ("last_period", "bgnbd_gamma_gamma")
    }
    assert mae["bgnbd_gamma_gamma"] < mae["last_period"]
