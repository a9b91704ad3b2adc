"""A finished survival run, seen again: metrics, figures and words from its test predictions.

The predictions hold one row per test customer (see :mod:`.metrics`); customers
are the resampled units. Every metric of one candidate comes from one draw of
bootstrap weights (:func:`metrics_with_cis`), the draw :meth:`SurvivalView.metric`
makes for each one alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import MIN_UNITS, bootstrap_map, interval, paired_difference
from salesml.experiment.task import Resampling, Section
from salesml.lifecycle.survival.metrics import Frame, statistic

NAN = [float("nan"), float("nan")]


def metrics_with_cis(
    predictions: pd.DataFrame, names: list[str], rs: Resampling
) -> dict[str, tuple[float, list[float]]]:
    """Every metric in ``names`` with its CI, from one set of bootstrap replicates."""
    frame = Frame(predictions)
    stats = [statistic(predictions, name, frame) for name in names]
    points = [float(stat(None)[0]) for stat in stats]
    if len(predictions) < MIN_UNITS or int(frame.event.sum()) < MIN_UNITS:
        return {name: (point, list(NAN)) for name, point in zip(names, points, strict=True)}

    def together(w: np.ndarray) -> np.ndarray:
        return np.column_stack([stat(w) for stat in stats])

    reps = np.concatenate(
        bootstrap_map(together, len(predictions), rs.bootstrap, rs.seed, rs.n_jobs)
    )
    return {
        name: (point, interval(reps[:, i][np.isfinite(reps[:, i])], rs.confidence))
        for i, (name, point) in enumerate(zip(names, points, strict=True))
    }


def observed_and_predicted(predictions: pd.DataFrame) -> pd.DataFrame:
    """Share of customers gone by each evaluation time: predicted mean against observed (IPCW)."""
    f = Frame(predictions)
    rows = []
    for t in f.eval_times:
        gone = ((f.time <= t) & f.event) * f.ipcw
        rows.append({"time": t, "predicted": float(np.mean(1 - f.s(t))), "observed": gone.mean()})
    return pd.DataFrame(rows).set_index("time")


class SurvivalView:
    """The :class:`~salesml.experiment.task.TaskView` of survival runs."""

    figures = ("survival_curves",)

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` with its bootstrap CI over customers (NaN below ten events)."""
        return metrics_with_cis(predictions, [name], rs)[name]

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus ``b`` on the same customers (paired bootstrap)."""
        ka, kb = a["customer"].sort_values().to_numpy(), b["customer"].sort_values().to_numpy()
        if not np.array_equal(ka, kb):
            raise ValueError("the two candidates were not scored on the same customers")
        sa, sb = statistic(a, name), statistic(b, name)
        point = float(sa(None)[0] - sb(None)[0])
        if len(a) < MIN_UNITS or int((a["event"] > 0).sum()) < MIN_UNITS:
            return point, list(NAN)
        return paired_difference(
            lambda w: sa(w) - sb(w), len(a), rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
        )

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """``survival_curves``: each candidate's mean predicted share gone against the observed."""
        from salesml.lifecycle.plots import gone_figure

        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        ok = [c.name for c in run.summary.candidates if c.status == "ok"]
        names = [candidate] if candidate else ok
        curves = {n: observed_and_predicted(run.predictions_of(n)) for n in names}
        return gone_figure(curves, run.summary.data.unit, Path(path))

    def headline(self, summary: Any) -> str:
        """The champion's integrated Brier score and concordance against the best rule's."""
        champ = summary.champion
        if champ is None:
            return "No model could be fitted; see the failed candidates below."
        best = summary.candidate(champ.name).metrics
        text = f"{champ.name} ranks who leaves first with Uno's C {best.get('c_uno', float('nan')):.3f}"
        if not champ.baseline:
            return text + "."
        rule = summary.candidate(champ.baseline).metrics
        metric = self.spec.metric(champ.metric)
        return (
            f"{text}, against {rule.get('c_uno', float('nan')):.3f} for the best rule, "
            f"{champ.baseline.replace('_', ' ')}; {metric.label} "
            f"{metric.format(best.get(champ.metric))} against {metric.format(rule.get(champ.metric))}."
        )

    def sections(self, summary: Any) -> list[Section]:
        """The duration guard's flags, the times measured at and the value at risk."""
        data = summary.data
        out = []
        if data.guarded:
            out.append(
                Section(
                    title="Left out: features that give the duration away",
                    paragraphs=tuple(f"{c}: {why}." for c, why in data.guarded.items())
                    + ("Set data.allow to keep one that is known when a customer joins.",),
                    warning=True,
                )
            )
        times = ", ".join(f"{t:g}" for t in data.evaluation_times)
        out.append(
            Section(
                title="Customers and times",
                paragraphs=(
                    f"{data.rows:,} customers, {data.events:,} left ({data.events / data.rows:.1%}); "
                    f"the rest are still customers (censored). Median time as a customer "
                    f"{data.median_duration:g} {data.unit}s. ROC-AUC and calibration are "
                    f"measured at {times} {data.unit}s since joining.",
                    "The exported score, P(leave within "
                    f"{max(data.horizons):g} {data.unit}s | still here), is judged at "
                    + (", ".join(f"{a:g}" for a in data.landmarks) or "no landmark")
                    + f" {data.unit}s (landmark Brier score and calibration).",
                ),
            )
        )
        ok = [c for c in summary.candidates if c.status == "ok"]
        if data.value and any("value_top_decile" in c.metrics for c in ok):
            rows = tuple(
                (
                    c.name,
                    c.role,
                    format(c.metrics["value_top_decile"], ".1%"),
                    "[{:.1%}, {:.1%}]".format(*c.metrics.get("value_top_decile_ci", NAN)),
                )
                for c in ok
                if "value_top_decile" in c.metrics
            )
            out.append(
                Section(
                    title="Value at risk",
                    paragraphs=(
                        f"Of the {data.value} lost to churn within the first "
                        f"{data.value_window:g} {data.unit}s (test customers, IPCW), the "
                        "share held by the tenth of customers each candidate ranks highest by "
                        "predicted value at risk (value x expected time lost in the window).",
                    ),
                    columns=("candidate", "role", "top decile holds", "CI"),
                    rows=rows,
                )
            )
        return out

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """The horizons and the guard, for ``MODEL_CARD.md``."""
        data = summary.data
        lines = [
            "",
            "## Scores",
            "",
            "- P(leave within h | a customer for `duration` so far) for h in "
            + ", ".join(f"{h:g}" for h in data.horizons)
            + f" {data.unit}s; expected remaining time within {data.value_window:g} {data.unit}s.",
        ]
        if data.guarded:
            lines.append("- left out by the duration guard: " + ", ".join(data.guarded) + ".")
        return lines
