"""Throughput of ``salesml score`` against raw ``predict_proba``, and peak memory on 5 M rows.

Run with ``python benchmarks/bench_scoring.py`` (``--rows`` and ``--big-rows`` to
change the sizes). This is a script, not a test. It trains the lead-conversion
demo's LightGBM (20,000 synthetic leads, calibrated on 5 folds) into a
throw-away MLflow store, then on the same 1,000,000 synthetic leads times:

- ``raw``: the fitted model's ``predict_proba`` on a typed in-memory frame
  (what a hand-written script would call);
- ``score --no-reasons`` and ``score``: the whole command path (read Parquet in
  chunks, enforce the schema, probability, score, tier, write Parquet), without
  and with the three reasons per row.

Each in-process path runs once to warm up, then ``--repeats`` alternating rounds
(default 3); figures are medians with their ranges. Targets: overhead at most 1.5x
without reasons and 3x with reasons, and with reasons at most 1.5x the floor (one
booster of the model predicting rows already encoded). Then, each in
a fresh ``salesml score`` process (whole command: Python and, for Spark, the JVM
start-up included; peaks as ``benchlib.ChildRun`` measures them):

- ``--engine spark`` on the same 1,000,000 leads, Spark on 2 local workers
  (``local[2]``), into one Parquet file (skipped with ``--no-spark``, or when
  pyspark is not installed);
- a 5,000,000-row CSV, printing its peak memory (target: under 2 GB).

Writes ``benchmarks/results/scoring.json`` (``benchmarks/results_md.py`` renders it).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, ChildRun, child_env, machine, run_child  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "scoring.json"
SPARK_MASTER = "local[2]"


def train(folder: Path) -> tuple[str, str]:
    """Run the lead demo's LightGBM into ``folder``; return (model URI, tracking URI)."""
    from rich.console import Console

    import salesml

    store = f"sqlite:///{folder / 'mlflow.db'}"
    os.environ["SALESML_ARTIFACT_ROOT"] = str(folder / "artifacts")
    config = salesml.load_experiment(
        ROOT / "experiments/lead_conversion/demo.yaml",
        [f"data.path={folder / 'leads_train.csv'}", "baselines=[prior]", "models=[lightgbm]"],
    )
    summary = salesml.run_experiment(
        config, folder / "out", store, console=Console(file=io.StringIO())
    )
    return summary.candidate("lightgbm").model_uri, store


def timed(label: str, rows: int, fn) -> dict[str, Any]:
    """Time ``fn()``; print one line and return the path's figures."""
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.2f} s  {rows / seconds:>12,.0f} rows/s", flush=True)
    return {"path": label, "rows": rows, "seconds": round(seconds, 3)}


def _median_of(label: str, rows: int, times: list[float]) -> dict[str, Any]:
    """A path's median time over its rounds, with the range and every run."""
    median = statistics.median(times)
    print(f"{label:<44} median {median:6.2f} s  (range {min(times):.2f}-{max(times):.2f})")
    return {
        "path": label,
        "rows": rows,
        "seconds": round(median, 3),
        "range": [round(min(times), 3), round(max(times), 3)],
        "runs": [round(t, 3) for t in times],
    }


def score_command(label: str, rows: int, args: list[str], store: str) -> dict[str, Any]:
    """Time ``salesml score ARGS`` in a fresh process; print one line, return its figures.

    Raises
    ------
    RuntimeError
        When the command fails (with its stderr tail).
    """
    cmd = [sys.executable, "-m", "salesml", "score", *args]
    child: ChildRun = run_child(cmd, env=child_env(MLFLOW_TRACKING_URI=store), timeout=3600)
    if child.returncode != 0 or child.killed:
        what = f"killed ({child.killed})" if child.killed else f"exit {child.returncode}"
        raise RuntimeError(f"{label} failed ({what}):\n{child.tail()}")
    said = re.search(r"in ([0-9.]+) s", child.stdout)  # "scored N rows (...) in X s -> out"
    figures = {
        "path": label,
        "rows": rows,
        "seconds": round(child.seconds, 3),
        "command_seconds": float(said.group(1)) if said else None,
        "peak_mib": round(child.tree_peak_mib, 1),
        "largest_process_mib": round(child.peak_mib, 1),
    }
    print(
        f"{label:<44} {child.seconds:8.2f} s  {rows / child.seconds:>12,.0f} rows/s  "
        f"(peak {child.tree_peak_mib:,.0f} MiB)",
        flush=True,
    )
    return figures


