"""Customer value at scale: ``salesml run`` on a synthetic shop log, then ``salesml score``.

``benchmarks/configs/scale_value.yaml`` on 100,000 customers (about a million order lines,
guest lines, credit notes, free samples and duplicated lines included): the log is written
first in a child process (timed apart), then ``python -m salesml run`` fits, evaluates
(bootstrap CIs over customers) and exports every candidate into a temporary MLflow store,
and ``python -m salesml score`` values every customer of the log with the exported
BG/NBD model. Wall time is each whole command, Python start-up included; peak memory is
the largest single process (``ru_maxrss``) and the sum over the process tree
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
import sys
import tempfile
from pathlib import Path

from benchlib import child_env, machine, run_child

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "scale_value.yaml"
RESULTS = HERE / "results" / "lifecycle.json"


def _check(child, what: str) -> None:  # type: ignore[no-untyped-def]
    if child.returncode != 0 or child.killed:
        raise SystemExit(
            f"{what} failed (exit {child.returncode}, {child.killed}):\n{child.tail()}"
        )


def render(payload: dict | None) -> list[str]:
    """RESULTS.md's section on customer value at scale (``lifecycle.json``)."""
    lines = ["## Customer value at scale", ""]
    if not payload:
        return [*lines, "Not measured yet: run `python benchmarks/bench_lifecycle.py`.", ""]
    target = (
        payload["total_seconds"] < 120
        and max(payload["run_peak_mib"], payload["score_peak_mib"]) < 2048
    )
    lines += [
        f"`salesml run benchmarks/configs/scale_value.yaml` on a synthetic shop log of "
        f"{payload['customers']:,} customers and {payload['lines']:,} order lines (guest "
        "lines, credit notes, free samples and duplicated lines included), then `salesml "
        "score` of every customer with the exported BG/NBD model.",
        "",
        "| step | seconds | peak MiB (largest process) |",
        "|---|---:|---:|",
        f"| run: clean, fit 4 candidates, bootstrap CIs, MLflow, export | "
        f"{payload['run_seconds']:.1f} | {payload['run_peak_mib']:,} |",
        f"| score every customer | {payload['score_seconds']:.1f} | "
        f"{payload['score_peak_mib']:,} |",
        f"| **total** | **{payload['total_seconds']:.1f}** | |",
        "",
        f"Target (under 2 minutes, under 2 GB): {'met' if target else 'missed'}. "
        f"Champion {payload['champion']} ({payload['verdict']}). Measured on "
        f"{payload['machine'].get('date', '?')}.",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    n = args.customers
    with tempfile.TemporaryDirectory(prefix="bench-value-") as tmp:
        folder = Path(tmp)
        log = folder / "transactions.csv"
        gen = run_child(
            [sys.executable, "-m", "salesml", "data", "generate", "transactions",
             "--rows", str(n), "--seed", "0", "--out", str(log)],
            timeout=1800,
        )  # fmt: skip
        _check(gen, "generating the log")
        lines = sum(1 for _ in log.open(encoding="utf-8")) - 1
        env = child_env(
            MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}",
            SALESML_ARTIFACT_ROOT=str(folder / "artifacts"),
        )
        run = run_child(
            [sys.executable, "-m", "salesml", "run", str(CONFIG), "-o", str(folder / "out"),
             "--set", f"data.path={log}", "--set", f"data.generate.rows={n}"],
            env=env, cwd=folder, timeout=1800,
        )  # fmt: skip
        _check(run, "salesml run")
        summary = json.loads((folder / "out" / "summary.json").read_text())
        uri = next(c for c in summary["candidates"] if c["name"] == "bgnbd_gamma_gamma")[
            "model_uri"
        ]
        score = run_child(
            [sys.executable, "-m", "salesml", "score", "-m", uri, "-i", str(log),
             "-o", str(folder / "value.csv")],
            env=env, cwd=folder, timeout=1800,
        )  # fmt: skip
        _check(score, "salesml score")
    champ = summary["champion"]
    result = {
        "machine": machine(),
        "customers": summary["data"]["rows"],
        "lines": lines,
        "cleaning": summary["data"]["cleaning"],
        "generate_seconds": round(gen.seconds, 1),
        "run_seconds": round(run.seconds, 1),
        "run_peak_mib": round(run.peak_mib),
        "run_tree_peak_mib": round(run.tree_peak_mib),
        "score_seconds": round(score.seconds, 1),
        "score_peak_mib": round(score.peak_mib),
        "total_seconds": round(run.seconds + score.seconds, 1),
        "champion": champ["name"],
        "verdict": champ.get("verdict"),
        "metrics": {
            c["name"]: {k: v for k, v in c["metrics"].items() if not k.endswith("_ci")}
            for c in summary["candidates"]
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{result['customers']:,} customers, {lines:,} lines: run {run.seconds:.1f} s "
        f"(peak {run.peak_mib:,.0f} MiB, tree {run.tree_peak_mib:,.0f} MiB), score "
        f"{score.seconds:.1f} s (peak {score.peak_mib:,.0f} MiB); total "
        f"{result['total_seconds']:.1f} s; champion {champ['name']} ({champ.get('verdict')})"
    )


if __name__ == "__main__":
    main()
