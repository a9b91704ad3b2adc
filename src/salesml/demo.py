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


# Rows (series for sales) of each synthetic dataset ``salesml demo`` generates.
DEMO_SIZES = {"leads": 20_000, "customers": 10_000, "sales": 60, "opportunities": 5_000}


def run_demo(
    out: Path, seed: int, sizes: dict[str, int], experiments: Path, real: bool = True
) -> list[str]:
    """The whole story: data, every experiment, its report, the funnels, and where to look.

    Generates every synthetic dataset into ``out`` and validates it; runs
    ``experiments/*/demo.yaml`` and (with ``real``) the real-data configs beside
    them (Telco churn, the Olist funnel, Walmart sales); writes each
    experiment's HTML report to ``reports/<name>.html`` and each funnel's
    tables and figure; ends with the paths to open and the ``mlflow ui`` command.

    Returns the names of experiments in which a candidate failed.
    """
    import time

    from rich.console import Console

    from salesml.experiment.config import load_experiment
    from salesml.io.data import load_table, write_frame
    from salesml.report.build import write_report
    from salesml.runner import mlflow_ui_hint, run_experiment
    from salesml.synthetic import GENERATORS

    started = time.perf_counter()
    console = Console(width=max(Console().width, 150))
    console.rule("salesml demo: synthetic CRM data")
    for kind, rows in sizes.items():
        path = out / f"{kind}.csv"
        write_frame(GENERATORS[kind](rows, seed), path)
        table = load_table(path)
        console.print(f"[green]ok[/] {path}: {describe(kind, table.frame)}", highlight=False)
    failed: list[str] = []
    found = sorted(experiments.glob("*/*.yaml")) if experiments.is_dir() else []
    configs = [p for p in found if p.name == "demo.yaml"]
    configs += [p for p in found if p.name != "demo.yaml" and real]
    pages: list[tuple[str, Path]] = []
    hint = ""
    for path in configs:
        console.rule(f"{'funnel' if path.parent.name == 'funnel' else 'experiment'} {path}")
        if path.parent.name == "funnel":  # funnel analytics, not an experiment with candidates
            from salesml.funnel.run import run_funnel

            result = run_funnel(path, console=console)
            pages.append((f"funnel {result.name}", result.figure))
            continue
        cfg = load_experiment(path)
        summary = run_experiment(cfg, console=console)
        if summary.failed:
            failed.append(cfg.name)
        pages.append((cfg.name, write_report(cfg.name, summary.experiment.mlflow_run_id)))
        hint = mlflow_ui_hint(summary).split("  then open ")[0]
    if not configs:
        console.print(f"no demo experiments found under {experiments}/*/demo.yaml")
        return failed
    console.rule("where to look")
    for name, page in pages:
        console.print(f"{name:<28} {page}", highlight=False)
    console.print(f"runs and models: {hint}, then http://127.0.0.1:5000", highlight=False)
    console.print(f"(the whole demo took {time.perf_counter() - started:.0f} s)")
    return failed
