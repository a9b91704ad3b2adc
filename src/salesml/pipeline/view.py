"""A finished bookings run, seen again: metrics, figures and words from its backtest predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import bootstrap_map, interval, paired_difference
from salesml.experiment.task import Resampling, Section
from salesml.pipeline.metrics import enough, statistic, units

NAN = [float("nan"), float("nan")]


class BookingsView:
    """The :class:`~salesml.experiment.task.TaskView` of bookings runs."""

    figures = ("forecast_vs_actual",)

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` with its bootstrap CI over periods x segments (deals for deal metrics).

        The CI is NaN with fewer than ten units: not enough data to tell.
        """
        stat, n = statistic(predictions, name)
        point = float(stat(None)[0])
        if not enough(n):
            return point, list(NAN)
        reps = np.concatenate(bootstrap_map(stat, n, rs.bootstrap, rs.seed, rs.n_jobs))
        return point, interval(reps, rs.confidence)

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus ``b`` on the same periods x segments (paired bootstrap)."""
        ua, ub = units(a), units(b)
        keys = ["cutoff", "segment"]
        if not ua[keys].reset_index(drop=True).equals(ub[keys].reset_index(drop=True)):
            raise ValueError("the two candidates were not scored on the same periods and segments")
        sa, na = statistic(a, name)
        sb, nb = statistic(b, name)
        point = float(sa(None)[0] - sb(None)[0])
        if na != nb or not enough(na):
            return point, list(NAN)
        return paired_difference(
            lambda w: sa(w) - sb(w), na, rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
        )

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """``forecast_vs_actual``: every candidate's period totals against the actual bookings."""
        from salesml.pipeline.plots import forecast_vs_actual

        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        ok = [c.name for c in run.summary.candidates if c.status == "ok"]
        champ = run.summary.champion
        return forecast_vs_actual(
            {n: run.predictions_of(n) for n in ok}, champ.name if champ else None, Path(path)
        )

    def headline(self, summary: Any) -> str:
        """The champion's period error against the best rule's, in plain words."""
        champ = summary.champion
        if champ is None:
            return "No model could be fitted; see the failed candidates below."
        key = champ.metric
        best = summary.candidate(champ.name).metrics.get(key)
        if not champ.baseline:
            return f"The best bookings forecast, {champ.name}, has a mean error of {best:,.0f}."
        ref = summary.candidate(champ.baseline).metrics.get(key)
        gain = 1 - best / ref if ref else 0.0
        word = "below" if gain >= 0 else "above"
        return (
            f"The bookings forecast's period error ({champ.name}) is {abs(gain):.0%} {word} "
            f"that of the best rule, {champ.baseline.replace('_', ' ')} ({best:,.0f} against "
            f"{ref:,.0f} a period and segment)."
        )

    def sections(self, summary: Any) -> list[Section]:
        """The backtest's periods and what the snapshots could not know as of their day."""
        data = summary.data
        paragraphs = [
            f"Forecast at the start of each of {len(data.cutoffs)} {data.period}s "
            f"({data.cutoffs[0]} to {data.cutoffs[-1]}), by {len(data.segments)} segment(s): "
            f"{len(data.cutoffs) * len(data.segments)} periods x segments."
            if data.cutoffs
            else "No backtest periods."
        ]
        if not data.history:
            paragraphs.append(
                "No stage history: a deal's stage, time in stage and expected close date as of "
                "a forecast's day are unknown, so the rules that need them cannot run, and the "
                "deal model sees today's amounts (amounts revised later leak into the past)."
            )
        sections = [
            Section(title="Backtest", paragraphs=tuple(paragraphs), warning=not data.history)
        ]
        champ = summary.champion
        ahead = (getattr(data, "next_period", None) or {}).get(champ.name if champ else "")
        if ahead:
            sections.append(_this_period(champ.name, ahead))
        return sections

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """The periods the model was backtested on, for ``MODEL_CARD.md``."""
        data = summary.data
        return ["", "## Periods", "", f"- {data.period}s, {', '.join(data.cutoffs)}."]


def _this_period(name: str, ahead: dict[str, Any]) -> Section:
    """The champion's forecast of the period after the data, and the deals that drive it."""
    segs = {r["segment"]: r for r in ahead["segments"]}
    total = segs.pop("total", None)
    parts = [
        f"{s}: {r['mean']:,.0f} (80 %: {r['q10']:,.0f} to {r['q90']:,.0f})" for s, r in segs.items()
    ]
    head = f"{name} forecasts the bookings of {ahead['period']}, as of {ahead['as_of']}"
    if total is not None:
        head += (
            f": {total['mean']:,.0f} in total (80 %: {total['q10']:,.0f} to "
            f"{total['q90']:,.0f}), {total['booked']:,.0f} of it booked already"
        )
    rows = tuple(
        (
            str(d["opportunity_id"]),
            str(d["segment"]),
            str(d["stage"]),
            f"{d['amount']:,.0f}",
            f"{d['probability']:.0%}",
            f"{d['expected']:,.0f}",
            str(d.get("reason_1") or "-"),
        )
        for d in ahead["deals"]
    )
    return Section(
        title="This period",
        paragraphs=(
            head + ".",
            "By segment: " + "; ".join(parts) + ".",
            "The deals that drive it:",
        ),
        columns=("deal", "segment", "stage", "amount", "P(won)", "expected", "first reason"),
        rows=rows,
    )
