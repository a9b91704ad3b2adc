"""Time ``salesml --help`` and ``salesml --version`` as fresh processes (best of 5).

Run with ``python benchmarks/bench_cli.py``. This is a script, not a test: it
prints the best wall-clock seconds of each command. The target is under 1 s,
which holds as long as importing ``salesml.cli`` does not import pandas,
scikit-learn, MLflow or matplotlib.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 1.0


def salesml_command() -> list[str]:
    """The installed console script, else ``python -m salesml``."""
    beside = Path(sys.executable).parent / "salesml"
    found = str(beside) if beside.exists() else shutil.which("salesml")
    return [found] if found else [sys.executable, "-m", "salesml"]


def best_of(cmd: list[str], repeat: int) -> float:
    """Best wall-clock seconds of ``repeat`` runs of ``cmd``; fails if it exits non-zero."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs per command.")
    args = parser.parse_args(argv)
    base = salesml_command()
    print(f"using: {' '.join(base)}")
    print(f"{'command':<20} {'best s':>8}  target < {TARGET_SECONDS:.1f} s")
    slow = False
    for flag in ("--help", "--version"):
        seconds = best_of([*base, flag], args.repeat)
        slow |= seconds >= TARGET_SECONDS
        verdict = "ok" if seconds < TARGET_SECONDS else "SLOW"
        print(f"{'salesml ' + flag:<20} {seconds:8.3f}  {verdict}")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
