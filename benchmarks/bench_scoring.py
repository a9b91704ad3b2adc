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

Targets: overhead at most 1.5x without reasons and 3x with reasons. Then it
scores a 5,000,000-row CSV in a fresh process and prints its peak memory
(target: under 2 GB).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def timed(label: str, rows: int, fn) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:8.2f} s  {rows / seconds:>12,.0f} rows/s")
    return seconds


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
    args = parser.parse_args(argv)

    import salesml
    from salesml.scoring.batch import score_file
    from salesml.synthetic import generate_leads

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench_scoring_") as tmp:
        folder = Path(tmp)
        uri, store = train(folder)
        model = salesml.load_model(uri, store)
        scorer = model.unwrap_python_model().scorer
        leads = generate_leads(args.rows, seed=42)
        src = folder / "leads.parquet"
        leads.to_parquet(src, index=False)
        X = scorer.prepare(salesml.feature_frame(leads, scorer.features))
        print(f"\n{args.rows:,} leads, LightGBM calibrated on 5 folds (the lead demo's)")
        raw = timed("raw predict_proba", args.rows, lambda: scorer.estimator.predict_proba(X))
        plain = timed(
            "salesml score --no-reasons",
            args.rows,
            lambda: score_file(uri, src, folder / "a.parquet", reasons=False, tracking_uri=store),
        )
        full = timed(
            "salesml score (reasons)",
            args.rows,
            lambda: score_file(uri, src, folder / "b.parquet", tracking_uri=store),
        )
        print(
            f"overhead without reasons {plain / raw:.2f}x (target <= 1.5x: "
            f"{'met' if plain / raw <= 1.5 else 'MISSED'}); with reasons {full / raw:.2f}x "
            f"(target <= 3x: {'met' if full / raw <= 3 else 'MISSED'})"
        )
        leads = X = None  # free the 1 M rows before the 5 M-row run
        big = folder / "big.csv"
        write_big_csv(big, args.big_rows)
        env = {**os.environ, "MLFLOW_TRACKING_URI": store}
        cmd = [sys.executable, "-m", "salesml", "score", "-m", uri, "-i", str(big)]
        start = time.perf_counter()
        proc = subprocess.run(
            [*cmd, "-o", str(folder / "big_scores.parquet")],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        status = "ok" if proc.returncode == 0 else f"FAILED: {proc.stderr[-500:]}"
        print(
            f"\n{args.big_rows:,}-row CSV ({big.stat().st_size / 1e9:.2f} GB) with reasons: "
            f"{seconds:.1f} s, {args.big_rows / seconds:,.0f} rows/s, peak memory {peak_mb:,.0f} MB "
            f"(target < 2,048 MB: {'met' if peak_mb < 2048 else 'MISSED'}) [{status}]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
