"""Shared fixtures: small synthetic frames, YAML writing, a temporary MLflow store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT / "data" / "external" / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"


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
