"""A finished lead-conversion or churn run, seen again: metrics, figures and words from predictions.

Everything here reads the stored test predictions (``row``, ids, ``label``,
``probability``) and the summary; nothing is refitted. Capture and lift at any
share are available on request (``capture_at_10``, ``lift_at_20``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from salesml.experiment.card import ModelCard
from salesml.experiment.evaluation import (
    MIN_UNITS,
    bootstrap_map,
    class_units,
    interval,
    paired_difference,
    ranked_groups,
    weighted_classification_metrics,
)
from salesml.experiment.results import ci_text
from salesml.experiment.task import Resampling, Section

_TOP = re.compile(r"^(capture|lift)_at_(\d{1,2})$")
_EPS = 1e-15


def weighted_top(
    y: np.ndarray, p: np.ndarray, share: float, weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Capture (share of positives found) and lift in the top ``share`` of rows by ``p``.

    Ties take the expected value under random tie-breaking, as in
    :func:`salesml.experiment.evaluation.weighted_classification_metrics`.
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    w = np.ones((1, len(y))) if weights is None else np.atleast_2d(weights)
    wpos, wneg = ranked_groups(y, p, w)
    pos = wpos.sum(1)
    total = pos + wneg.sum(1)
    group = wpos + wneg
    prev = np.cumsum(group, axis=1) - group
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((share * total[:, None] - prev) / np.maximum(group, _EPS), 0.0, 1.0)
        found = (frac * wpos).sum(1)
        return {"capture": found / pos, "lift": (found / (share * total)) / (pos / total)}


def with_ci(metrics: dict[str, Any], name: str) -> dict[str, Any]:
    """``metrics`` with NaN bounds for ``<name>_ci`` when too few rows gave none (drawn bare)."""
    if f"{name}_ci" in metrics:
        return metrics
    return {**metrics, f"{name}_ci": [float("nan"), float("nan")]}


def _statistic(name: str, y: np.ndarray, p: np.ndarray):  # -> Callable
    top = _TOP.match(name)
    if top:
        kind, share = top.group(1), int(top.group(2)) / 100
        return lambda w: weighted_top(y, p, share, w)[kind]
    probe = weighted_classification_metrics(y[:2], p[:2])
    if name not in probe:
        raise KeyError(
            f"no classification metric {name!r}; choose from {', '.join(probe)}, "
            "capture_at_N or lift_at_N (N = 1-99)"
        )
    return lambda w: weighted_classification_metrics(y, p, w)[name]


class ClassificationView:
    """The :class:`~salesml.experiment.task.TaskView` of lead-conversion and churn runs."""

    figures = ("comparison", "evaluation")

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of one candidate's test predictions, with its bootstrap CI.

        The CI is NaN, as in the run (which stores none), when the test rows have
        fewer than ``MIN_UNITS`` of either class.
        """
        y = predictions["label"].to_numpy()
        p = predictions["probability"].to_numpy(float)
        stat = _statistic(name, y, p)
        point = float(stat(None)[0])
        if class_units(y) < MIN_UNITS:
            return point, [float("nan"), float("nan")]
        reps = np.concatenate(bootstrap_map(stat, len(y), rs.bootstrap, rs.seed, rs.n_jobs))
        return point, interval(reps, rs.confidence)

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        """Metric ``name`` of ``a`` minus ``b`` on the same test rows (paired bootstrap).

        The CI is NaN when the test rows have fewer than ``MIN_UNITS`` of either class.
        """
        a, b = a.sort_values("row"), b.sort_values("row")
        if not np.array_equal(a["row"].to_numpy(), b["row"].to_numpy()):
            raise ValueError("the two candidates were not scored on the same test rows")
        y = a["label"].to_numpy()
        sa = _statistic(name, y, a["probability"].to_numpy(float))
        sb = _statistic(name, y, b["probability"].to_numpy(float))
        if class_units(y) < MIN_UNITS:
            return float(sa(None)[0] - sb(None)[0]), [float("nan"), float("nan")]
        return paired_difference(
            lambda w: sa(w) - sb(w), len(y), rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
        )

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        """``comparison`` (every candidate) or ``evaluation`` (one candidate's curves)."""
        from salesml.classify.plots import candidate_figure, comparison_figure

        exp = run.summary.experiment
        if name == "comparison":
            ok = [c.name for c in run.summary.candidates if c.status == "ok"]
            preds = {n: run.predictions_of(n) for n in ok}
            y = preds[ok[0]].sort_values("row")["label"].to_numpy()
            probs = {n: f.sort_values("row")["probability"].to_numpy() for n, f in preds.items()}
            metrics = {n: with_ci(run.summary.candidate(n).metrics, exp.primary_metric) for n in ok}
            return comparison_figure(y, probs, metrics, path, exp.primary_metric, exp.confidence)
        if name == "evaluation":
            frame = run.predictions_of(candidate)
            role = run.summary.candidate(candidate).role
            return candidate_figure(
                frame["label"].to_numpy(),
                frame["probability"].to_numpy(),
                None,
                f"{candidate} ({role})",
                path,
            )
        raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")

    def headline(self, summary: Any) -> str:
        """How many positives the champion finds in the top 20 %, against the best rule.

        The best rule is the one the verdict compares with (``champion.baseline``,
        best by the primary metric); a summary without one names the rule (not the
        no-skill floor) that finds the most.
        """
        champ = summary.champion
        if champ is None:
            return "No model could be fitted; see the failed candidates below."
        best = summary.candidate(champ.name).metrics
        key = "capture_at_20"
        if champ.baseline:
            rule = summary.candidate(champ.baseline)
        else:
            from salesml.experiment.registry import spec_for

            rules = [
                c
                for c in summary.candidates
                if c.status == "ok"
                and c.role == "baseline"
                and "floor" not in spec_for(self.spec.family, c.type).tags
            ]
            rule = max(rules, key=lambda c: c.metrics[key], default=None)
        words = self.spec.words
        text = (
            f"The model ({champ.name}) finds {best[key]:.0%} of {words['positives']} in the "
            f"top 20 % of {words['rows']}"
        )
        if rule is not None and rule.metrics.get(key) is not None:
            name = rule.name.replace("_", " ")
            name = name if rule.type == "scorecard" else f"{name} rule"
            text += f"; the {name} finds {rule.metrics[key]:.0%}"
        return text + "."

    def sections(self, summary: Any) -> list[Section]:
        """The leakage guard's flags (none for a run from before the guard)."""
        record = summary.data.leakage
        if record is None:
            return []
        flags = record.get("flags") or []
        active = sorted({f["column"] for f in flags if f["action"] != "allowed"})
        if active:
            how = {"warn": "trained on anyway", "drop": "dropped before training"}
            many = len(active) > 1
            text = (
                f"{len(active)} column{'s' if many else ''} look{'' if many else 's'} like "
                f"{'they leak' if many else 'it leaks'} the outcome "
                f"({how.get(record['on_flag'], record['on_flag'])}): {', '.join(active)}."
            )
        else:
            text = "No leakage flags"
            text += " (allowed columns only)." if flags else "."
        text += (
            f" {record['columns_checked']} feature columns checked on the training rows"
            f" (single-feature ROC-AUC threshold {record['auc_threshold']}"
            + (f", label time {record['label_time']}" if record.get("label_time") else "")
            + ")."
        )
        rows = tuple((f["column"], f["kind"], f["action"], f["evidence"]) for f in flags)
        return [
            Section(
                title="Leakage guard",
                paragraphs=(text,),
                columns=("column", "kind", "evidence", "action") if rows else (),
                rows=rows,
                warning=bool(active),
            )
        ]

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        """Calibration, tiers and top drivers for ``MODEL_CARD.md``."""
        lines: list[str] = []
        metrics = card.metrics
        if "brier" in metrics:
            before = ""
            if "brier_uncalibrated" in metrics:
                before = (
                    f" (before calibration {metrics['brier_uncalibrated']:.4f}, method "
                    f"{card.params.get('calibration')})"
                )
            lines += [
                "",
                "## Calibration",
                "",
                f"Brier score on the test part {ci_text(metrics, 'brier')}{before}. "
                f"Score: {card.facts.get('score')}.",
            ]
        if card.facts.get("tiers_test"):
            shares = ", ".join(f"{k} {v:.0%}" for k, v in card.facts.get("tier_shares", {}).items())
            lines += [
                "",
                "## Tiers",
                "",
                f"Cut points fixed on the training scores (shares of training rows: {shares}).",
                "Positive rate in each tier on the test part:",
                "",
                "| tier | score from | test rows | positives | rate |",
                "|---|---|---|---|---|",
            ]
            for t in card.facts["tiers_test"]:
                rate = "-" if t["rate"] is None else f"{t['rate']:.1%}"
                low = "-" if t["min_score"] is None else t["min_score"]
                lines.append(f"| {t['tier']} | {low} | {t['rows']} | {t['positives']} | {rate} |")
        if card.facts.get("top_drivers"):
            lines += [
                "",
                "## Top drivers",
                "",
                f"Mean absolute contribution on test rows ({card.facts.get('reasons')}):",
                "",
            ]
            for d in card.facts["top_drivers"]:
                lines.append(f"- {d['driver']}: {d['mean_abs']:.3f} {d['unit']}")
        return lines
