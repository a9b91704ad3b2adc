"""``salesml run`` then ``salesml score`` with future and past covariates: the real command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import refused_cleanly
from salesml.cli import app


@pytest.fixture
def trained(tmp_path: Path, tracking: str, write_yaml) -> dict[str, Any]:
    """A run of lightgbm_global with a categorical future covariate and a past one."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2022-01-03", periods=120, freq="D")
    rows = []
    for uid in ("A", "B"):
        code = rng.choice(["0", "a", "b"], len(dates), p=[0.8, 0.1, 0.1])
        sales = 50 + 15 * (code == "a") + rng.normal(0, 1, len(dates))
        temp = rng.normal(20, 5, len(dates)).round(1)
        rows.append(
            pd.DataFrame({"series": uid, "date": dates, "sales": sales, "hol": code, "temp": temp})
        )
    pd.concat(rows).to_csv(tmp_path / "sales.csv", index=False)
    config = write_yaml(
        {
            "name": "exog-cli",
            "task": "forecast",
            "data": {
                "path": str(tmp_path / "sales.csv"),
                "id": "series",
                "time": "date",
                "target": "sales",
                "freq": "D",
                "exog": {"future": ["hol"], "past": ["temp"]},
            },
            "horizon": 7,
            "backtest": {"windows": 2},
            "baselines": ["naive"],
            "models": [{"type": "lightgbm_global", "params": {"n_estimators": 60}}],
        }
    )
    result = CliRunner().invoke(app, ["run", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    uri = next(c["model_uri"] for c in summary["candidates"] if c["name"] == "lightgbm_global")
    future = pd.DataFrame(
        {
            "series": ["A"] * 7,
            "date": pd.date_range("2022-05-03", periods=7, freq="D").strftime("%Y-%m-%d"),
            "hol": ["a", "0", "b", "0", "0", "0", "0"],
        }
    )
    return {"uri": uri, "future": future, "dir": tmp_path}


@pytest.mark.slow
def test_score_forecasts_from_the_training_files_columns(trained) -> None:
    d = trained["dir"] / "score"
    d.mkdir()
    trained["future"].to_csv(d / "future.csv", index=False)  # series, date, hol: no temp
    args = ["score", "-m", trained["uri"], "-i", str(d / "future.csv"), "-o", str(d / "out.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = pd.read_csv(d / "out.csv")
    assert len(out) == 7 and list(out["ds"])[0] == "2022-05-03"
    assert out["lightgbm_global"].iloc[0] > out["lightgbm_global"].iloc[1] + 8  # code 'a'


@pytest.mark.slow
def test_score_refuses_a_missing_future_covariate(trained) -> None:
    d = trained["dir"] / "score"
    d.mkdir()
    trained["future"].drop(columns="hol").to_csv(d / "future.csv", index=False)
    args = [
        "score",
        "-m",
        trained["uri"],
        "-i",
        str(d / "future.csv"),
        "-o",
        str(d / "out" / "o.csv"),
    ]
    err = refused_cleanly(args, ["future.csv", "'hol'", trained["uri"]], d, frozenset())
    assert "temp" not in err  # the past covariate is never asked for
