"""Every bookings candidate and the bookings task, declared once. Nothing heavy is imported."""

from __future__ import annotations

from salesml.experiment.registry import CandidateSpec, Param
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec

TAGS: dict[str, str] = {
    "deals": "weighs each open deal (deal-level ROC-AUC and Brier of 'won this period')",
    "history": "needs a stage history: a deal's stage as it was on the forecast's day",
    "new_deals": "adds what deals not yet created on the forecast's day will book",
}

_RULES = "salesml.pipeline.rules"

CANDIDATES: tuple[CandidateSpec, ...] = (
    CandidateSpec(
        type="stage_weighted",
        family="bookings",
        role="baseline",
        description="The CRM's weighted pipeline: amount x stage probability, deals due this period.",
        build=f"{_RULES}:stage_weighted",
        params={
            "probabilities": Param(
                dict[str, float] | None,
                None,
                "stage -> probability (default: the CRM defaults by name, else 10-90 % in order)",
            )
        },
        tags=frozenset({"deals", "history"}),
    ),
    CandidateSpec(
        type="learned_stage_weights",
        family="bookings",
        role="baseline",
        description="Each stage's share of open amount won within a period, learned from the past.",
        build=f"{_RULES}:learned_stage_weights",
        params={"periods": Param(int, 12, "past periods the weights are learned from")},
        tags=frozenset({"deals", "history"}),
    ),
    CandidateSpec(
        type="commit",
        family="bookings",
        role="baseline",
        description="The commit call: deals in the latest stage(s) due this period, at full value.",
        build=f"{_RULES}:commit",
        params={"stages": Param(list[str] | None, None, "commit stages (default: the last one)")},
        tags=frozenset({"deals", "history"}),
    ),
    CandidateSpec(
        type="run_rate",
        family="bookings",
        role="baseline",
        description="Last period's bookings.",
        build=f"{_RULES}:run_rate",
    ),
    CandidateSpec(
        type="last_year",
        family="bookings",
        role="baseline",
        description="The same period last year (last period's where the data do not reach back).",
        build=f"{_RULES}:last_year",
    ),
    CandidateSpec(
        type="deal_lightgbm",
        family="bookings",
        role="model",
        description="LightGBM: P(won this period) per open deal, summed, plus deals not yet created.",
        build="salesml.pipeline.deals:deal_lightgbm",
        params={
            "train_periods": Param(int, 12, "past periods whose snapshots train the model"),
            "new_deals": Param(bool, True, "add the bookings of deals created inside the period"),
            "calibration_periods": Param(
                int, 6, "past periods whose forecast errors widen the interval (0: none)"
            ),
        },
        passthrough="lightgbm:LGBMClassifier",
        tags=frozenset({"deals", "new_deals"}),
    ),
)

DEFAULTS = {
    "baselines": ["stage_weighted", "learned_stage_weights", "commit", "run_rate", "last_year"],
    "models": ["deal_lightgbm"],
}

METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("mae", "MAE of period bookings", lower_is_better=True, fmt=",.0f"),
    MetricSpec("wape", "WAPE", lower_is_better=True, fmt=".1%"),
    MetricSpec("bias", "bias", fmt="+.1%", ranks=False),
    MetricSpec("coverage_80", "80 % coverage", fmt=".0%", ranks=False),
    MetricSpec("qloss", "quantile loss", lower_is_better=True, fmt=",.0f"),
    MetricSpec("total_mae", "MAE of total bookings", lower_is_better=True, fmt=",.0f"),
    MetricSpec("deal_auc", "deal ROC-AUC"),
    MetricSpec("deal_brier", "deal Brier", lower_is_better=True, fmt=".4f"),
)

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="bookings",
        family="bookings",
        description="Period bookings from the open pipeline: CRM rules against a deal model.",
        config="salesml.pipeline.config:BookingsExperiment",
        task="salesml.pipeline.task:BookingsTask",
        candidates="salesml.pipeline.registry",
        metrics=METRICS,
        primary_metric="mae",
        data="salesml.pipeline.task:BookingsData",
        view="salesml.pipeline.view:BookingsView",
        scoring=ScoringSpec(kind="bookings", streaming=False, params=("as_of", "period")),
        intended_use=(
            "Forecast a month's or quarter's bookings by segment from the open pipeline, "
            "with an interval, and each open deal's chance to close in the period."
        ),
        words={"rows": "periods x segments", "positives": "deals won"},
    ),
)
