"""A finished customer-value run, seen again: metrics and figures from its holdout predictions.

The predictions hold one row per customer: ``customer``, ``frequency`` (repeat
purchases in the calibration period), ``purchases`` and ``spend`` predicted for
the holdout, ``actual_purchases``, ``actual_spend`` and, for models that give
it, ``p_alive``. Customers are the resampled units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import (
    MIN_UNITS,
    bootstrap_map,
    interval,
    paired_difference,
    weighted_classification_metrics,
)
from salesml.experiment.task import Resampling, Section
from salesml.experiment.weighted import Statistic, weighted_mean, weighted_ratio

NAN = [float("nan"), float("nan")]


def _corr(x: np.ndarray, y: np.ndarray) -> Statistic:
    def stat(w: np.ndarray | None) -> np.ndarray:
        w = np.ones((1, len(x))) if w is None else w
        n = w.sum(1)
        mx, my = w @ x / n, w @ y / n
        cov = w @ (x * y) / n - mx * my
        vx, vy = w @ (x * x) / n - mx**2, w @ (y * y) / n - my**2
        with np.errstate(divide="ignore", invalid="ignore"):
            return cov / np.sqrt(vx * vy)

    return stat


def statistic(predictions: pd.DataFrame, name: str) -> Statistic:
    """Metric ``name`` as a statistic of customer weights."""
    p = predictions.sort_values("customer", kind="stable")
    f, y = p["purchases"].to_numpy(float), p["actual_purchases"].to_numpy(float)
    fs, ys = p["spend"].to_numpy(float), p["actual_spend"].to_numpy(float)
    if name == "purchases_mae":
        return weighted_mean(np.abs(f - y))
    if name == "spend_mae":
        return weighted_mean(np.abs(fs - ys))
    if name == "purchases_corr":
        return _corr(f, y)
    if name == "total_purchases_error":
        return weighted_ratio(f - y, y)
    if name == "total_spend_error":
        return weighted_ratio(fs - ys, ys)
    if name == "return_auc":
        came_back = (y > 0).astype(float)
        return lambda w: weighted_classification_metrics(came_back, f, w)["roc_auc"]
    raise KeyError(f"no customer-value metric {name!r}")


def by_frequency(predictions: pd.DataFrame, top: int = 7) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases by calibration repeat purchases (0..top+)."""
    group = predictions["frequency"].clip(upper=top).astype(int)
    out = predictions.groupby(group)[["purchases", "actual_purchases"]].mean()
    out["customers"] = predictions.groupby(group).size()
    return out.rename_axis("repeat purchases")


def metrics_with_cis(
    predictions: pd.DataFrame, names: list[str], rs: Resampling
) -> dict[str, tuple[float, list[float]]]:
    """Every metric in ``names`` with its CI, from one set of bootstrap replicates.

    Drawing the customers' weights costs more than any metric computed from them (a
    thousand replicates of 100,000 customers); one draw serves all the metrics, and the
    replicates are those :meth:`ValueView.metric` draws for each one alone (same seed).
    """
    stats = [statistic(predictions, name) for name in names]
    points = [float(stat(None)[0]) for stat in stats]
    if len(predictions) < MIN_UNITS:
        return {name: (point, list(NAN)) for name, point in zip(names, points, strict=True)}

    def together(w: np.ndarray) -> np.ndarray:
        return np.column_stack([stat(w) for stat in stats])

    reps = np.concatenate(
        bootstrap_map(together, len(predictions), rs.bootstrap, rs.seed, rs.n_jobs)
    )
    return {
        name: (point, interval(reps[:, i], rs.confidence))
        for i, (name, point) in enumerate(zip(names, points, strict=True))
    }


class ValueView:
    """The :class:`~salesml.experiment.task.TaskView` of customer-value runs."""

    figures = ("by_frequency",)

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` with its bootstrap CI over customers (NaN below ten customers)."""
        stat = statistic(predictions, name)
        point = float(stat(None)[0])
        if len(predictions) < MIN_UNITS:
            return point, list(NAN)
        reps = np.concatenate(
            bootstrap_map(stat, len(predictions), rs.bootstrap, rs.seed, rs.n_jobs)
        )
        return point, interval(reps, rs.confidence)

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus ``b`` on the same customers (paired bootstrap)."""
        ka, kb = a["customer"].sort_values().to_numpy(), b["customer"].sort_values().to_numpy()
        if not np.array_equal(ka, kb):
            raise ValueError("the two candidates were not scored on the same customers")
        sa, sb = statistic(a, name), statistic(b, name)
        if len(a) < MIN_UNITS:
            return float(sa(None)[0] - sb(None)[0]), list(NAN)
        return paired_difference(
            lambda w: sa(w) - sb(w), len(a), rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
        )

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """``by_frequency``: predicted against actual holdout purchases by past frequency."""
        from salesml.lifecycle.plots import frequency_figure

        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        ok = [c.name for c in run.summary.candidates if c.status == "ok"]
        return frequency_figure({n: by_frequency(run.predictions_of(n)) for n in ok}, Path(path))

    def headline(self, summary: Any) -> str:
        """The champion's purchase error against the best rule's, in plain words."""
        champ = summary.champion
        if champ is None:
            return "No model could be fitted; see the failed candidates below."
        best = summary.candidate(champ.name).metrics.get(champ.metric)
        if not champ.baseline:
            return f"The best customer-value model, {champ.name}, has an error of {best:.3f}."
        ref = summary.candidate(champ.baseline).metrics.get(champ.metric)
        gain = 1 - best / ref if ref else 0.0
        word = "below" if gain >= 0 else "above"
        return (
            f"Per customer, {champ.name}'s holdout purchase error is {abs(gain):.0%} {word} "
            f"that of the best rule, {champ.baseline.replace('_', ' ')} "
            f"({best:.3f} against {ref:.3f} purchases)."
        )

    def sections(self, summary: Any) -> list[Section]:
        """How the transaction log was cleaned."""
        data = summary.data
        return [
            Section(
                title="Transactions",
                paragraphs=(
                    f"Calibration to {data.calibration_end}, holdout to {data.holdout_end}: "
                    f"{data.rows:,} customers.",
                    data.cleaning_line,
                ),
            )
        ]

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """The periods, for ``MODEL_CARD.md``."""
        data = summary.data
        return [
            "",
            "## Periods",
            "",
            f"- calibration to {data.calibration_end}, holdout to {data.holdout_end}.",
        ]
