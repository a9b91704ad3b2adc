"""Time the leakage guard on the rows it sees in real runs, and its share of a whole run.

Run with ``python benchmarks/bench_leakage.py [--repeat N] [--no-runs]``. This is a
script, not a test. It prints:

1. Per table, rows, columns checked, the best wall-clock seconds (of ``--repeat``)
   of the value checks alone (``find_leaks``; target well under a second at
   100,000 rows) and of the whole scan with the model check (``scan_leaks``,
   which subsamples to 10,000 rows), the quick model's ROC-AUC and the flags.
   Tables: IBM Telco (7,043 rows), the Olist MQLs with the closed-deal columns
   joined on (the real leak trap) and synthetic leads at 20,000 and 100,000 rows
   with ``last_stage_reached`` kept (the synthetic leak).
2. First, unless ``--no-runs``: ``salesml run`` of ``experiments/churn/telco.yaml``
   and ``experiments/lead_conversion/demo.yaml`` (or ``--runs CONFIG ...``), each
   in a fresh child process with a temporary MLflow store, with the guard's
   seconds (from the run's own leakage record, imports included) and their share
   of the run's seconds (``summary.json``). Target: under 10 %.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import pandas as pd

from salesml.classify.leakage import find_leaks
from salesml.classify.leakage_scan import scan_leaks
from salesml.io.data import load_table
from salesml.io.schema import infer_schema
from salesml.synthetic import generate_leads

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
TARGET_SECONDS = 1.0
TARGET_SHARE = 0.10
RUNS = ["experiments/churn/telco.yaml", "experiments/lead_conversion/demo.yaml"]


def tables() -> dict[str, tuple[pd.DataFrame, str, str | None, dict[str, str]]]:
    """``{name: (frame, target, label_time, kinds)}`` with ids and free text removed."""
    out = {}
    telco = load_table(ROOT / "data/external/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
    frame = telco.frame.drop(columns=["customerID"])
    frame["Churn"] = frame["Churn"].eq("Yes").astype(int)
    out["telco"] = (frame, "Churn", None, telco.schema.to_dict())
    folder = ROOT / "data/external/olist_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    joined = mqls.merge(deals, on="mql_id", how="left").assign(
        closed=lambda f: f["mql_id"].isin(deals["mql_id"]).astype(int)
    )
    joined, schema = infer_schema(joined.drop(columns=["mql_id", "seller_id"]))
    out["olist+deals"] = (joined, "closed", "first_contact_date", schema.to_dict())
    for rows in (20_000, 100_000):
        leads, schema = infer_schema(generate_leads(rows, seed=7))
        leads = leads.drop(columns=["lead_id", "job_title"])
        out[f"leads {rows:,}"] = (leads, "converted", "created_at", schema.to_dict())
    return out


def _best(repeat: int, call: Callable[[], T]) -> tuple[float, T]:
    """The best wall-clock seconds of ``repeat`` calls, and the last result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - start)
    return best, out


def time_tables(repeat: int) -> float:
    """Print the value checks' and the whole scan's best seconds per table; return the
    slowest value-check time."""
    print(f"{'table':<14} {'rows':>8} {'cols':>5} {'value s':>8} {'scan s':>7} {'model':>6}  flags")
    slowest = 0.0
    for name, (frame, target, label_time, kinds) in tables().items():
        args = (frame, target, label_time, kinds)
        value_s, _ = _best(repeat, partial(find_leaks, *args))
        scan_s, scan = _best(repeat, partial(scan_leaks, *args))
        slowest = max(slowest, value_s)
        flags = sorted({f"{f.column}:{f.kind}" for f in scan.flags})
        auc = f"{scan.model.auc:.3f}" if scan.model is not None else "-"
        checked = frame.shape[1] - 1 - (label_time is not None)
        print(
            f"{name:<14} {len(frame):>8,} {checked:>5} {value_s:>8.3f} {scan_s:>7.3f} {auc:>6}  "
            f"{', '.join(flags) or '-'}"
        )
    verdict = "within" if slowest < TARGET_SECONDS else "OVER"
    print(f"value checks: slowest {slowest:.3f} s, {verdict} the {TARGET_SECONDS:.0f} s target")
    return slowest


def guard_share(config: str) -> tuple[float, float, float]:
    """``salesml run`` of one experiment in a fresh child process (so the guard pays its own
    imports, as on the command line), into a temporary MLflow store.

    Returns the guard's seconds (from the run's leakage record), the run's seconds as
    ``summary.json`` states them and the child's wall-clock seconds.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
            "SALESML_ARTIFACT_ROOT": f"{tmp}/artifacts",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
            ),
        }
        out = Path(tmp) / "out"
        command = [sys.executable, "-m", "salesml", "run", str(ROOT / config), "-o", str(out)]
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=tmp)
        wall = time.perf_counter() - start
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    guard = float(summary["data"]["leakage"]["seconds"])
    return guard, float(summary["experiment"]["elapsed_seconds"]), wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs per table.")
    parser.add_argument("--no-runs", action="store_true", help="Skip the end-to-end runs.")
    parser.add_argument("--runs", nargs="*", default=RUNS, help="Configs to run end to end.")
    args = parser.parse_args(argv)
    ok = True
    if not args.no_runs:  # first, so no table has imported what the runs' guards import
        print(f"{'experiment':<40} {'guard s':>8} {'run s':>7} {'wall s':>7} {'share':>6}")
        for config in args.runs:
            guard, run, wall = guard_share(config)
            share = guard / run
            ok &= share < TARGET_SHARE
            verdict = "within" if share < TARGET_SHARE else "OVER"
            print(
                f"{config:<40} {guard:>8.2f} {run:>7.1f} {wall:>7.1f} {share:>6.1%}  "
                f"{verdict} the {TARGET_SHARE:.0%} target"
            )
        print()
    ok &= time_tables(args.repeat) < TARGET_SECONDS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
