"""The funnel figure: stage bars, win rate by cohort, speed to lead, retention curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from salesml.funnel.analysis import FunnelReport


def funnel_figure(report: FunnelReport, retention: pd.DataFrame | None, path: Any) -> Path:
    """Funnel bars, win rate by cohort month, cycle length, speed to lead and retention (if known)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = ["funnel", "cohort", "cycle"]
    panels += ["speed"] if report.speed_to_lead is not None else []
    panels += ["retention"] if retention is not None else []
    cols = 3 if len(panels) > 4 else 2
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.2 * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(panels) :]:
        ax.set_axis_off()
    ax = dict(zip(panels, flat, strict=False))
    st = report.stages
    ax["funnel"].barh(st["stage"][::-1], st["reached"][::-1], color="C0")
    for y, (n, conv) in enumerate(zip(st["reached"][::-1], st["to_next"][::-1], strict=True)):
        ax["funnel"].text(n, y, f" {n:,} ({conv:.0%} on)", va="center", fontsize=8)
    ax["funnel"].set(title="Rows reaching each stage (share moving on)", xlabel="rows")
    coh = report.by_cohort
    ax["cohort"].plot(coh.index.astype(str), coh["win_rate"].astype(float), marker="o", ms=3)
    ax["cohort"].set(title="Win rate by cohort month (won / closed)", ylabel="win rate")
    ax["cohort"].tick_params(axis="x", rotation=60, labelsize=7)
    days = report.cycle_days
    if len(days):
        ax["cycle"].hist(days.clip(upper=days.quantile(0.99)), bins=40, color="C1")
        for q, style in ((0.5, "--"), (0.9, ":")):
            ax["cycle"].axvline(
                days.quantile(q),
                color="black",
                ls=style,
                label=f"p{int(q * 100)} {days.quantile(q):.0f} d",
            )
        ax["cycle"].legend(fontsize=8)
    ax["cycle"].set(
        title="Sales-cycle length of won deals", xlabel="days, created to won", ylabel="deals"
    )
    if "speed" in ax:
        sp = report.speed_to_lead
        ax["speed"].bar(sp["band"].astype(str), sp["win_rate"].astype(float), color="C2")
        ax["speed"].set(title="Speed to lead: win rate by first-response time", ylabel="win rate")
    if "retention" in ax:
        for col in retention.columns:
            ax["retention"].plot(retention.index, retention[col], label=str(col))
        ax["retention"].set(
            title="Customers still active, by months since signup", xlabel="month", ylim=(0, 1.02)
        )
        ax["retention"].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
