"""A finished forecast run, seen again: metrics, figures and words from its backtest predictions.

Everything here reads the stored backtest frame of each candidate
(``unique_id, ds, y, yhat, window, cutoff, step, scale, scale2`` and the
interval bounds ``lo-<level>``/``hi-<level>``) and the summary; nothing is
refitted. Rows of window 0 (the calibration origin) are never scored.

Every metric is a ratio of per-series sums, so one weighted product gives the
point value (all weights 1) and every bootstrap replicate (weights = how often
each series was drawn): series are the resampled units, as in the run. With
fewer than ten series the units are horizon-long blocks of scored periods
(circular block bootstrap over the time positions of the backtest), and with
fewer than ten of those too the CI is NaN: not enough data to tell
(:class:`~salesml.forecast.metrics.ForecastUnits`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import (
    bootstrap_map,
    interval,
    mean_difference,
    paired_difference,
)
from salesml.experiment.task import Resampling, Section
from salesml.forecast.metrics import (
    TimeGrid,
    evaluate_forecasts,
    grid_mase,
    grid_ratio,
    grid_rmsse,
    point_terms,
    time_grid,
    units_of,
)

ID = "unique_id"
_COVERAGE = re.compile(r"^coverage_(\d+)$")
_BOUND = re.compile(r"^lo-(\d+)$")
# Means over series of a per-series value (each series weighs the same); qloss needs bounds.
_MEANS = ("mase", "rmsse", "qloss")
# Pooled over points: numerator and denominator sums per series.
_RATIOS = {
    "wape": ("ae", "ay"),
    "smape": ("sm", "n"),
    "bias": ("err", "ay"),
    "abs_bias": ("err", "ay"),
}


def levels_of(predictions: pd.DataFrame) -> list[int]:
    """The interval levels whose bounds the predictions hold (``lo-80`` gives 80)."""
    found = (_BOUND.match(str(c)) for c in predictions.columns)
    return sorted(int(m.group(1)) for m in found if m and f"hi-{m.group(1)}" in predictions)


def series_table(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per scored series (sorted by id): MASE, RMSSE and the sums the pooled metrics divide.

    Parameters
    ----------
    predictions : DataFrame
        One candidate's backtest frame; rows of window 0 are left out.

    Returns
    -------
    DataFrame
        Indexed by ``unique_id``: ``mase``, ``rmsse`` and (with interval bounds)
        ``qloss`` as in :func:`~salesml.forecast.metrics.evaluate_forecasts`, and the sums
        ``ae`` (absolute errors), ``ay`` (absolute actuals), ``err`` (signed
        errors, forecast minus actual), ``sm`` (sMAPE terms), ``n`` (points)
        and ``in-<level>`` (actuals inside the interval).
    """
    fc = predictions[predictions["window"] > 0]
    if fc.empty:
        raise ValueError("the predictions have no scored rows (window > 0)")
    _, per_series, _ = evaluate_forecasts(fc, levels_of(fc))
    y, yhat = fc["y"].to_numpy(float), fc["yhat"].to_numpy(float)
    den = np.abs(y) + np.abs(yhat)
    cols: dict[str, Any] = {
        ID: fc[ID].to_numpy(),
        "ae": np.abs(y - yhat),
        "ay": np.abs(y),
        "err": yhat - y,
        "sm": np.where(den > 0, 2 * np.abs(y - yhat) / np.where(den > 0, den, 1), 0.0),
        "n": np.ones(len(fc)),
    }
    for lv in levels_of(fc):
        lo, hi = fc[f"lo-{lv}"].to_numpy(float), fc[f"hi-{lv}"].to_numpy(float)
        cols[f"in-{lv}"] = ((y >= lo) & (y <= hi)).astype(float)
    sums = pd.DataFrame(cols).groupby(ID, sort=True).sum()
    return per_series[[c for c in _MEANS if c in per_series]].join(sums)


