"""Every lead-conversion and churn candidate, declared once.

Baselines are the rules a sales team uses; models are scikit-learn pipelines
built by :func:`salesml.classify.models.estimator_pipeline` from the estimator
class, its input encoding and its defaults given here. Adding a classifier is
one :func:`_model` entry (plus its test). Each entry's tags (:data:`TAGS`)
declare what it can do; tests/test_registry.py checks every claim. Nothing
heavy is imported here.
"""

from __future__ import annotations

import numpy as np

from salesml.experiment.registry import CandidateSpec, Param
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec

_MODELS = "salesml.classify.models:estimator_pipeline"

# Folds of every model's probability calibration (CalibratedModel; none with
# ``calibration: none``). Each class needs at least this many training rows.
CALIBRATION_FOLDS = 5
# Above this many training rows three folds calibrate as well (each holds out more
# than 66,000 rows), and a model refitted on all rows (``refit_calibrated``) fits only the
# first fold's model: its held-out third calibrates the map. A million leads fit 2
# models a candidate, not 6.
LARGE_TRAINING = 200_000


def calibration_folds(rows: int) -> int:
    """Calibration folds for ``rows`` training rows: :data:`CALIBRATION_FOLDS`, or 3 above
    :data:`LARGE_TRAINING` rows."""
    return 3 if rows > LARGE_TRAINING else CALIBRATION_FOLDS


# A search with at least this many folds calibrates its refit on its best trial's
# out-of-fold probabilities; with 2 folds each fold model saw half the rows, and its
# probabilities calibrated the refit worse than 5 calibration folds (regression case:
# Brier 0.1132 -> 0.1138), so 2-fold searches fit the calibration folds as before.
SEARCH_CALIBRATION_FOLDS = 3


def calibration_fold_models(rows: int) -> int | None:
    """Fold models a refitted, calibrated model fits for ``rows`` training rows: all (None),
    or the first only above :data:`LARGE_TRAINING` rows (a held-out third of more than
    66,000 rows is ample for the map)."""
    return 1 if rows > LARGE_TRAINING else None


# What a classification candidate's tags mean (shown by `salesml candidates`).
TAGS: dict[str, str] = {
    "rules": "scores rows by rules written in the config (rules:)",
    "points": "a 0-100 score from points per rule or attribute (contributions per row)",
    "native_categoricals": "the estimator splits on categories itself (no one-hot encoding)",
    "floor": "ignores the features: the no-skill floor, not a rule a sales team uses",
    "refit_calibrated": "predicts with one model fitted on all train rows, calibrated on "
    "out-of-fold probabilities (others average one calibrated model per fold)",
}


def _model(
    type_: str,
    estimator: str,
    encoding: str,
    description: str,
    defaults: dict[str, object],
    search_space: dict[str, list[object]],
    refit_calibrated: bool = False,
) -> CandidateSpec:
    """A model entry: ``estimator`` (``module:Class``) behind salesml's frame encoder
    (tagged ``native_categoricals`` with the ``native`` encoding).

    ``refit_calibrated`` where the refitted model calibrated on out-of-fold
    probabilities is measured as well calibrated as the average of the calibrated
    fold models (:mod:`salesml.classify.calibration`; tests/classify/test_calibration.py).
    """
    tags = {"native_categoricals"} if encoding == "native" else set()
    return CandidateSpec(
        type=type_,
        family="classification",
        role="model",
        description=description,
        build=_MODELS,
        fixed={"estimator": estimator, "encoding": encoding, "defaults": defaults},
        passthrough=estimator,
        options=("search", "calibration"),
        search_space=search_space,
        tags=frozenset(tags | ({"refit_calibrated"} if refit_calibrated else set())),
    )


