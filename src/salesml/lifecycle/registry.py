"""Every customer-value candidate and the customer_value task, declared once."""

from __future__ import annotations

from salesml.experiment.registry import CandidateSpec
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec

TAGS: dict[str, str] = {
    "p_alive": "gives each customer's probability of still being a customer",
    "learns": "learns a mapping from an earlier cut of the calibration period",
}

_C = "salesml.lifecycle.candidates"

CANDIDATES: tuple[CandidateSpec, ...] = (
    CandidateSpec(
        type="last_period",
        family="customer_value",
        role="baseline",
        description="A customer goes on buying at their own past rate and spend.",
        build=f"{_C}:last_period",
    ),
    CandidateSpec(
        type="rfm_segments",
        family="customer_value",
        role="baseline",
        description="Recency x frequency quintile cells with their later purchase rate.",
        build=f"{_C}:rfm_segments",
        tags=frozenset({"learns"}),
    ),
    CandidateSpec(
        type="bgnbd_gamma_gamma",
        family="customer_value",
        role="model",
        description="BG/NBD purchases times Gamma-Gamma spend (Fader, Hardie and Lee).",
        build=f"{_C}:bgnbd_gamma_gamma",
        tags=frozenset({"p_alive"}),
    ),
    CandidateSpec(
        type="lightgbm_rfm",
        family="customer_value",
        role="model",
        description="LightGBM (Poisson) on recency, frequency, age and spend.",
        build=f"{_C}:lightgbm_rfm",
        passthrough="lightgbm:LGBMRegressor",
        tags=frozenset({"learns"}),
    ),
)

DEFAULTS = {
    "baselines": ["last_period", "rfm_segments"],
    "models": ["bgnbd_gamma_gamma", "lightgbm_rfm"],
}

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("purchases_mae", "MAE of holdout purchases", lower_is_better=True),
    MetricSpec("spend_mae", "MAE of holdout spend", lower_is_better=True, fmt=",.2f"),
    MetricSpec("purchases_corr", "correlation of purchases"),
    MetricSpec("total_purchases_error", "total purchases error", fmt="+.1%", ranks=False),
    MetricSpec("total_spend_error", "total spend error", fmt="+.1%", ranks=False),
    MetricSpec("return_auc", "ROC-AUC of coming back"),
)

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="customer_value",
        family="customer_value",
        description="Repeat purchases and spend per customer: RFM rules against BG/NBD.",
        config="salesml.lifecycle.config:ValueExperiment",
        task="salesml.lifecycle.task:ValueTask",
        candidates="salesml.lifecycle.registry",
        metrics=METRICS,
        primary_metric="purchases_mae",
        data="salesml.lifecycle.task:CustomerData",
        view="salesml.lifecycle.view:ValueView",
        scoring=ScoringSpec(kind="customer_value", streaming=False, params=("as_of", "h")),
        intended_use="Rank customers by expected purchases and spend over a horizon.",
        words={"rows": "customers", "positives": "returning customers"},
    ),
)
