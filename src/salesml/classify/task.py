"""Lead-conversion and churn: data preparation, candidates and evaluation.

Documented handling of awkward input:

- id and free-text columns are never features; ``data.drop`` removes more.
- Columns entirely missing or constant (one value in every row) are dropped
  (listed in the summary under ``data.excluded``); features partly missing
  are imputed (median plus a missing indicator for logistic regression;
  native missing handling in boosting; a "missing" bin in control points).
- Categories unseen in train are pooled as ``__other__`` by the models and
  earn 0 points from control points.
- Column names with spaces or non-ASCII letters are kept as they are in the
  data, the summary and the exported model's signature; models see
  ASCII-safe names internally.
- A target with one class in train or test is an error naming the column.
- The leakage guard (:mod:`salesml.classify.leakage_guard`) checks the
  features on the training rows before anything is fitted and warns, fails
  or drops per ``leakage.on_flag``.
- A test part with fewer than ten rows of either class
  (:data:`salesml.experiment.evaluation.MIN_UNITS`) gets point metrics without
  CIs, and the comparison with the rules says "not enough data to tell": no
  champion is registered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.classify.config import ClassificationExperiment
from salesml.classify.prepare import ClassificationPrepared, feature_frame, prepare_rows
from salesml.classify.registry import (
    SEARCH_CALIBRATION_FOLDS,
    calibration_fold_models,
    calibration_folds,
)
from salesml.experiment.candidates import CandidateConfig
from salesml.experiment.results import ClassificationData
from salesml.experiment.task import ExportedModel, Outcome, ParentRecord, TaskBase
from salesml.io.figures import Drawing

__all__ = ["ClassificationTask", "build_candidate", "feature_frame"]


def build_candidate(cand: CandidateConfig, seed: int) -> Any:
    """The unfitted scikit-learn estimator of a classification candidate (see its registry entry)."""
    return cand.spec.make(seed, **cand.builder_kwargs())


@dataclass(frozen=True)
class FittedClassifier:
    """What a fit leaves for export and figures: the estimator and its permutation importance."""

    estimator: Any
    importance: pd.Series | None


class ClassificationTask(TaskBase):
    """Binary classification (``lead_conversion`` or ``churn``) with ROC-AUC as primary metric.

    :meth:`prepare` builds one frozen :class:`~salesml.classify.prepare.ClassificationPrepared`
    (``self.data``). Its test predictions (:meth:`fit_evaluate`) are a frame with
    one row per test row: ``row`` (the row's position in the file), the id
    column(s) when the config names them, ``label`` (0/1) and ``probability``.
    The exported model and the figures are made from the outcome afterwards
    (:meth:`export`, :meth:`figures`), by :mod:`salesml.classify.export` and
    :mod:`salesml.classify.plots`.
    """

    primary_metric = "roc_auc"

    def __init__(self, config: ClassificationExperiment) -> None:
        self.config = config
        self.data: ClassificationPrepared | None = None

    @property
    def prepared(self) -> ClassificationPrepared:
        """The prepared rows (:meth:`prepare` first)."""
        if self.data is None:
            raise RuntimeError("call prepare() before fitting")
        return self.data

    def prepare(self) -> ClassificationPrepared:
        """Load, validate and split the rows (:func:`~salesml.classify.prepare.prepare_rows`)."""
        self.data = prepare_rows(self.config)
        return self.data

    def plan(self, info: ClassificationData) -> list[str]:
        """The split, its sizes and the positive rate, for ``--dry-run``."""
        return [
            f"split: {info.split}, train {info.train_rows:,} rows, test {info.test_rows:,} rows, "
            f"positive rate {info.positive_rate:.1%}; {len(info.features)} features"
        ]

    def parent_record(self, info: ClassificationData) -> ParentRecord:
        """The leakage guard's record: ``leakage.json``, a tag, two params."""
        leakage = info.leakage
        if leakage is None:
            return ParentRecord()
        flagged = sorted({f["column"] for f in leakage["flags"] if f["action"] != "allowed"})
        return ParentRecord(
            dicts={"leakage.json": leakage},
            tags={"salesml.leakage": (", ".join(flagged) or "none")[:5000]},
            params={"leakage.on_flag": leakage["on_flag"], "leakage.flags": len(flagged)},
        )

    def notes(self) -> list[str]:
        """One-line verdicts for the screen: the leakage guard's flags (or that there are none)."""
        return list(self.data.guard_lines) if self.data is not None else []

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        """Fit on train, predict test, metrics with CIs and permutation importance."""
        from salesml.classify.importance import permutation_importance
        from salesml.classify.models import CalibratedModel
        from salesml.classify.search import tune
        from salesml.experiment.evaluation import (
            classification_report,
            weighted_classification_metrics,
        )

        d, cfg, ev = self.prepared, self.config, self.config.evaluation
        seed = cfg.split.seed
        est = build_candidate(candidate, seed)
        params: dict[str, Any] = dict(candidate.params)
        out_of_fold, folds = None, None
        t0 = time.perf_counter()
        if role == "model":
            refit = "refit_calibrated" in candidate.spec.tags
            if candidate.search is not None:
                found = tune(
                    candidate.spec.search_space or {},
                    est,
                    d.X_train,
                    d.y_train,
                    candidate.search.n_trials,
                    candidate.search.cv,
                    seed,
                    ev.n_jobs,
                )
                est = found.estimator
                params.update({f"best.{k}": v for k, v in found.params.items()})
                params["search.cv_roc_auc"] = round(found.cv_roc_auc, 4)
                if (
                    refit
                    and candidate.calibration != "none"
                    and found.folds >= SEARCH_CALIBRATION_FOLDS
                ):
                    # the best trial's held-out probabilities calibrate its refit
                    out_of_fold, folds = found.out_of_fold, found.folds
            est = CalibratedModel(
                est,
                method=candidate.calibration,
                cv=calibration_folds(len(d.y_train)),
                seed=seed,
                n_jobs=ev.n_jobs,
                ensemble=not refit,
                fold_models=calibration_fold_models(len(d.y_train)),
            )
            if candidate.calibration != "none":
                params["calibration.folds"] = folds or est.cv
                if out_of_fold is None and refit and est.fold_models is not None:
                    params["calibration.fold_models"] = est.fold_models
            params["calibration"] = candidate.calibration
        elif "rules" in candidate.spec.options:
            params["rules"] = len(candidate.rules)
        if out_of_fold is None:
            est.fit(d.X_train, d.y_train)
        else:
            est.fit(d.X_train, d.y_train, out_of_fold=out_of_fold)
        fit_seconds = time.perf_counter() - t0
        p = est.predict_proba(d.X_test)[:, 1]
        metrics = classification_report(
            d.y_test, p, ev.bootstrap, ev.seed, ev.confidence, ev.n_jobs
        )
        if role == "model":
            raw = est.predict_proba_uncalibrated(d.X_test)[:, 1]
            metrics["brier_uncalibrated"] = float(
                weighted_classification_metrics(d.y_test, raw)["brier"][0]
            )
        importance = None
        if np.ptp(p) > 0:  # a constant score (the prior) has no feature to rank
            sub = self._importance_rows()
            # Calibration is a monotone map, so the ranking is that of the uncalibrated
            # fit (for a model averaging its fold models, at a fifth of the cost).
            scorer = est.uncalibrated_ if role == "model" else est
            importance = permutation_importance(
                scorer, d.X_test.iloc[sub], d.y_test[sub], n_repeats=3, seed=seed
            )
            params["top_features"] = ", ".join(
                importance.sort_values(ascending=False).index[:5].map(str)
            )
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=params,
            fit_seconds=fit_seconds,
            input_example=d.X_train.head(5),
            predictions=d.test_keys.assign(label=d.y_test.astype("int8"), probability=p),
            fitted=FittedClassifier(est, importance),
        )

    def export(self, outcome: Outcome, candidate: CandidateConfig) -> ExportedModel:
        """The fitted candidate as a LeadScorer with its model card."""
        from salesml.classify.export import export_classifier

        return export_classifier(
            outcome, candidate, self.config, self.prepared, self._importance_rows(1000)
        )

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        """The candidate's ROC, precision-recall, gains and calibration curves and importance."""
        from salesml.classify.plots import candidate_figure

        args = (
            self.prepared.y_test,
            outcome.predictions["probability"].to_numpy(),
            outcome.fitted.importance,
            f"{outcome.name} ({outcome.role})",
        )
        return [Drawing(plot_dir / "evaluation.png", candidate_figure, args)]

    def datasets(self) -> dict[str, tuple[pd.DataFrame, str]]:
        """Train and test rows (features and target) for MLflow's dataset inputs."""
        d, target = self.prepared, self.config.data.target
        return {
            "train": (d.X_train.assign(**{target: d.y_train}), "training"),
            "test": (d.X_test.assign(**{target: d.y_test}), "testing"),
        }

    def _importance_rows(self, limit: int = 2000) -> np.ndarray:
        n = len(self.prepared.y_test)
        if n <= limit:
            return np.arange(n)
        rng = np.random.default_rng(self.config.split.seed)
        return np.sort(rng.choice(n, size=limit, replace=False))

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Primary metric of ``a`` minus ``b`` on the test rows, paired bootstrap CI.

        Raises
        ------
        NotEnoughData
            When the test part has fewer than ``MIN_UNITS`` rows of either class.
        """
        from salesml.experiment.evaluation import metric_difference

        ev = self.config.evaluation
        return metric_difference(
            self.prepared.y_test,
            a.predictions["probability"].to_numpy(),
            b.predictions["probability"].to_numpy(),
            self.primary_metric,
            ev.bootstrap,
            ev.seed,
            ev.confidence,
            ev.n_jobs,
        )

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Drawing]:
        from salesml.classify.plots import comparison_figure
        from salesml.classify.view import with_ci

        preds = {o.name: o.predictions["probability"].to_numpy() for o in outcomes}
        metrics = {o.name: with_ci(o.metrics, self.primary_metric) for o in outcomes}
        args = (self.prepared.y_test, preds, metrics)
        kwargs = {"metric": self.primary_metric, "confidence": self.config.evaluation.confidence}
        return [Drawing(plot_dir / "comparison.png", comparison_figure, args, kwargs)]
