"""Customer lifecycle figures: holdout purchases by past frequency; churn by time since joining."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesml.io.figures import pyplot, save_figure


def frequency_figure(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Mean holdout purchases by calibration repeat purchases: actual, and each candidate's."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    actual = None
    for name, table in tables.items():
        x = np.arange(len(table))
        ax.plot(x, table["purchases"], marker="o", lw=1.2, label=name, alpha=0.8)
        actual = table
    if actual is not None:
        x = np.arange(len(actual))
        ax.plot(x, actual["actual_purchases"], "k.-", lw=2.2, label="actual")
        labels = [str(i) for i in actual.index[:-1]] + [f"{actual.index[-1]}+"]
        ax.set_xticks(x, labels)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title("Holdout purchases by past frequency: predicted against actual")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def gone_figure(tables: dict[str, pd.DataFrame], unit: str, path: Path) -> Path:
    """Share of test customers gone by each evaluation time: observed, and each candidate's."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    observed = None
    for name, table in tables.items():
        ax.plot(table.index, table["predicted"], marker="o", lw=1.2, label=name, alpha=0.8)
        observed = table
    if observed is not None:
        ax.plot(observed.index, observed["observed"], "k.-", lw=2.2, label="observed (IPCW)")
    ax.set_xlabel(f"{unit}s since joining")
    ax.set_ylabel("share of customers gone")
    ax.set_title("Churn by time since joining: predicted against observed")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