def write_big_csv(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    from salesml.synthetic import generate_leads

    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        generate_leads(n, seed=100 + done // chunk).to_csv(
            path, mode="a", header=done == 0, index=False
        )
        done += n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=5_000_000)
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternating timed rounds of the in-process paths"
    )
    parser.add_argument(
        "--spark", action=argparse.BooleanOptionalAction, default=None, help="default: if installed"
    )
    args = parser.parse_args(argv)
    spark = importlib.util.find_spec("pyspark") is not None if args.spark is None else args.spark

    from rich.console import Console

    import salesml
    from salesml.scoring.batch import score_file
    from salesml.synthetic import generate_leads

    facts = machine(("pyspark",))
    print(f"python {facts['python']}, {facts['cores']} cores")
    results: dict[str, Any] = {
        "machine": facts,
        "model": "the lead demo's LightGBM (20,000 synthetic leads, calibrated on 5-fold "
        "out-of-fold probabilities)",
        "rows": args.rows,
        "paths": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        folder = Path(tmp)
        uri, store = train(folder)
        model = salesml.load_model(uri, store)
        scorer = model.unwrap_python_model().scorer
        leads = generate_leads(args.rows, seed=42)
        src = folder / "leads.parquet"
        leads.to_parquet(src, index=False)
        X = scorer.prepare(salesml.feature_frame(leads, scorer.features))
        print(f"\n{args.rows:,} leads, the lead demo's calibrated LightGBM")
        paths = results["paths"]
        quiet = Console(quiet=True)  # no progress bar between the lines
        # the floor: one of the model's boosters on rows already encoded (no calibration,
        # no schema, no file), on the threads scoring gives it
        model_pipe = scorer.estimator.uncalibrated_
        encoded = model_pipe[:-1].transform(X)
        steps = {
            "floor: one booster, pre-encoded rows": lambda: model_pipe[-1].predict_proba(encoded),
            "raw predict_proba": lambda: scorer.estimator.predict_proba(X),
            "salesml score --no-reasons (in process)": lambda: score_file(
                uri, src, folder / "a.parquet", reasons=False, tracking_uri=store, console=quiet
            ),
            "salesml score, reasons (in process)": lambda: score_file(
                uri, src, folder / "b.parquet", tracking_uri=store, console=quiet
            ),
        }
        for step in steps.values():  # warm-up: first calls page in code and data
            step()
        # alternating rounds, so that a slow minute of the machine hits every path alike
        runs: dict[str, list[float]] = {label: [] for label in steps}
        for _ in range(args.repeats):
            for label, step in steps.items():
                runs[label].append(timed(label, args.rows, step)["seconds"])
        summary = {label: _median_of(label, args.rows, times) for label, times in runs.items()}
        floor = summary.pop("floor: one booster, pre-encoded rows")
        results["floor"] = {**floor, "threads": int(model_pipe[-1].n_jobs)}
        encoded = None
        paths += list(summary.values())
        results["repeats"] = args.repeats
        raw, plain, full = (p["seconds"] for p in paths)
        results["overhead"] = {
            "no_reasons": plain / raw,
            "reasons": full / raw,
            "reasons_over_floor": full / floor["seconds"],
        }
        print(
            f"score with reasons {full / floor['seconds']:.2f}x the floor (target <= 1.5x: "
            f"{'met' if full / floor['seconds'] <= 1.5 else 'MISSED'})"
        )
        print(
            f"overhead without reasons {plain / raw:.2f}x (target <= 1.5x: "
            f"{'met' if plain / raw <= 1.5 else 'MISSED'}); with reasons {full / raw:.2f}x "
            f"(target <= 3x: {'met' if full / raw <= 3 else 'MISSED'})"
        )
        leads = X = None  # free the 1 M rows before the child processes
        label = f"salesml score --engine spark ({SPARK_MASTER}), reasons"
        if spark:
            spark_args = ["-m", uri, "-i", str(src), "-o", str(folder / "c.parquet")]
            spark_args += ["--engine", "spark", "--spark-master", SPARK_MASTER]
            paths.append(
                {**score_command(label, args.rows, spark_args, store), "master": SPARK_MASTER}
            )
        else:
            paths.append({"path": label, "missing": "not measured (--no-spark or no pyspark)"})
            print(f"{label}: not measured (--no-spark or no pyspark)")
        big = folder / "big.csv"
        write_big_csv(big, args.big_rows)
        big_args = ["-m", uri, "-i", str(big), "-o", str(folder / "big_scores.parquet")]
        results["big_csv"] = {
            **score_command(
                f"salesml score, {args.big_rows:,}-row CSV, reasons", args.big_rows, big_args, store
            ),
            "csv_gb": round(big.stat().st_size / 1e9, 2),
        }
    peak = results["big_csv"]["peak_mib"]
    print(
        f"{args.big_rows:,}-row CSV peak memory {peak:,.0f} MiB, target < 2,048 MiB: "
        f"{'met' if peak < 2048 else 'MISSED'}"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
