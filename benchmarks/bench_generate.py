"""Time the synthetic data generators (best of 3) and report peak memory.

Run with ``python benchmarks/bench_generate.py`` (or ``make benchmarks``). This
is a script, not a test: it prints wall-clock seconds per generator, rows per
second and the peak traced Python/numpy allocation of one call.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable

import pandas as pd

from salesml.synthetic import (
    generate_customers,
    generate_leads,
    generate_opportunities,
    generate_sales,
)

CASES: list[tuple[str, Callable[[], pd.DataFrame]]] = [
    ("generate_leads(100_000)", lambda: generate_leads(100_000, seed=0)),
    ("generate_customers(100_000)", lambda: generate_customers(100_000, seed=0)),
    ("generate_opportunities(50_000)", lambda: generate_opportunities(50_000, seed=0)),
    ("generate_sales(1_000 series x 1095 days)", lambda: generate_sales(1_000, seed=0)),
]


def best_of(fn: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, int]:
    """Return the best wall-clock time of ``repeat`` calls and the rows produced."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        frame = fn()
        best = min(best, time.perf_counter() - start)
        rows = len(frame)
        del frame
    return best, rows


def peak_mib(fn: Callable[[], pd.DataFrame]) -> float:
    """Peak memory traced by ``tracemalloc`` during one call, in MiB."""
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs per generator.")
    args = parser.parse_args(argv)
    print(f"{'generator':<42} {'best s':>8} {'rows':>11} {'rows/s':>12} {'peak MiB':>9}")
    for name, fn in CASES:
        seconds, rows = best_of(fn, args.repeat)
        peak = peak_mib(fn)
        print(f"{name:<42} {seconds:8.3f} {rows:11,d} {rows / seconds:12,.0f} {peak:9.1f}")
    # ru_maxrss is KiB on Linux, bytes on macOS.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss_mib = maxrss / 2**20 if sys.platform == "darwin" else maxrss / 2**10
    print(f"process peak RSS: {maxrss_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
