"""Every survival candidate and the churn_survival task, declared once."""

from __future__ import annotations

from salesml.experiment.registry import CandidateSpec, Param
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec

TAGS: dict[str, str] = {
    "segments": "one curve per segment of configured columns",
    "reasons": "explains each customer's risk by column contributions",
}

_C = "salesml.lifecycle.survival.candidates"

CANDIDATES: tuple[CandidateSpec, ...] = (
    CandidateSpec(
        type="kaplan_meier",
        family="survival",
        role="baseline",
        description="One Kaplan-Meier churn curve for every customer.",
        build=f"{_C}:kaplan_meier_rule",
    ),
    CandidateSpec(
        type="kaplan_meier_segments",
        family="survival",
        role="baseline",
        description="A Kaplan-Meier curve per segment (contract type, plan).",
        build=f"{_C}:kaplan_meier_segments",
        params={
            "by": Param(list[str] | None, None, "segment columns (required)"),
            "min_customers": Param(int, 30, "smaller segments use the overall curve"),
        },
        tags=frozenset({"segments"}),
    ),
    CandidateSpec(
        type="cox",
        family="survival",
        role="model",
        description="Cox proportional hazards with a ridge penalty (scikit-survival).",
        build=f"{_C}:cox",
        params={
            "alpha": Param(float, 1.0, "ridge penalty on the coefficients"),
            "strata": Param(list[str] | None, None, "columns whose segments get own baselines"),
        },
        tags=frozenset({"reasons"}),
    ),
    CandidateSpec(
        type="hazard_lightgbm",
        family="survival",
        role="model",
        description="Discrete-time hazard LightGBM: P(leave in an interval | here at its start).",
        build=f"{_C}:hazard_lightgbm",
        params={
            "n_estimators": Param(int, 300, "boosting rounds"),
            "learning_rate": Param(float, 0.05, "shrinkage"),
            "num_leaves": Param(int, 15, "leaves per tree"),
            "min_child_samples": Param(int, 50, "customer-intervals per leaf"),
        },
        tags=frozenset({"reasons"}),
    ),
)

DEFAULTS = {
    "baselines": ["kaplan_meier"],
    "models": ["cox", "hazard_lightgbm"],
}

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("ibs", "integrated Brier score", lower_is_better=True, fmt=".4f"),
    MetricSpec("c_uno", "Uno's C"),
    MetricSpec("c_harrell", "Harrell's C"),
    MetricSpec("mean_auc", "time-dependent ROC-AUC"),
    MetricSpec("calibration", "calibration error", lower_is_better=True, fmt=".3f"),
    MetricSpec(
        "landmark_brier", "Brier of P(leave within h | here)", lower_is_better=True, fmt=".4f"
    ),
    MetricSpec("landmark_calibration", "calibration of P(leave | here)", lower_is_better=True),
    MetricSpec("value_top_decile", "lost value in top decile", fmt=".1%", ranks=False),
)

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="churn_survival",
        family="survival",
        description="When customers leave, with censoring: Kaplan-Meier rules against Cox.",
        config="salesml.lifecycle.survival.config:SurvivalExperiment",
        task="salesml.lifecycle.survival.task:SurvivalTask",
        candidates="salesml.lifecycle.survival.registry",
        metrics=METRICS,
        primary_metric="ibs",
        data="salesml.lifecycle.survival.data:SurvivalData",
        view="salesml.lifecycle.survival.view:SurvivalView",
        scoring=ScoringSpec(kind="churn_survival", streaming=False, params=("reasons", "as_of")),
        intended_use=(
            "Rank active customers by their chance of leaving within each horizon, given "
            "how long they have been customers, and by the value at risk."
        ),
        words={"rows": "customers", "positives": "churners"},
    ),
)
