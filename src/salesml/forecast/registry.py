"""Every forecast candidate, declared once.

Statistical candidates are statsforecast models built by
:func:`salesml.forecast.models.statistical`; adding one is a single
:func:`_statistical` entry (plus its test). Each entry's tags (:data:`TAGS`)
declare what its forecaster can do; tests/test_registry.py checks every claim.
Nothing heavy is imported here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from salesml.experiment.registry import CandidateSpec, Param
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec

# What a forecast candidate's tags mean (shown by `salesml candidates`).
TAGS: dict[str, str] = {
    "seasonal": "models the season: a series shorter than one or two seasons gets a simpler form",
    "decomposes": "can take the season by STL decomposition (season_method; auto: seasons > 24)",
    "exog": "reads the data's exogenous columns (future values needed to forecast)",
    "global": "one model learns across all series (engine: spark: one per partition)",
    "refit_free": "refit: false keeps the parameters and only moves the forecast origin",
    "spark": "engine: spark fits the model itself on Spark",
    "combines": "combines other candidates' fits (listed after them); no builder of its own",
}

# engine: spark trains lightgbm_global once per partition of at most this many series:
# enough series for a global model to learn across them, few enough for one Spark task
PARTITION_SERIES = 5000

_COMMON = {
    "max_history": Param(int | None, None, "fit on at most the last N periods of each series"),
    "n_jobs": Param(
        int | None, None, "statsforecast worker processes (default: every core; -1 too)"
    ),
    "refit": Param(
        bool, True, "false: fit at the first backtest origin, then only filter (refit_free)"
    ),
}

_SEASON_METHOD = Param(
    Literal["auto", "states", "stl"],
    "auto",
    "season by model states or STL decomposition (stl); auto: stl for seasons over 24",
)


def _statistical(
    type_: str,
    sf_model: str,
    role: str,
    description: str,
    params: dict[str, Param] | None = None,
    seasonal: bool = True,
    tags: tuple[str, ...] = (),
) -> CandidateSpec:
    """An entry for the statsforecast model class ``sf_model`` (tagged ``spark``, and
    ``seasonal`` when it takes the season)."""
    return CandidateSpec(
        type=type_,
        family="forecast",
        role=role,  # type: ignore[arg-type]
        description=description,
        build="salesml.forecast.models:statistical",
        params={**(params or {}), **_COMMON},
        fixed={"sf_model": sf_model, "seasonal": seasonal},
        tags=frozenset({"spark", *tags, *(["seasonal"] if seasonal else [])}),
    )


CANDIDATES: tuple[CandidateSpec, ...] = (
    _statistical(
        "naive",
        "Naive",
        "baseline",
        "Last value carried forward.",
        seasonal=False,
        tags=("refit_free",),
    ),
    _statistical(
        "seasonal_naive", "SeasonalNaive", "baseline", "Value one season ago.", tags=("refit_free",)
    ),
    CandidateSpec(
        type="moving_average",
        family="forecast",
        role="baseline",
        description="Mean of the last window of periods (default: one season).",
        build="salesml.forecast.models:moving_average",
        params={"window": Param(int | None, None, "periods averaged"), **_COMMON},
        tags=frozenset({"spark"}),
    ),
    _statistical(
        "croston",
        "CrostonOptimized",
        "baseline",
        "Croston's method for intermittent demand (statsforecast CrostonOptimized).",
        seasonal=False,
    ),
    _statistical(
        "adida",
        "ADIDA",
        "baseline",
        "Aggregate-disaggregate intermittent demand approach (statsforecast ADIDA).",
        seasonal=False,
    ),
    CandidateSpec(
        type="last_year_growth",
        family="forecast",
        role="baseline",
        description="The manager's rule: same period last year x last quarter's YoY growth.",
        build="salesml.forecast.models:last_year_growth",
        params={
            "year": Param(int | None, None, "periods per year (default from the frequency)"),
            "quarter": Param(int | None, None, "periods in the growth window (a quarter)"),
        },
        tags=frozenset({"seasonal"}),
    ),
    _statistical(
        "auto_ets",
        "AutoETS",
        "model",
        "Exponential smoothing (statsforecast AutoETS), model chosen by AICc per series.",
        {
            "model": Param(str, "ZZZ", "error, trend, season: A, M, N or Z (auto)"),
            "damped": Param(bool | None, None, "damped trend: true, false or null (auto)"),
            "season_method": _SEASON_METHOD,
        },
        tags=("decomposes", "refit_free"),
    ),
    _statistical(
        "auto_theta",
        "AutoTheta",
        "model",
        "Theta method (statsforecast AutoTheta), variant chosen per series.",
        {
            "decomposition_type": Param(str, "multiplicative", "seasonal decomposition"),
            "model": Param(str | None, None, "STM, OTM, DSTM or DOTM; null: choose"),
        },
        tags=("refit_free",),
    ),
    _statistical(
        "auto_arima",
        "AutoARIMA",
        "model",
        "Seasonal ARIMA (statsforecast AutoARIMA), orders chosen per series.",
        {
            "d": Param(int | None, None, "order of first differencing"),
            "D": Param(int | None, None, "order of seasonal differencing"),
            "max_p": Param(int, 5, "largest AR order"),
            "max_q": Param(int, 5, "largest MA order"),
            "max_P": Param(int, 2, "largest seasonal AR order"),
            "max_Q": Param(int, 2, "largest seasonal MA order"),
            "stepwise": Param(bool, True, "stepwise order search"),
            "approximation": Param(bool | None, False, "approximate likelihood in the search"),
            "season_method": _SEASON_METHOD,
        },
        tags=("decomposes", "refit_free"),
    ),
    _statistical(
        "auto_ces",
        "AutoCES",
        "model",
        "Complex exponential smoothing (statsforecast AutoCES), form chosen per series.",
        {"model": Param(str, "Z", "N, S, P, F or Z (choose by information criterion)")},
        tags=("refit_free",),
    ),
    CandidateSpec(
        type="lightgbm_global",
        family="forecast",
        role="model",
        description="One LightGBM over all series: lags, rolling means, calendar, holidays, exog.",
        build="salesml.forecast.global_lgbm:lightgbm_global",
        params={
            "lags": Param(list[int] | None, None, "lags of y (default from the frequency)"),
            "rolling": Param(list[int] | None, None, "rolling-mean windows of lag 1"),
            "date_features": Param(list[str] | None, None, "calendar features"),
            "holidays": Param(str | None, "US", "holiday calendar: US or null"),
            "exog": Param(bool, True, "use the data's exogenous columns"),
            "partition_series": Param(
                Annotated[int, Field(ge=1)],
                PARTITION_SERIES,
                "engine: spark: at most this many series per model (one model per partition)",
            ),
            "refit": _COMMON["refit"],
        },
        passthrough="lightgbm:LGBMRegressor",
        tags=frozenset({"exog", "global", "refit_free", "spark"}),
    ),
    CandidateSpec(
        type="ensemble",
        family="forecast",
        role="model",
        description="Mean of the models that combined forecast the calibration window best (comb).",
        build=None,
        params={
            "members": Param(
                list[str] | None, None, "candidate names; default: the best combination"
            ),
            "size": Param(
                Annotated[int, Field(ge=2)] | None,
                None,
                "the best `size` models by their own calibration MASE instead",
            ),
            "combine": Param(Literal["mean", "median"], "mean", "how members are combined"),
        },
        tags=frozenset({"combines"}),
    ),
)

# What a forecast config gets when it lists no baselines and no models: the rules a sales
# team uses, ETS (by STL decomposition on weekly data), CES, the global LightGBM and the
# ensemble of the combination of them that forecast the calibration window best (M4's
# "comb"). AutoTheta and AutoARIMA are left out for their cost: on 3,000 weekly series
# Theta took 141 s (ETS 92 s, CES 42 s) and no combination chose it; on 360 series of 80
# to 2,600 weeks ARIMA improved the ensemble by 1 % of MASE for 146 s more, and took
# over 15 minutes on the tourism competition's 366 monthly series
# (benchmarks/bench_competition.py, bench_targets.py; RESULTS.md).
DEFAULTS: dict[str, tuple[str, ...]] = {
    "baselines": ("naive", "seasonal_naive", "moving_average", "last_year_growth"),
    "models": ("auto_ets", "auto_ces", "lightgbm_global", "ensemble"),
}

# The metrics of a forecast backtest, in display order (the CI is MASE's, over series).
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("mase", "MASE", lower_is_better=True),
    MetricSpec("wape", "WAPE", lower_is_better=True),
    MetricSpec("smape", "sMAPE", lower_is_better=True),
    MetricSpec("bias", "bias", ranks=False),
    # mean pinball loss of the interval bounds, scaled like MASE (forecast.metrics.quantile_loss)
    MetricSpec("qloss", "scaled quantile loss", lower_is_better=True),
    MetricSpec("coverage_80", "80 % coverage", ranks=False),
    MetricSpec("coverage_95", "95 % coverage", ranks=False),
    MetricSpec("rmsse", "RMSSE", lower_is_better=True, shown=False),
    MetricSpec("abs_bias", "absolute bias", lower_is_better=True, shown=False),
)

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="forecast",
        family="forecast",
        description="Sales per series and period: a rolling-origin backtest against naive rules.",
        config="salesml.forecast.config:ForecastExperiment",
        task="salesml.forecast.task:ForecastTask",
        candidates="salesml.forecast.registry",
        metrics=METRICS,
        primary_metric="mase",
        data="salesml.experiment.results:ForecastData",
        view="salesml.forecast.view:ForecastView",
        scoring=ScoringSpec(
            kind="forecast", streaming=False, prepare="salesml.forecast.export:scoring_input"
        ),
        intended_use="Forecast sales per series for the stored horizon, with prediction intervals.",
        words={"rows": "series"},
    ),
)
