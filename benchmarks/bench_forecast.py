"""Time the forecast task end to end and print its accuracy figures.

Run with ``python benchmarks/bench_forecast.py`` (``--help`` for options). This
is a script, not a test. Each case runs ``salesml.run_experiment``
(backtest, refits, plots, MLflow logging) into a throw-away MLflow store and
prints its wall-clock time and per-candidate MASE, WAPE and coverage:

- ``walmart``: ``experiments/forecast/walmart.yaml`` (45 stores x 143 weeks, 4
  windows), plus the champion against seasonal naive: MASE ratio and the
  bootstrap CI of the MASE difference paired by store. Target: ratio <= 0.85,
  CI below 0, under 60 s.
- ``demo``: ``experiments/forecast/demo.yaml`` (60 synthetic daily series).
- ``synthetic``: ``--series`` (default 1,000) synthetic daily series x 1,095
  days, horizon 28, 2 windows, the four baselines and the statistical models
  AutoETS and AutoTheta. Target: under 2 minutes.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Statistical models on 1,000 long daily series: parameters are estimated once per
# backtest (refit: false, then filtered forward) on the last 16 weeks of each series.
STAT_PARAMS = {"max_history": 112, "refit": False}
SYNTHETIC_MODELS = [
    {"type": "auto_ets", "params": {"model": "ZZA", "damped": False, **STAT_PARAMS}},
    {"type": "auto_theta", "params": dict(STAT_PARAMS)},
]


def run(config: Any, store: Path) -> tuple[dict[str, Any], Any, float]:
    """Run one experiment quietly into ``store``; return summary, task and seconds."""
    from rich.console import Console

    from salesml.runner import make_task, run_experiment

    task = make_task(config)
    quiet = Console(file=io.StringIO(), width=150)
    import mlflow  # noqa: F401  (configures its loggers on import; quiet them afterwards)

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = run_experiment(
            config,
            store / config.name,
            f"sqlite:///{store / 'mlflow.db'}",
            console=quiet,
            task=task,
        )
    return summary, task, time.perf_counter() - start


def report(title: str, summary: Any, seconds: float) -> None:
    data = summary.data
    print(f"\n== {title}: {data.series_used} series, {seconds:.1f} s end to end")
    print(
        f"{'candidate':<18} {'role':<9} {'MASE':>7} {'WAPE':>7} {'cov80':>6} {'cov95':>6} {'fit s':>7}"
    )
    for c in summary.candidates:
        if c.status != "ok":
            print(f"{c.name:<18} {c.role:<9} failed: {c.error}")
            continue
        m = c.metrics
        print(
            f"{c.name:<18} {c.role:<9} {m['mase']:7.3f} {m['wape']:7.3f} "
            f"{m.get('coverage_80', float('nan')):6.3f} {m.get('coverage_95', float('nan')):6.3f} "
            f"{c.fit_seconds:7.2f}"
        )
    champ = summary.champion
    if champ and champ.baseline:
        print(
            f"champion {champ.name} vs best baseline {champ.baseline}: "
            f"delta MASE {champ.delta:+.4f} CI [{champ.delta_ci[0]:+.4f}, "
            f"{champ.delta_ci[1]:+.4f}] beats={champ.beats_baseline}"
        )


def against_seasonal_naive(summary: Any, task: Any) -> None:
    from salesml.experiment.task import Outcome

    champ = summary.champion.name if summary.champion else None
    if not champ or "seasonal_naive" not in task.fits:
        return
    pair = [Outcome(name=n, role="", type="") for n in (champ, "seasonal_naive")]
    delta, ci = task.difference(*pair)
    mase = {c.name: c.metrics["mase"] for c in summary.candidates if c.status == "ok"}
    ratio = mase[champ] / mase["seasonal_naive"]
    verdict = "met" if ratio <= 0.85 and ci[1] < 0 else "NOT met"
    print(
        f"champion {champ} vs seasonal_naive: MASE ratio {ratio:.3f} (target <= 0.85), "
        f"delta {delta:+.4f} CI [{ci[0]:+.4f}, {ci[1]:+.4f}] -> target {verdict}"
    )


def synthetic_config(n_series: int, folder: Path) -> Any:
    from salesml.experiment.config import parse_experiment
    from salesml.synthetic import generate_sales

    path = folder / f"sales_{n_series}.parquet"
    generate_sales(n_series, seed=0).to_parquet(path, index=False)
    return parse_experiment(
        {
            "name": f"synthetic-{n_series}",
            "task": "forecast",
            "data": {
                "path": str(path),
                "id": "unique_id",
                "time": "ds",
                "target": "y",
                "freq": "D",
            },
            "horizon": 28,
            "backtest": {"windows": 2},
            "baselines": ["naive", "seasonal_naive", "moving_average", "last_year_growth"],
            "models": SYNTHETIC_MODELS,
        },
        "synthetic",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["walmart", "demo", "synthetic"])
    parser.add_argument("--series", type=int, default=1000, help="synthetic series (default 1000)")
    args = parser.parse_args(argv)
    from salesml.experiment.config import load_experiment

    with tempfile.TemporaryDirectory(prefix="bench_forecast_") as tmp:
        store = Path(tmp)
        os.environ["SALESML_ARTIFACT_ROOT"] = str(store / "artifacts")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
        if "walmart" in args.cases:
            summary, task, seconds = run(
                load_experiment(ROOT / "experiments/forecast/walmart.yaml"), store
            )
            report("walmart (target: < 60 s)", summary, seconds)
            against_seasonal_naive(summary, task)
        if "demo" in args.cases:
            cfg = load_experiment(ROOT / "experiments/forecast/demo.yaml")
            summary, task, seconds = run(cfg, store)
            report("demo", summary, seconds)
            against_seasonal_naive(summary, task)
        if "synthetic" in args.cases:
            t0 = time.perf_counter()
            cfg = synthetic_config(args.series, store)
            generated = time.perf_counter() - t0
            summary, task, seconds = run(cfg, store)
            report(f"synthetic daily x {args.series} (target: < 120 s)", summary, seconds)
            print(
                f"(+ {generated:.1f} s to generate the data; statistical models: {SYNTHETIC_MODELS})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
