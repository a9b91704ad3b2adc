"""The bookings backtest in one figure: forecast against actual, period by period."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesml.io.figures import pyplot, save_figure
from salesml.pipeline.metrics import units


def forecast_vs_actual(
    predictions: dict[str, pd.DataFrame], champion: str | None, path: Path
) -> Path:
    """Each candidate's forecast of total bookings per period (all segments) against the actual.

    The champion's 80 % interval (the segments' q10 and q90 added: a wider band
    than the total's own, shown as such) shades its line.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    actual = None
    for name, frame in predictions.items():
        u = units(frame)
        total = u.groupby("cutoff")[["actual", "mean", "q10", "q90"]].sum()
        x = np.arange(len(total))
        actual = total["actual"]
        width = 2.2 if name == champion else 1.0
        ax.plot(x, total["mean"], lw=width, label=name, alpha=0.9 if name == champion else 0.6)
        if name == champion:
            ax.fill_between(x, total["q10"], total["q90"], alpha=0.15, label=f"{name}: 80 % (sum)")
    if actual is not None:
        x = np.arange(len(actual))
        ax.plot(x, actual.to_numpy(), "k.-", lw=2, label="actual bookings")
        ax.set_xticks(x, list(actual.index), rotation=45, ha="right")
    ax.set_ylabel("bookings")
    ax.set_title("Period bookings: forecast at the period's start against what was booked")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return save_figure(fig, path)
