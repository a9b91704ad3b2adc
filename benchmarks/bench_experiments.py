"""Run the classification experiments end to end and print times and metrics.

Usage: ``python benchmarks/bench_experiments.py [CONFIG ...]`` (default: every
lead-conversion and churn config). Each run goes into a fresh temporary MLflow
store, so timings include store creation, MLflow logging and plots. Prints the
issue's targets: Telco champion ROC-AUC >= 0.845 and beating the best baseline
with the CI lower bound above 0, each demo champion beating its scorecard, and
the Telco run under 60 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [
    "experiments/churn/telco.yaml",
    "experiments/churn/demo.yaml",
    "experiments/lead_conversion/demo.yaml",
    "experiments/lead_conversion/olist.yaml",
]


def run(config: str) -> tuple[dict, float]:
    from rich.console import Console

    from salesml import load_experiment, run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SALESML_ARTIFACT_ROOT"] = f"{tmp}/artifacts"
        cfg = load_experiment(ROOT / config)
        t0 = time.perf_counter()
        summary = run_experiment(
            cfg,
            output_dir=Path(tmp) / "out",
            tracking_uri=f"sqlite:///{tmp}/mlflow.db",
            console=Console(quiet=True),
        )
        return summary, time.perf_counter() - t0


def main(configs: list[str]) -> None:
    from salesml import ci_label

    for config in configs:
        summary, seconds = run(config)
        label = ci_label(summary.experiment.confidence)
        print(f"\n== {config}: {summary.experiment.name}  {seconds:.1f} s end to end")
        for c in summary.candidates:
            m = c.metrics
            if c.status != "ok":
                print(f"  {c.name:<22} FAILED {c.error}")
                continue
            ci = m["roc_auc_ci"]
            print(
                f"  {c.name:<22} {c.role:<8} roc_auc {m['roc_auc']:.3f} {label} [{ci[0]:.3f}, {ci[1]:.3f}]"
                f"  pr_auc {m['pr_auc']:.3f}  brier {m['brier']:.4f}  lift@10 {m['lift_at_10']:.2f}"
                f"  capture@20 {m['capture_at_20']:.3f}  fit {c.fit_seconds:.2f}s"
            )
        ch = summary.champion
        if ch and ch.baseline:
            champ = summary.candidate(ch.name)
            scorecards = [
                c for c in summary.candidates if c.type == "scorecard" and c.status == "ok"
            ]
            print(
                f"  champion {ch.name} vs best baseline {ch.baseline}: "
                f"delta {ch.metric} {ch.delta:+.4f} {label} [{ch.delta_ci[0]:+.4f}, {ch.delta_ci[1]:+.4f}]"
                f"  beats_baseline={ch.beats_baseline}"
            )
            for sc in scorecards:
                won = champ.metrics["roc_auc"] > sc.metrics["roc_auc"]
                print(f"  champion beats scorecard {sc.name}: {won}")
            if "telco" in config:
                auc = champ.metrics["roc_auc"]
                print(
                    f"  TARGET telco champion roc_auc >= 0.845: {auc:.4f} "
                    f"{'OK' if auc >= 0.845 else 'MISSED'}; "
                    f"CI lower > 0: {'OK' if ch.delta_ci[0] > 0 else 'MISSED'}; "
                    f"under 60 s: {'OK' if seconds < 60 else 'MISSED'} ({seconds:.1f} s)"
                )


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
