"""``salesml funnel CONFIG-or-FILE``: the headline table on screen, tables and a figure on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salesml.funnel.analysis import FunnelReport, analyse_funnel, retention_curves


@dataclass
class FunnelRun:
    """A funnel analysis and where its outputs went."""

    name: str
    report: FunnelReport
    retention: pd.DataFrame | None
    folder: Path
    figure: Path


def run_funnel(
    source: str | Path, out_dir: str | Path | None = None, console: Any = None
) -> FunnelRun:
    """Analyse a funnel YAML config or an opportunities CSV/Parquet file.

    Writes ``headline.json``, ``timeline.json`` (impossible timelines: counts and
    examples), ``stages.csv``, ``by_segment.csv``, ``by_cohort.csv``,
    ``speed_to_lead.csv``, ``retention.csv`` (when there is a customers table) and
    ``funnel.png`` to ``out_dir`` (default ``reports/funnel-<name>/``).
    """
    from rich.console import Console

    from salesml.errors import DataError
    from salesml.funnel.plots import funnel_figure
    from salesml.funnel.source import detect_spec, load_config_tables, load_funnel_config
    from salesml.io.data import load_table
    from salesml.io.paths import safe_name

    source = Path(source)
    if not source.is_file():
        raise DataError(f"{source}: funnel config or data file not found")
    retention = None
    if source.suffix.lower() in (".yaml", ".yml"):
        cfg = load_funnel_config(source)
        frame, customers = load_config_tables(cfg)
        spec, name, where = cfg.spec(), cfg.name, str(cfg.data.path)
        if customers is not None:
            c = cfg.customers
            retention = retention_curves(
                customers, c.tenure, c.churned, c.horizon_months, c.segment, where=str(c.path)
            )
    else:
        frame = load_table(source).frame
        spec, name, where = detect_spec(frame, str(source)), source.stem, str(source)
    report = analyse_funnel(frame, spec, where)
    folder = Path(out_dir or Path("reports") / f"funnel-{safe_name(name)}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "headline.json").write_text(json.dumps(report.headline, indent=2), encoding="utf-8")
    timeline = [f.to_dict() for f in report.timeline]
    (folder / "timeline.json").write_text(json.dumps(timeline, indent=2), encoding="utf-8")
    report.stages.to_csv(folder / "stages.csv", index=False)
    report.by_cohort.to_csv(folder / "by_cohort.csv")
    if report.by_segment is not None:
        report.by_segment.to_csv(folder / "by_segment.csv")
    if report.speed_to_lead is not None:
        report.speed_to_lead.to_csv(folder / "speed_to_lead.csv", index=False)
    if retention is not None:
        retention.to_csv(folder / "retention.csv")
    figure = funnel_figure(report, retention, folder / "funnel.png")
    print_funnel(report, name, console or Console(width=max(Console().width, 130)))
    return FunnelRun(name, report, retention, folder, figure)


def print_funnel(report: FunnelReport, name: str, console: Any) -> None:
    """The headline and stage tables, and one line per finding."""
    from rich.markup import escape
    from rich.table import Table

    h = report.headline
    money = report.spec.amount is not None
    table = Table(title=f"{name}: the funnel in one table")
    for col in ("rows", "won", "open", "win rate", "cycle days (median, p90)", "velocity / day"):
        table.add_column(col, justify="right")
    velocity = f"{h['velocity_per_day']:,.0f}" if money else f"{h['velocity_per_day']:,.2f} deals"
    table.add_row(
        f"{h['rows']:,}",
        f"{h['won']:,}",
        f"{h['open']:,}",
        f"{h['win_rate']:.1%}",
        f"{h['cycle_days_median']:.0f}, {h['cycle_days_p90']:.0f}",
        velocity,
    )
    console.print(table)
    stages = Table(title="stage to stage")
    for col in ("stage", "reached", "moves on", "drop-off", "days in stage (median, p90)"):
        stages.add_column(col, justify="left" if col == "stage" else "right")
    for row in report.stages.itertuples():
        days = "-" if pd.isna(row.days_median) else f"{row.days_median:.1f}, {row.days_p90:.1f}"
        stages.add_row(
            row.stage, f"{row.reached:,}", f"{row.to_next:.1%}", f"{row.drop_off:.1%}", days
        )
    console.print(stages)
    for flag in report.timeline:
        console.print(f"[bold yellow]warning:[/] {escape(flag.line())}", highlight=False)
    worst = report.stages.iloc[:-1].sort_values("drop_off", ascending=False).head(1)
    if len(worst):
        w = worst.iloc[0]
        console.print(f"Deals stall most after {w['stage']}: {w['drop_off']:.0%} go no further.")
    sp = report.speed_to_lead
    if sp is not None and sp["closed"].iloc[0] > 0 and sp["closed"].iloc[-1] > 0:
        console.print(
            f"Speed to lead: answered in {sp['band'].iloc[0]}, {sp['win_rate'].iloc[0]:.0%} win; "
            f"in {sp['band'].iloc[-1]}, {sp['win_rate'].iloc[-1]:.0%}."
        )
