"""Weekly seasons: 52 ETS states, the per-series seasonality test, STL decomposition.

Runs each weekly experiment three ways and prints wall time, the statistical models'
fit time and MASE, and the champion:

- ``states``: AutoETS carries the 52-week season in its states, every series
  (``season_method: states``, ``seasonality_test: off``);
- ``states + test``: the same, but only on the series the 90 % autocorrelation test
  finds seasonal (``seasonality_test: on``); the others get ETS without a season;
- ``stl`` (the default): the season is taken by STL decomposition and ETS fits the
  seasonally adjusted series (``season_method: auto``), no test.

Data: the Walmart experiment (45 stores, 143 weeks), and ``N`` synthetic weekly
store x department series (``generate_weekly_sales``, 143 weeks) with AutoETS and
AutoTheta against seasonal naive.

Usage: ``python benchmarks/bench_seasonality.py [N]`` (default 300 series). Also writes
``benchmarks/results/seasonality.json`` (``benchmarks/results_md.py`` renders it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


MODES = {
    "states": ["seasonality_test=off", "models.0.params.season_method=states"],
    "states + test": ["seasonality_test=on", "models.0.params.season_method=states"],
    "stl": ["seasonality_test=auto", "models.0.params.season_method=auto"],
}


def _run(config: Path, mode: str, tmp: Path) -> tuple[object, float]:
    from rich.console import Console

    from salesml import load_experiment, run_experiment

    os.environ["SALESML_ARTIFACT_ROOT"] = str(tmp / "artifacts")
    cfg = load_experiment(config, MODES[mode])
    started = time.perf_counter()
    slug = mode.replace(" + ", "-")
    summary = run_experiment(
        cfg,
        tmp / f"out-{config.stem}-{slug}",
        f"sqlite:///{tmp / 'mlflow.db'}",
        Console(quiet=True),
    )
    return summary, time.perf_counter() - started


def _weekly(n_series: int, folder: Path) -> Path:
    from salesml.synthetic import generate_weekly_sales

    path = folder / "weekly.csv"
    generate_weekly_sales(n_series, seed=3).to_csv(path, index=False)
    config = {
        "name": "synthetic-weekly",
        "task": "forecast",
        "data": {
            "path": str(path),
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "W-FRI",
        },
        "horizon": 8,
        "backtest": {"windows": 3, "step": 8},
        "baselines": ["seasonal_naive"],
        "models": [{"type": "auto_ets", "params": {"damped": False}}, "auto_theta"],
    }
    out = folder / "weekly.yaml"
    out.write_text(yaml.safe_dump(config), encoding="utf-8")
    return out


def main(n_series: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-season-") as tmp:
        tmp = Path(tmp)
        cases = {
            "Walmart (45 stores)": ROOT / "experiments" / "forecast" / "walmart.yaml",
            f"synthetic weekly ({n_series} series)": _weekly(n_series, tmp),
        }
        for name, config in cases.items():
            print(f"== {name}")
            for mode in MODES:
                summary, seconds = _run(config, mode, tmp)
                found = summary.data.seasonal
                seasonal = (
                    f"{found['seasonal']} of {sum(found.values())} seasonal"
                    if found
                    else "not tested"
                )
                fits = ", ".join(
                    f"{c.name} MASE {c.metrics['mase']:.3f} fit {c.fit_seconds:.1f} s"
                    for c in summary.candidates
                    if c.type in ("auto_ets", "auto_theta", "ensemble", "seasonal_naive")
                )
                champ = summary.champion
                print(
                    f"  {mode:<14} {seconds:6.1f} s  ({seasonal})  {fits}; "
                    f"champion {champ.name} delta {champ.delta:+.4f}"
                )
                rows.append(
                    {
                        "data": name,
                        "mode": mode,
                        "seconds": round(seconds, 1),
                        "seasonal": seasonal,
                        "models": {
                            c.name: {"mase": c.metrics["mase"], "fit_seconds": c.fit_seconds}
                            for c in summary.candidates
                            if c.type in ("auto_ets", "auto_theta")
                        },
                        "champion": champ.name,
                        "champion_mase": summary.candidate(champ.name).metrics["mase"],
                    }
                )
    out = ROOT / "benchmarks" / "results" / "seasonality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
