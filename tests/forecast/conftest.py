"""Shared fixtures of the forecast tests: a small daily sales frame, a task on it, Spark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml


def _daily_frame(
    ids: tuple[str, ...] = ("A", "B", "C"), n: int = 120, seed: int = 0
) -> pd.DataFrame:
    """Positive daily sales with a weekly pattern, columns series/date/sales/promo."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="D")
    weekly = np.array([1.0, 0.9, 0.95, 1.0, 1.2, 1.6, 1.4])
    rows = []
    for i, uid in enumerate(ids):
        level = 50 + 20 * i
        y = level * weekly[dates.dayofweek] * rng.gamma(30, 1 / 30, n)
        rows.append(pd.DataFrame({"series": uid, "date": dates, "sales": np.round(y, 1)}))
    out = pd.concat(rows, ignore_index=True)
    out["promo"] = (np.arange(len(out)) % 11 == 0).astype(int)
    return out


@pytest.fixture
def daily_frame() -> Callable[..., pd.DataFrame]:
    """``daily_frame(ids=("A", "B", "C"), n=120, seed=0)``: raw daily sales, one row per date."""
    return _daily_frame


@pytest.fixture
def daily_long() -> Callable[..., pd.DataFrame]:
    """``daily_long(n=120, exog=())``: :func:`daily_frame` in long format (unique_id, ds, y)."""
    from salesml.forecast.data import to_long

    def _long(n: int = 120, exog: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
        return to_long(_daily_frame(n=n), "series", "date", "sales", exog)

    return _long


@pytest.fixture
def make_task(tmp_path: Path) -> Callable[..., Any]:
    """``make_task(frame, **overrides)``: a ForecastTask on ``frame`` written as CSV.

    The config is written as YAML and loaded with ``load_experiment``; ``data``
    in ``overrides`` updates the data block, other keys replace top-level keys.
    """
    from salesml.experiment.config import load_experiment
    from salesml.forecast.task import ForecastTask

    def _make(frame: pd.DataFrame, **overrides: Any) -> ForecastTask:
        csv = tmp_path / "sales.csv"
        frame.to_csv(csv, index=False)
        data = {"path": str(csv), "id": "series", "time": "date", "target": "sales", "freq": "D"}
        data.update(overrides.pop("data", {}))
        raw = {
            "name": "fc-test",
            "task": "forecast",
            "data": data,
            "horizon": 7,
            "backtest": {"windows": 2},
            "baselines": ["naive"],
            **overrides,
        }
        path = tmp_path / "experiment.yaml"
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return ForecastTask(load_experiment(path))

    return _make


# Two cores at most (the machine is shared); few shuffle partitions for small frames.
SPARK_MASTER = "local[2]"
SPARK_CONF = {"spark.sql.shuffle.partitions": 4}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the session's Spark tests, stopped at the end."""
    pytest.importorskip("pyspark", reason="salesml[spark] is installed by make test")
    from salesml.runtime.spark import spark_session

    session = spark_session(SPARK_MASTER, SPARK_CONF)
    yield session
    session.stop()
