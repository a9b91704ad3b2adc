"""Forecast plots: a fan chart, error by horizon step and MASE across series, and a comparison.

matplotlib is imported inside the functions with the non-interactive Agg
backend, so importing this module costs nothing and plotting works headless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesml.io.figures import pyplot, save_figure


def fan_chart(
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    name: str,
    levels: list[int],
    path: Path,
    top: int = 6,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> Path:
    """The last backtest window of the ``top`` largest series: history, actuals, forecast, intervals.

    Parameters
    ----------
    history : DataFrame
        All data, long format.
    forecasts : DataFrame
        Backtest forecasts with ``window``, ``cutoff``, ``yhat`` and ``lo-<level>``/``hi-<level>``.
    """
    plt = pyplot()
    import matplotlib.dates as mdates

    history, last = fan_rows(history, forecasts, top, id_col, time_col, target_col)
    cutoff = last["cutoff"].iloc[0]
    largest = last.groupby(id_col)[target_col].sum().nlargest(top).index  # in drawing order
    rows = int(np.ceil(len(largest) / 3)) or 1
    fig, axes = plt.subplots(rows, 3, figsize=(15, 3.6 * rows), squeeze=False)
    for ax, uid in zip(axes.ravel(), largest, strict=False):
        past = history[history[id_col] == uid]
        fut = last[last[id_col] == uid]
        ax.plot(past[time_col], past[target_col], color="0.3", lw=1, label="history")
        ax.plot(fut[time_col], fut[target_col], color="black", lw=1.5, marker=".", label="actual")
        for lv, alpha in zip(
            sorted(levels, reverse=True), np.linspace(0.15, 0.35, len(levels)), strict=False
        ):
            if f"lo-{lv}" in fut.columns:
                ax.fill_between(
                    fut[time_col],
                    fut[f"lo-{lv}"],
                    fut[f"hi-{lv}"],
                    color="C0",
                    alpha=alpha,
                    label=f"{lv}%",
                )
        ax.plot(fut[time_col], fut["yhat"], color="C0", lw=1.5, label=name)
        ax.set_title(str(uid), fontsize=9)
        locator = mdates.AutoDateLocator(maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(largest) :]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{name}: last backtest window from {cutoff:%Y-%m-%d}, {top} largest series")
    fig.tight_layout()
    return save_figure(fig, path)


def fan_rows(
    history: pd.DataFrame,
    forecasts: pd.DataFrame,
    top: int = 6,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows :func:`fan_chart` draws: the ``top`` largest series' last backtest window
    and their history before it (at most ``max(4 h, 60)`` periods each).

    Passing them to :func:`fan_chart` instead of all data draws the same figure.
    """
    last = forecasts[forecasts["window"] == forecasts["window"].max()]
    cutoff = last["cutoff"].iloc[0]
    keep = max(4 * int(last["step"].max()), 60)
    largest = last.groupby(id_col)[target_col].sum().nlargest(top).index
    past = history[history[id_col].isin(largest) & (history[time_col] < cutoff)]
    past = past.sort_values([id_col, time_col]).groupby(id_col, sort=False).tail(keep)
    return past, last[last[id_col].isin(largest)]


def error_figure(by_step: pd.Series, series_mase: pd.Series, title: str, path: Path) -> Path:
    """Scaled absolute error by horizon step, and the distribution of MASE across series."""
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.bar(by_step.index, by_step.to_numpy(), color="C0")
    ax1.set(xlabel="horizon step", ylabel="mean |error| / scale", title="error by horizon step")
    values = series_mase.to_numpy(float)
    ax2.hist(values[np.isfinite(values)], bins=min(30, max(5, len(values) // 3)), color="C1")
    ax2.axvline(np.nanmean(values), color="black", ls="--", label=f"mean {np.nanmean(values):.3f}")
    ax2.axvline(1.0, color="0.5", ls=":", label="1 = in-sample seasonal naive")
    ax2.set(xlabel="MASE", ylabel="series", title="MASE across series")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def comparison_figure(
    by_step: dict[str, pd.Series], series_mase: dict[str, pd.Series], path: Path
) -> Path:
    """All candidates: error by horizon step, and MASE across series (box plots)."""
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    for name, s in by_step.items():
        ax1.plot(s.index, s.to_numpy(), marker=".", label=name)
    ax1.set(xlabel="horizon step", ylabel="mean |error| / scale", title="error by horizon step")
    ax1.legend(fontsize=8)
    names = list(series_mase)
    data = [series_mase[n].dropna().to_numpy() for n in names]
    ax2.boxplot(data, showmeans=True)
    ax2.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=8)
    ax2.axhline(1.0, color="0.5", ls=":")
    ax2.set(ylabel="MASE per series", title="MASE across series")
    fig.tight_layout()
    return save_figure(fig, path)
