"""The per-series seasonality test: its effect on accuracy and time, weekly data.

Runs each weekly experiment twice, ``seasonality_test: off`` (every series fitted
with a 52-week season) and ``auto`` (the 90 % autocorrelation test per series), and
prints wall time, the statistical models' fit time and MASE, and the champion:

- the Walmart experiment (45 stores, 143 weeks);
- synthetic weekly sales: ``N`` series of salesml's daily generator summed by week
  (156 weeks), with AutoETS and AutoTheta against seasonal naive.

Usage: ``python benchmarks/bench_seasonality.py [N]`` (default 40 series). Also writes
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


def _run(config: Path, mode: str, tmp: Path) -> tuple[object, float]:
    from rich.console import Console

    from salesml import load_experiment, run_experiment

    os.environ["SALESML_ARTIFACT_ROOT"] = str(tmp / "artifacts")
    cfg = load_experiment(config, [f"seasonality_test={mode}"])
    started = time.perf_counter()
    summary = run_experiment(
        cfg, tmp / f"out-{mode}", f"sqlite:///{tmp / 'mlflow.db'}", Console(quiet=True)
    )
    return summary, time.perf_counter() - started


def _weekly(n_series: int, folder: Path) -> Path:
    from salesml.synthetic import generate_sales

    daily = generate_sales(n_series, seed=3, n_days=7 * 156)
    weekly = (
        daily.set_index("ds")
        .groupby("unique_id")["y"]
        .resample("W-SUN")
        .sum()
        .reset_index()[["unique_id", "ds", "y"]]
    )
    path = folder / "weekly.csv"
    weekly.to_csv(path, index=False)
    config = {
        "name": "synthetic-weekly",
        "task": "forecast",
        "data": {"path": str(path), "id": "unique_id", "time": "ds", "target": "y", "freq": "W"},
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
            for mode in ("off", "auto"):
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
                    f"  seasonality_test={mode:<4} {seconds:6.1f} s  ({seasonal})  {fits}; "
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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
