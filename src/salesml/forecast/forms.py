"""The forms of the fallback ladder: what each candidate steps down to on a short series.

:func:`ladder` lists a candidate's forms, most capable first, each with the
history it needs (:class:`Form`); :class:`~salesml.forecast.fallback.FallbackForecaster`
gives each series the first form it can fit. The rule is documented in
:mod:`salesml.forecast.fallback`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from salesml.forecast.contract import Forecaster
from salesml.forecast.models import LastYearGrowth, StatsForecaster, non_seasonal_params
from salesml.forecast.seasonal_difference import SeasonalDifference, difference_params

MIN_NON_SEASONAL = 8
FORMS = ("model", "no_season", "seasonal_difference", "non_seasonal", "seasonal_naive", "naive")
# "no_season" is the model's own choice for a series the seasonality test finds without a
# season (salesml.forecast.seasonality), not a fallback: it ranks with "model".
RANK = {
    "model": 0,
    "no_season": 0,
    "seasonal_difference": 1,
    "non_seasonal": 2,
    "seasonal_naive": 3,
    "naive": 4,
}
FALLBACK = {rank: name for name, rank in RANK.items() if rank > 0}


def holdout_length(season_length: int) -> int:
    """Periods a short series holds out to choose its seasonal differences: a quarter season."""
    return int(np.ceil(season_length / 4))


@dataclass(frozen=True)
class Form:
    """One step of the fallback ladder: its name, a builder and the history it needs.

    ``season`` restricts the form to the series the seasonality test finds
    seasonal (``"present"``) or not (``"absent"``); None takes any series.
    ``holdout`` (periods, 0 for none) restricts it to the series it forecasts
    better than the next form over their last ``holdout`` periods.
    """

    name: str
    template: Forecaster
    min_length: int
    season: str | None = None
    holdout: int = 0

    def make(self) -> Forecaster:
        """A fresh unfitted copy of the form's forecaster."""
        return copy.deepcopy(self.template)


def _non_seasonal(f: StatsForecaster, of_differences: bool = False) -> StatsForecaster:
    params = non_seasonal_params(f.sf_model, f.params)
    return StatsForecaster(
        f.sf_model,
        f.freq,
        1,
        difference_params(f.sf_model, params) if of_differences else params,
        seasonal=True,
        max_history=f.max_history,
        n_jobs=f.n_jobs,
        id_col=f.id_col,
        time_col=f.time_col,
        target_col=f.target_col,
    )


def ladder(forecaster: Forecaster, season_length: int, season_test: bool = False) -> list[Form]:
    """The forms a candidate's series may use, most capable first (see the module docstring).

    With ``season_test``, a seasonal statsforecast model (ETS, Theta, ARIMA, CES)
    is fitted with its season only on the series that pass the seasonality test;
    the others get its non-seasonal form ("no_season", not counted as a fallback).
    """
    m = season_length
    cols = {
        "id_col": forecaster.id_col,
        "time_col": forecaster.time_col,
        "target_col": forecaster.target_col,
    }
    freq = forecaster.freq

    def stats(name: str, seasonal: bool) -> StatsForecaster:
        return StatsForecaster(name, freq, m, seasonal=seasonal, **cols)

    naive = Form("naive", stats("Naive", False), 1)
    if isinstance(forecaster, StatsForecaster):
        if forecaster.sf_model == "Naive":
            return [Form("model", forecaster, 1)]
        if not forecaster.seasonal or m <= 1:
            return [Form("model", forecaster, 1), naive]
        if forecaster.sf_model == "SeasonalNaive":
            return [Form("model", forecaster, m), naive]
        non_seasonal = _non_seasonal(forecaster)
        tested = (
            [
                Form("model", forecaster, 2 * m, season="present"),
                Form("no_season", non_seasonal, 2 * m, season="absent"),
            ]
            if season_test
            else [Form("model", forecaster, 2 * m)]
        )
        differences = SeasonalDifference(_non_seasonal(forecaster, of_differences=True), m)
        k = holdout_length(m)
        return [
            *tested,
            Form("seasonal_difference", differences, m + MIN_NON_SEASONAL + k, holdout=k),
            Form("non_seasonal", non_seasonal, MIN_NON_SEASONAL),
            naive,
        ]
    if isinstance(forecaster, LastYearGrowth):
        need = max(forecaster.year + forecaster.quarter, m)
        seasonal_naive = Form("seasonal_naive", stats("SeasonalNaive", True), m)
        return [Form("model", forecaster, need), seasonal_naive, naive]
    return [Form("model", forecaster, 1), naive]


def season_testable(forecaster: Forecaster, season_length: int) -> bool:
    """Whether :func:`ladder` would restrict ``forecaster``'s season to the tested series."""
    return (
        isinstance(forecaster, StatsForecaster)
        and forecaster.seasonal
        and season_length > 1
        and forecaster.sf_model not in ("Naive", "SeasonalNaive")
    )
