"""Time reopening a finished run: ``load_run`` plus one metric with its bootstrap CI.

Run with ``python benchmarks/bench_reopen.py`` (``--repeats`` to change the
count). This is a script, not a test. It runs ``experiments/churn/telco.yaml``
once into a temporary folder and a temporary sqlite MLflow store
(``MLFLOW_TRACKING_URI``), then times, ``--repeats`` times (default 3),
``salesml.load_run(out)`` followed by ``run.metric("capture_at_10")`` (the
champion's, with the run's 1,000 bootstrap replicates), and prints the median.
Target: under 2 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "churn" / "telco.yaml"
TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed reopenings (default 3)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-reopen-") as tmp:
        folder = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
        os.environ["SALESML_ARTIFACT_ROOT"] = str(folder / "artifacts")
        import salesml

        out = folder / "telco"
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.getLogger("mlflow").setLevel(logging.ERROR)
            summary = salesml.run_experiment(salesml.load_experiment(CONFIG), out, quiet=True)
        print(f"run {summary.experiment.name}: {time.perf_counter() - start:.1f} s (not timed)")

        seconds = []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            run = salesml.load_run(out)
            value = run.metric("capture_at_10")
            seconds.append(time.perf_counter() - t0)
            print(f"  {i + 1}: {seconds[-1]:.3f} s  {value}")
        median = statistics.median(seconds)
        verdict = "met" if median < TARGET_S else "NOT met"
        print(
            f"load_run + capture_at_10 with its CI ({summary.experiment.bootstrap} replicates, "
            f"{len(run.predictions):,} prediction rows): median {median:.3f} s of "
            f"{args.repeats} (target < {TARGET_S:.0f} s: {verdict})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
