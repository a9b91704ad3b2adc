"""Classification plots: one six-panel figure per candidate, one comparison figure.

matplotlib is imported inside the functions with the non-interactive Agg
backend, so importing this module costs nothing and plotting works headless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.io.figures import pyplot


def _gains(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-p, kind="mergesort")
    found = np.r_[0, np.cumsum(y[order])] / max(y.sum(), 1)
    share = np.linspace(0, 1, len(y) + 1)
    return share, found


def decile_lift(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Positive rate in each score decile (top first) over the overall rate.

    Ties are broken by row order.
    """
    y = np.asarray(y, dtype=float)
    ranks = pd.Series(p).rank(method="first", ascending=False).to_numpy()
    decile = np.minimum(((ranks - 0.5) / len(y) * 10).astype(int), 9)
    rates = np.bincount(decile, weights=y, minlength=10) / np.maximum(
        np.bincount(decile, minlength=10), 1
    )
    return rates / max(y.mean(), 1e-12)


def _curves(
    ax_roc: Any, ax_pr: Any, ax_gain: Any, ax_cal: Any, y: np.ndarray, p: np.ndarray, label: str
) -> None:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    ax_roc.plot(fpr, tpr, label=label)
    prec, rec, _ = precision_recall_curve(y, p)
    ax_pr.plot(rec, prec, label=label)
    share, found = _gains(y, p)
    ax_gain.plot(share, found, label=label)
    frac, mean = calibration_curve(y, p, n_bins=10, strategy="quantile")
    ax_cal.plot(mean, frac, marker="o", ms=3, label=label)


def _decorate(ax_roc: Any, ax_pr: Any, ax_gain: Any, ax_cal: Any, base_rate: float) -> None:
    ax_roc.plot([0, 1], [0, 1], ls=":", c="grey")
    ax_roc.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    ax_pr.axhline(base_rate, ls=":", c="grey")
    ax_pr.set(title="Precision-recall", xlabel="recall", ylabel="precision")
    ax_gain.plot([0, 1], [0, 1], ls=":", c="grey")
    ax_gain.axvline(0.2, ls="--", c="grey", lw=0.8)
    ax_gain.set(
        title="Cumulative gains", xlabel="share contacted", ylabel="share of positives found"
    )
    ax_cal.plot([0, 1], [0, 1], ls=":", c="grey")
    ax_cal.set(title="Calibration", xlabel="predicted probability", ylabel="observed rate")


def candidate_figure(
    y: np.ndarray,
    p: np.ndarray,
    importance: pd.Series | None,
    title: str,
    path: Path,
) -> Path:
    """ROC, PR, gains, calibration, score distribution by class and top importances.

    Parameters
    ----------
    y, p : arrays
        Test outcomes (0/1) and predicted probabilities.
    importance : Series, optional
        Feature importance (e.g. permutation ROC-AUC drop), indexed by feature.
    """
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    (a_roc, a_pr, a_gain), (a_cal, a_dist, a_imp) = axes
    _curves(a_roc, a_pr, a_gain, a_cal, y, p, title)
    _decorate(a_roc, a_pr, a_gain, a_cal, float(np.mean(y)))
    score = 100 * p
    bins = np.linspace(0, 100, 41)
    a_dist.hist(score[y == 0], bins=bins, alpha=0.6, density=True, label="negative")
    a_dist.hist(score[y == 1], bins=bins, alpha=0.6, density=True, label="positive")
    a_dist.set(title="Score (0-100) by class", xlabel="score", ylabel="density")
    a_dist.legend()
    if importance is not None and len(importance):
        top = importance.sort_values(ascending=True).tail(15)
        a_imp.barh([str(i) for i in top.index], top.to_numpy())
        a_imp.set(title="Permutation importance (ROC-AUC drop, test)", xlabel="drop in ROC-AUC")
    else:
        a_imp.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def comparison_figure(
    y: np.ndarray,
    predictions: dict[str, np.ndarray],
    metrics: dict[str, dict[str, Any]],
    path: Path,
    metric: str = "roc_auc",
    confidence: float = 0.95,
) -> Path:
    """Every candidate's ROC, PR, gains and calibration curves, plus the metric with its CI.

    ``confidence`` is the level of the CIs in ``metrics``, shown in the panel's title.
    """
    from salesml.experiment.results import ci_label

    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    (a_roc, a_pr, a_gain), (a_cal, a_ci, a_blank) = axes  # a_blank: decile lift
    for name, p in predictions.items():
        _curves(a_roc, a_pr, a_gain, a_cal, y, p, name)
    _decorate(a_roc, a_pr, a_gain, a_cal, float(np.mean(y)))
    a_roc.legend(fontsize=8)
    names = list(metrics)
    vals = np.array([metrics[n][metric] for n in names])
    ci = np.array([metrics[n][f"{metric}_ci"] for n in names])
    ypos = np.arange(len(names))
    a_ci.errorbar(vals, ypos, xerr=[vals - ci[:, 0], ci[:, 1] - vals], fmt="o", capsize=4)
    a_ci.set_yticks(ypos, names)
    a_ci.set(title=f"{metric} with {ci_label(confidence)} (bootstrap, test)", xlabel=metric)
    width = 0.8 / max(len(predictions), 1)
    for i, (name, p) in enumerate(predictions.items()):
        a_blank.bar(
            np.arange(1, 11) + (i - len(predictions) / 2) * width,
            decile_lift(y, p),
            width,
            label=name,
        )
    a_blank.axhline(1.0, ls=":", c="grey")
    a_blank.set(
        title="Lift by score decile (1 = top 10 %)",
        xlabel="decile",
        ylabel="lift",
        xticks=range(1, 11),
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