def _parts(table: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator per series of metric ``name``."""
    if name in _MEANS and name in table:
        return np.ascontiguousarray(table[name].to_numpy(float)), np.ones(len(table))
    if name in _RATIOS:
        num, den = _RATIOS[name]
    elif _COVERAGE.match(name) and f"in-{name.split('_')[1]}" in table:
        num, den = f"in-{name.split('_')[1]}", "n"
    else:
        cover = [f"coverage_{c[3:]}" for c in table.columns if c.startswith("in-")]
        raise KeyError(
            f"no forecast metric {name!r}; choose from "
            + ", ".join([*(m for m in _MEANS if m in table), *_RATIOS, *cover])
        )
    return (
        np.ascontiguousarray(table[num].to_numpy(float)),
        np.ascontiguousarray(table[den].to_numpy(float)),
    )


def _ratio(name: str, num: np.ndarray, den: np.ndarray):  # -> Callable
    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            value = np.array([num.sum() / den.sum()])
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = (w @ num) / (w @ den)
        return np.abs(value) if name == "abs_bias" else value

    return stat


class ForecastView:
    """The :class:`~salesml.experiment.task.TaskView` of forecast runs."""

    figures = ("comparison", "errors", "fan_chart")

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of one candidate's backtest, with its bootstrap CI (series or blocks)."""
        table = series_table(predictions)
        num, den = _parts(table, name)
        units = units_of(_scored(predictions), len(table))
        if units.kind == "series" and name in _MEANS:  # the run's mase_ci: mean difference from 0
            return mean_difference(num, np.zeros(len(num)), *_args(rs))
        if units.kind == "series":
            stat = _ratio(name, num, den)
            reps = np.concatenate(bootstrap_map(stat, len(num), rs.bootstrap, rs.seed, rs.n_jobs))
            return float(stat(None)[0]), interval(reps, rs.confidence)
        point = float(_ratio(name, num, den)(None)[0])
        if units.kind is None:
            return point, [float("nan"), float("nan")]
        grid = time_grid(point_terms(_scored(predictions)))
        stat = _grid_statistic(grid, name)
        reps = bootstrap_map(stat, grid.positions, rs.bootstrap, rs.seed, rs.n_jobs, units.block)
        return point, interval(np.concatenate(reps), rs.confidence)

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus ``b`` over the series both scored (paired bootstrap).

        The CI is NaN when there are too few series and blocks (the run's verdict
        is then "not enough data to tell").
        """
        ta, tb = series_table(a), series_table(b)
        common = ta.index.intersection(tb.index).sort_values()
        if common.empty:
            raise ValueError("the two candidates scored no series in common")
        na, da = _parts(ta.loc[common], name)
        nb, db = _parts(tb.loc[common], name)
        scored = _scored(a)
        units = units_of(scored[scored[ID].isin(common)], len(common))
        if units.kind == "series" and name in _MEANS:  # what the runner's champion delta is
            return mean_difference(na, nb, *_args(rs))
        sa, sb = _ratio(name, na, da), _ratio(name, nb, db)
        if units.kind == "series":
            return paired_difference(lambda w: sa(w) - sb(w), len(common), *_args(rs))
        point = float(sa(None)[0] - sb(None)[0])
        if units.kind is None:
            return point, [float("nan"), float("nan")]
        ga, gb = (time_grid(point_terms(_scored(f)), common) for f in (a, b))
        ga_stat, gb_stat = _grid_statistic(ga, name), _grid_statistic(gb, name)
        _, ci = paired_difference(
            lambda w: ga_stat(w) - gb_stat(w), ga.positions, *_args(rs), units.block
        )
        return point, ci

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """``comparison`` (every candidate), ``errors`` or ``fan_chart`` (one candidate)."""
        from salesml.forecast.plots import comparison_figure, error_figure, fan_chart

        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        path = Path(path)
        if name == "comparison":
            by_step, per_series = {}, {}
            for n in _ok(run.summary):
                fc = run.predictions_of(n)
                _, series, steps = evaluate_forecasts(fc[fc["window"] > 0], [])
                by_step[n], per_series[n] = steps, series["mase"]
            return comparison_figure(by_step, per_series, path)
        champ = run.summary.champion
        candidate = candidate or (champ.name if champ else _ok(run.summary)[0])
        fc = run.predictions_of(candidate)
        scored = fc[fc["window"] > 0]
        if name == "errors":
            _, series, steps = evaluate_forecasts(scored, [])
            title = f"{candidate} ({run.summary.candidate(candidate).role})"
            return error_figure(steps, series["mase"], title, path)
        # history: the actuals of every backtest window (the stored frame holds no more)
        history = fc[[ID, "ds", "y"]].drop_duplicates([ID, "ds"]).sort_values([ID, "ds"])
        return fan_chart(history, scored, candidate, levels_of(fc), path)

    def headline(self, summary: Any) -> str:
        """The champion's MASE against the best rule's, in plain words."""
        champ = summary.champion
        if champ is None:
            return "No model could be fitted; see the failed candidates below."
        key, label = self.spec.primary_metric, self.spec.primary.label
        best = summary.candidate(champ.name).metrics[key]
        if not champ.baseline:
            return f"The best forecast, {champ.name}, has a {label} of {best:.3f}."
        ref = summary.candidate(champ.baseline).metrics[key]
        gain = 1 - best / ref
        word = "below" if gain >= 0 else "above"
        return (
            f"The forecast's error ({champ.name}) is {abs(gain):.0%} {word} "
            f"{champ.baseline.replace('_', ' ')}'s ({label} {best:.3f} against {ref:.3f})."
        )

    def sections(self, summary: Any) -> list[Section]:
        """Series on a simpler (fallback) form, and series too new to be scored; [] if none."""
        data = summary.data
        fallbacks = getattr(data, "fallbacks", None) or {}
        rows = tuple(
            (name, form, str(n))
            for name, counts in fallbacks.items()
            for form, n in (counts or {}).items()
            if n
        )
        unscored = list(getattr(data, "unscored", None) or {})
        if not rows and not unscored:
            return []
        paragraphs = []
        if rows:
            paragraphs.append(
                "Series too short for a candidate's model were forecast by its non-seasonal "
                "form, then by naive (salesml.forecast.fallback); counts per candidate below."
            )
        if unscored:
            shown = ", ".join(unscored[:10]) + (", ..." if len(unscored) > 10 else "")
            many = len(unscored) > 1
            paragraphs.append(
                f"{len(unscored)} series start{'' if many else 's'} inside the last backtest "
                f"window: forecast, but not scored ({shown})."
            )
        return [
            Section(
                title="Short and new series",
                paragraphs=tuple(paragraphs),
                columns=("candidate", "form", "series") if rows else (),
                rows=rows,
            )
        ]

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """The series a forecaster refuses or forecasts more simply, for ``MODEL_CARD.md``."""
        lines = ["", "## Series", "", f"- Unknown series: {card.facts.get('unknown_series')}."]
        if card.facts.get("short_series"):
            lines.append(f"- Short series: {card.facts['short_series']}.")
        return lines


def _scored(predictions: pd.DataFrame) -> pd.DataFrame:
    return predictions[predictions["window"] > 0]


def _grid_statistic(grid: TimeGrid, name: str):  # -> Callable
    """Metric ``name`` of each row of weights over the time positions of ``grid``."""
    if name == "mase":
        return grid_mase(grid)
    if name == "qloss":
        return grid_mase(grid, "q")
    if name == "rmsse":
        return grid_rmsse(grid)
    if name in _RATIOS:
        num, den = _RATIOS[name]
        return grid_ratio(grid, num, den, absolute=name == "abs_bias")
    level = name.split("_")[1]  # coverage_<level>; _parts has checked it exists
    return grid_ratio(grid, f"in-{level}", "n")


def _ok(summary: Any) -> list[str]:
    return [c.name for c in summary.candidates if c.status == "ok"]


def _args(rs: Resampling) -> tuple[int, int, float, int]:
    return rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
