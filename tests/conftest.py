"""Shared fixtures: small synthetic frames, YAML writing, a temporary MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT / "data" / "external" / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"

# A BANT scorecard on the synthetic leads: budget, authority, need, timeline.
BANT_RULES: list[dict[str, Any]] = [
    {"column": "budget_band", "in": ["100k+"], "points": 25},
    {"column": "budget_band", "in": ["50k-100k"], "points": 18},
    {"column": "seniority", "in": ["c_level", "vp"], "points": 25},
    {"column": "seniority", "in": ["director"], "points": 15},
    {"column": "need", "not_in": ["none_stated"], "points": 20},
    {"column": "timeline", "in": ["0-3 months"], "points": 30},
    {"column": "timeline", "in": ["3-6 months"], "points": 15},
]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes."""
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """New MLflow stores copy a template kept for this session, not the user's cache."""
    import os

    folder = tmp_path_factory.mktemp("salesml-cache")
    before = os.environ.get("SALESML_CACHE_DIR")
    os.environ["SALESML_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("SALESML_CACHE_DIR", None)
    else:
        os.environ["SALESML_CACHE_DIR"] = before


def one_paragraph(result: Any) -> str:
    """The error of a refused command: exit code 2, one ``error:`` line, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("error: "), err
    assert len(err.splitlines()) == 1, err
    return err


def refused_cleanly(
    args: list[str],
    fragments: list[str],
    folder: Path,
    written: frozenset[str] = frozenset({"out/salesml.log"}),
) -> str:
    """Run the CLI in-process on ``args``: one paragraph naming every fragment, inputs in
    ``folder`` byte for byte as they were, nothing new but ``written``. Returns the error."""
    from typer.testing import CliRunner

    from salesml.cli import app

    before = snapshot(folder)
    err = one_paragraph(CliRunner().invoke(app, args))
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in: {err}"
    after = snapshot(folder)
    changed = {k for k in before if after.get(k) != before[k]}
    assert not changed, f"an input changed: {changed}"
    assert set(after) - set(before) <= written, f"written: {set(after) - set(before) - written}"
    return err


def dry_run(args: list[str]) -> str:
    """``salesml run CONFIG --dry-run`` for ``run CONFIG ...`` arguments: its plan, one line."""
    from typer.testing import CliRunner

    from salesml.cli import app

    result = CliRunner().invoke(app, [*args[:2], "--dry-run"])
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.stdout.split())


@pytest.fixture(scope="session")
def leads_small() -> pd.DataFrame:
    """3,000 synthetic leads (seeded)."""
    from salesml.synthetic import generate_leads

    return generate_leads(3000, seed=11)


@pytest.fixture(scope="session")
def customers_small() -> pd.DataFrame:
    """2,000 synthetic customers (seeded)."""
    from salesml.synthetic import generate_customers

    return generate_customers(2000, seed=11)


BOOKINGS_RULES = ["stage_weighted", "learned_stage_weights", "commit", "run_rate", "last_year"]


def bookings_config(folder: Path, history: bool = True, **extra: Any) -> Path:
    """A small bookings experiment (4,000 synthetic deals, 4 monthly cutoffs) in ``folder``."""
    data: dict[str, Any] = {
        "path": str(folder / "opportunities.csv"),
        "generate": {"kind": "pipeline", "rows": 4000, "seed": 3},
    }
    if history:
        data["history"] = str(folder / "stage_history.csv")
    raw = {
        "name": "bookings-test",
        "task": "bookings",
        "data": data,
        "period": "month",
        "backtest": {"cutoffs": 4, "min_past": 8},
        "baselines": BOOKINGS_RULES,
        "models": [{"type": "deal_lightgbm", "params": {"n_estimators": 120}}],
        "evaluation": {"bootstrap": 200},
        **extra,
    }
    path = folder / "bookings.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write a mapping to ``tmp_path/name`` as YAML and return its path."""

    def _write(data: dict[str, Any], name: str = "experiment.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite MLflow store for the session (creating one costs seconds)."""
    folder = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture
def tracking(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point MLFLOW_TRACKING_URI at the session store and artifacts at a temp folder."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store)
    monkeypatch.setenv(
        "SALESML_ARTIFACT_ROOT",
        str(Path(mlflow_store.removeprefix("sqlite:///")).parent / "artifacts"),
    )
    return mlflow_store


@pytest.fixture(scope="session")
def trained_leads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One small lead-conversion run, shared: its summary, store, data and a leads frame.

    Candidates: prior, a BANT scorecard, control points, logistic and LightGBM, so
    every kind of exported model (rules, lift, linear, boosting) can be scored.
    """
    import io

    from rich.console import Console

    from salesml import load_experiment, run_experiment

    folder = tmp_path_factory.mktemp("trained_leads")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    config = {
        "name": "scoring-leads",
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "generate": {"kind": "leads", "rows": 4000, "seed": 3},
            "target": "converted",
            "id": "lead_id",
            "time": "created_at",
            "drop": ["last_stage_reached", "job_title"],
        },
        "split": {"method": "time", "test_size": 0.25},
        "baselines": [
            "prior",
            "control_points",
            {"name": "bant", "type": "scorecard", "rules": BANT_RULES},
        ],
        "models": ["logistic", {"type": "lightgbm", "params": {"n_estimators": 120}}],
        "evaluation": {"bootstrap": 100},
    }
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    summary = run_experiment(
        load_experiment(path), folder / "out", store, console=Console(file=io.StringIO())
    )
    assert not summary.failed, [c.error for c in summary.candidates]
    return {
        "summary": summary,
        "store": store,
        "data": folder / "leads.csv",
        "uris": {c.name: c.model_uri for c in summary.candidates},
        "folder": folder,
    }
