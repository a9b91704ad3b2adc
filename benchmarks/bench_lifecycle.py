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
import json
import tempfile
from pathlib import Path

from benchlib import scale_figures, scale_run, scale_table

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
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{result['customers']:,} customers, {lines:,} lines: run {result['run_seconds']:.1f} s "
        f"(peak {result['run_peak_mib']:,} MiB), score {result['score_seconds']:.1f} s (peak "
        f"{result['score_peak_mib']:,} MiB); total {result['total_seconds']:.1f} s; champion "
        f"{result['champion']} ({result['verdict']})"
    )


if __name__ == "__main__":
    main()
