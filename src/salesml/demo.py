"""``salesml demo``: generate and validate the synthetic datasets, run the demo experiments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = {"leads": "converted", "customers": "churned"}


def describe(kind: str, frame: Any) -> str:
    """One line on what a generated dataset holds, with its headline rate."""
    text = f"{kind}: {len(frame):,} rows x {frame.shape[1]} columns"
    if kind in TARGETS:
        text += f", {TARGETS[kind]} rate {frame[TARGETS[kind]].mean():.1%}"
    elif kind == "sales":
        span = f"{frame['ds'].min():%Y-%m-%d} to {frame['ds'].max():%Y-%m-%d}"
        text += f", {frame['unique_id'].nunique()} series, {span}"
    elif kind == "opportunities":
        closed = frame[frame["outcome"].isin(["won", "lost"]) & frame["qualification_at"].notna()]
        text += f", win rate among qualified {(closed['outcome'] == 'won').mean():.1%}"
    return text


def run_demo(out: Path, seed: int, sizes: dict[str, int], experiments: Path) -> list[str]:
    """Generate every synthetic dataset into ``out``, validate it, then run ``experiments/*/demo.yaml``.

    Returns the names of demo experiments in which a candidate failed.
    """
    from rich.console import Console

    from salesml.config import load_experiment
    from salesml.data import load_table, write_frame
    from salesml.runner import run_experiment
    from salesml.synthetic import GENERATORS

    console = Console(width=max(Console().width, 150))
    console.rule("salesml demo: synthetic CRM data")
    for kind, rows in sizes.items():
        path = out / f"{kind}.csv"
        write_frame(GENERATORS[kind](rows, seed), path)
        table = load_table(path)
        console.print(f"[green]ok[/] {path}: {describe(kind, table.frame)}", highlight=False)
    failed = []
    configs = sorted(experiments.glob("*/demo.yaml")) if experiments.is_dir() else []
    for path in configs:
        console.rule(f"experiment {path}")
        if path.parent.name == "funnel":  # funnel analytics, not an experiment with candidates
            from salesml.funnel.run import run_funnel

            run_funnel(path, console=console)
            continue
        cfg = load_experiment(path)
        summary = run_experiment(cfg, console=console)
        if summary.failed:
            failed.append(cfg.name)
    if not configs:
        console.print(f"no demo experiments found under {experiments}/*/demo.yaml")
    return failed
