"""Customer value at scale: ``salesml run`` on a synthetic shop log, then ``salesml score``.

``benchmarks/configs/scale_value.yaml`` on 100,000 customers (about a million order lines,
guest lines, credit notes, free samples and duplicated lines included): the log is written
first in a child process (timed apart), then ``python -m salesml run`` fits, evaluates
(bootstrap CIs over customers) and exports every candidate into a temporary MLflow store,
and ``python -m salesml score`` values every customer of the log with the exported
BG/NBD model. Wall time is each whole command, Python start-up included; peak memory is
the largest single process (its ``VmHWM``) and the sum over the process tree
(``benchlib.ChildRun``). The issue's target: fit, evaluate and score in under 2 minutes,
peak memory under 2 GB.

Usage::

    python benchmarks/bench_lifecycle.py                  # 100,000 customers
    python benchmarks/bench_lifecycle.py --customers 20000

Writes ``benchmarks/results/lifecycle.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchlib import save_scale, scale_figures, scale_run, scale_table

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "scale_value.yaml"
RESULTS = HERE / "results" / "lifecycle.json"


def render(payload: dict | None) -> list[str]:
    """RESULTS.md's section on customer value at scale (``lifecycle.json``)."""
    lines = ["## Customer value at scale", ""]
    if not payload:
        return [*lines, "Not measured yet: run `python benchmarks/bench_lifecycle.py`.", ""]
    return [
        *lines,
        f"`salesml run benchmarks/configs/scale_value.yaml` on a synthetic shop log of "
        f"{payload['customers']:,} customers and {payload['lines']:,} order lines (guest "
        "lines, credit notes, free samples and duplicated lines included), then `salesml "
        "score` of every customer with the exported BG/NBD model.",
        "",
        *scale_table(
            payload,
            "run: clean, fit 4 candidates, bootstrap CIs, MLflow, export",
            "score every customer",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-value-") as tmp:
        done = scale_run(
            CONFIG, "transactions", args.customers, Path(tmp), "transactions.csv",
            scored="bgnbd_gamma_gamma",
        )  # fmt: skip
        lines = sum(1 for _ in done.data.open(encoding="utf-8")) - 1
    result = {**scale_figures(done), "lines": lines, "cleaning": done.summary["data"]["cleaning"]}
    save_scale(result, RESULTS, f"{result['customers']:,} customers, {lines:,} lines")


if __name__ == "__main__":
    main()