CANDIDATES: tuple[CandidateSpec, ...] = (
    CandidateSpec(
        type="prior",
        family="classification",
        role="baseline",
        description="Every row gets the training positive rate: the floor any score must beat.",
        build="salesml.classify.baselines:prior",
        tags=frozenset({"floor"}),
    ),
    CandidateSpec(
        type="scorecard",
        family="classification",
        role="baseline",
        description="Points from explicit rules (BANT, contract/tenure), clipped to 0-100.",
        build="salesml.classify.baselines:scorecard",
        params={"base_points": Param(float, 0.0, "points every row starts with")},
        options=("rules",),
        tags=frozenset({"rules", "points"}),
    ),
    CandidateSpec(
        type="control_points",
        family="classification",
        role="baseline",
        description="Points by each attribute's conversion rate relative to the control rate.",
        build="salesml.classify.baselines:control_points",
        params={
            "n_bins": Param(int, 5, "quantile bins per numeric column"),
            "smoothing": Param(float, 20.0, "pseudo-rows pulling small groups to the control"),
            "max_levels": Param(int, 50, "categorical columns with more values are skipped"),
        },
        tags=frozenset({"points"}),
    ),
    _model(
        "logistic",
        "sklearn.linear_model:LogisticRegression",
        "onehot",
        "One-hot categories, imputed and scaled numbers, L2 logistic regression.",
        {"C": 1.0, "max_iter": 2000},
        {"clf__C": np.logspace(-3, 2, 30).tolist()},
        refit_calibrated=True,
    ),
    _model(
        "lightgbm",
        "lightgbm:LGBMClassifier",
        "native",
        "LightGBM gradient boosting with native categoricals and missing values.",
        {
            "n_estimators": 300,
            "learning_rate": 0.03,
            "num_leaves": 15,
            "min_child_samples": 30,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "reg_lambda": 1.0,
            "n_jobs": 1,
            "verbose": -1,
        },
        {
            "clf__num_leaves": [7, 15, 31, 63],
            "clf__learning_rate": [0.01, 0.02, 0.03, 0.05, 0.1],
            "clf__n_estimators": [100, 200, 300, 500],
            "clf__min_child_samples": [10, 20, 40, 80],
            "clf__colsample_bytree": [0.5, 0.7, 0.9, 1.0],
            "clf__reg_lambda": [0.0, 0.1, 1.0, 10.0],
        },
        refit_calibrated=True,
    ),
    _model(
        "hist_gradient_boosting",
        "sklearn.ensemble:HistGradientBoostingClassifier",
        "native",
        "Histogram gradient boosting (scikit-learn) with native categoricals.",
        {
            "categorical_features": "from_dtype",
            "learning_rate": 0.05,
            "max_iter": 300,
            "max_leaf_nodes": 15,
        },
        {
            "clf__max_leaf_nodes": [7, 15, 31, 63],
            "clf__learning_rate": [0.02, 0.05, 0.1],
            "clf__max_iter": [100, 200, 400],
            "clf__l2_regularization": [0.0, 0.1, 1.0, 10.0],
        },
    ),
    _model(
        "random_forest",
        "sklearn.ensemble:RandomForestClassifier",
        "ordinal",
        "A random forest on ordinal-coded categories; missing values handled natively.",
        {"n_estimators": 300, "min_samples_leaf": 5, "max_features": "sqrt", "n_jobs": 1},
        {
            "clf__n_estimators": [100, 200, 400],
            "clf__min_samples_leaf": [1, 3, 5, 10, 20],
            "clf__max_features": ["sqrt", 0.3, 0.5],
            "clf__max_depth": [None, 8, 16],
        },
    ),
)

# The metrics of a classification run, in display order; capture and lift at any other
# share (capture_at_10, lift_at_20) are computed on request from a reopened run.
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("roc_auc", "ROC-AUC"),
    MetricSpec("pr_auc", "PR-AUC"),
    MetricSpec("capture_at_20", "found in top 20 %"),
    MetricSpec("lift_at_10", "lift top 10 %"),
    MetricSpec("brier", "Brier", lower_is_better=True),
    MetricSpec("log_loss", "log loss", lower_is_better=True, shown=False),
    MetricSpec("brier_uncalibrated", "Brier before calibration", True, ".4f", shown=False),
    MetricSpec("capture_at_10", "found in top 10 %", shown=False, computed=False),
)
_SCORING = ScoringSpec(kind="classifier", streaming=True, params=("reasons",))


def _task(name: str, description: str, use: str, rows: str, positives: str) -> TaskSpec:
    return TaskSpec(
        name=name,
        family="classification",
        description=description,
        config="salesml.classify.config:ClassificationExperiment",
        task="salesml.classify.task:ClassificationTask",
        candidates="salesml.classify.registry",
        metrics=METRICS,
        primary_metric="roc_auc",
        data="salesml.experiment.results:ClassificationData",
        view="salesml.classify.view:ClassificationView",
        scoring=_SCORING,
        intended_use=use,
        words={"rows": rows, "positives": positives},
    )


TASKS: tuple[TaskSpec, ...] = (
    _task(
        "lead_conversion",
        "Which leads convert: a binary outcome per lead, against BANT and control-rate rules.",
        "Rank inbound and outbound leads by their chance to convert so sales reps call the "
        "most promising first (tiers A-D), and show each rep why a lead scores as it does.",
        "leads",
        "conversions",
    ),
    _task(
        "churn",
        "Which customers churn: a binary outcome per customer, against contract/tenure rules.",
        "Rank customers by their chance to churn so the retention team reaches the most "
        "at-risk accounts first, with the drivers behind each score.",
        "customers",
        "churners",
    ),
)
