"""Time to churn at scale: ``salesml run`` of a survival experiment, then ``salesml score``.

``benchmarks/configs/scale_survival.yaml`` on 100,000 synthetic SaaS customers (tenure,
churn, contract, usage, tickets, NPS, payments): the file is written first in a child
process (timed apart), then ``python -m salesml run`` fits Kaplan-Meier overall and per
contract, Cox with a baseline per contract and the hazard LightGBM, evaluates them
(1,000 bootstrap resamples of the test customers for every metric) and exports the
models into a temporary MLflow store, and ``python -m salesml score`` scores every
customer with the exported champion (chances of leaving, remaining months, value at
risk, reasons). Wall time is each whole command, Python start-up included; peak memory
the largest single process (``benchlib.ChildRun``). Target, as for customer value: under
2 minutes and 2 GB.

Usage::

    python benchmarks/bench_survival.py                  # 100,000 customers
    python benchmarks/bench_survival.py --customers 20000

Writes ``benchmarks/results/survival.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchlib import save_scale, scale_figures, scale_run, scale_table

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "scale_survival.yaml"
RESULTS = HERE / "results" / "survival.json"


def render(payload: dict | None) -> list[str]:
    """RESULTS.md's section on time to churn at scale (``survival.json``)."""
    lines = ["## Time to churn at scale", ""]
    if not payload:
        return [*lines, "Not measured yet: run `python benchmarks/bench_survival.py`.", ""]
    return [
        *lines,
        f"`salesml run benchmarks/configs/scale_survival.yaml` on {payload['customers']:,} "
        "synthetic SaaS customers, then `salesml score` of every customer with the exported "
        "champion.",
        "",
        *scale_table(
            payload,
            "run: 2 rules, Cox, hazard LightGBM, bootstrap CIs, MLflow, export",
            "score every customer, with reasons",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-survival-") as tmp:
        done = scale_run(CONFIG, "customers", args.customers, Path(tmp), "customers.csv")
    save_scale(scale_figures(done), RESULTS)


if __name__ == "__main__":
    main()
