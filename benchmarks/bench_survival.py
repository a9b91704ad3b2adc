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
import json
import sys
import tempfile
from pathlib import Path

from benchlib import child_env, machine, run_child

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "scale_survival.yaml"
RESULTS = HERE / "results" / "survival.json"


def _check(child, what: str) -> None:  # type: ignore[no-untyped-def]
    if child.returncode != 0 or child.killed:
        raise SystemExit(
            f"{what} failed (exit {child.returncode}, {child.killed}):\n{child.tail()}"
        )


def render(payload: dict | None) -> list[str]:
    """RESULTS.md's section on time to churn at scale (``survival.json``)."""
    lines = ["## Time to churn at scale", ""]
    if not payload:
        return [*lines, "Not measured yet: run `python benchmarks/bench_survival.py`.", ""]
    target = (
        payload["total_seconds"] < 120
        and max(payload["run_peak_mib"], payload["score_peak_mib"]) < 2048
    )
    lines += [
        f"`salesml run benchmarks/configs/scale_survival.yaml` on {payload['customers']:,} "
        "synthetic SaaS customers, then `salesml score` of every customer with the exported "
        "champion.",
        "",
        "| step | seconds | peak MiB (largest process) |",
        "|---|---:|---:|",
        f"| run: 2 rules, Cox, hazard LightGBM, bootstrap CIs, MLflow, export | "
        f"{payload['run_seconds']:.1f} | {payload['run_peak_mib']:,} |",
        f"| score every customer, with reasons | {payload['score_seconds']:.1f} | "
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
    with tempfile.TemporaryDirectory(prefix="bench-survival-") as tmp:
        folder = Path(tmp)
        data = folder / "customers.csv"
        gen = run_child(
            [sys.executable, "-m", "salesml", "data", "generate", "customers",
             "--rows", str(n), "--seed", "0", "--out", str(data)],
            timeout=1800,
        )  # fmt: skip
        _check(gen, "generating the customers")
        env = child_env(
            MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}",
            SALESML_ARTIFACT_ROOT=str(folder / "artifacts"),
        )
        run = run_child(
            [sys.executable, "-m", "salesml", "run", str(CONFIG), "-o", str(folder / "out"),
             "--set", f"data.path={data}", "--set", f"data.generate.rows={n}"],
            env=env, cwd=folder, timeout=1800,
        )  # fmt: skip
        _check(run, "salesml run")
        summary = json.loads((folder / "out" / "summary.json").read_text())
        champ = summary["champion"]
        score = run_child(
            [sys.executable, "-m", "salesml", "score", "-m", champ["model_uri"], "-i",
             str(data), "-o", str(folder / "scored.csv")],
            env=env, cwd=folder, timeout=1800,
        )  # fmt: skip
        _check(score, "salesml score")
    result = {
        "machine": machine(),
        "customers": summary["data"]["rows"],
        "generate_seconds": round(gen.seconds, 1),
        "run_seconds": round(run.seconds, 1),
        "run_peak_mib": round(run.peak_mib),
        "run_tree_peak_mib": round(run.tree_peak_mib),
        "score_seconds": round(score.seconds, 1),
        "score_peak_mib": round(score.peak_mib),
        "total_seconds": round(run.seconds + score.seconds, 1),
        "champion": champ["name"],
        "verdict": champ.get("verdict"),
        "fit_seconds": {c["name"]: c["fit_seconds"] for c in summary["candidates"]},
        "metrics": {
            c["name"]: {k: v for k, v in c["metrics"].items() if not k.endswith("_ci")}
            for c in summary["candidates"]
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{result['customers']:,} customers: run {run.seconds:.1f} s (peak "
        f"{run.peak_mib:,.0f} MiB), score {score.seconds:.1f} s (peak {score.peak_mib:,.0f} "
        f"MiB); total {result['total_seconds']:.1f} s; champion {champ['name']} "
        f"({champ.get('verdict')})"
    )


if __name__ == "__main__":
    main()
