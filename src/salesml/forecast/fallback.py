"""Fallbacks: every series is forecast, however short or awkward it is.

Each candidate's forecaster is wrapped in a :class:`FallbackForecaster`, in
every backtest window and in the exported model, with one rule:

1. A series with at least two seasons (``2 * season_length`` periods) of
   history gets the candidate's own model. Candidates without a season
   (naive, moving_average, croston, adida, lightgbm_global) need one period;
   last_year_growth needs a year and a quarter.
2. A shorter series gets the **non-seasonal** form of the model if it has at
   least :data:`MIN_NON_SEASONAL` periods: the same statsforecast model with
   ``season_length`` 1 (an ETS ``model`` string loses its season letter,
   ``D`` of ARIMA is dropped). For last_year_growth the step down is
   **seasonal_naive** (one season); seasonal_naive itself steps down to naive.
3. Anything shorter gets **naive** (the last value), which needs one period.

A form that fails on a series - an error while fitting (statsforecast's
"tiny datasets", a multiplicative ETS on negative values) or a forecast that
is not finite (a moving average longer than the series) - hands the series
to the next form it is long enough for; a failure of the compute engine
itself (:class:`~salesml.errors.EngineError`, Spark) is raised instead. A
series without a single period before a backtest origin cannot be forecast
in that window and is not scored there; every series is forecast by the
exported model.

The summary's ``data.fallbacks`` counts, per candidate, the series whose
simplest form, over the evaluation windows and the final fit, was a
fallback (``{"auto_ets": {"non_seasonal": 12, "naive": 3}}``). An ensemble
has no fallbacks of its own: its members have.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import EngineError
from salesml.forecast.contract import Forecaster, ForecasterBase
from salesml.forecast.models import LastYearGrowth, StatsForecaster, non_seasonal_params

MIN_NON_SEASONAL = 8
FORMS = ("model", "no_season", "non_seasonal", "seasonal_naive", "naive")
# "no_season" is the model's own choice for a series the seasonality test finds without a
# season (salesml.forecast.seasonality), not a fallback: it ranks with "model".
_RANK = {"model": 0, "no_season": 0, "non_seasonal": 1, "seasonal_naive": 2, "naive": 3}
_FALLBACK = {1: "non_seasonal", 2: "seasonal_naive", 3: "naive"}


@dataclass(frozen=True)
class Form:
    """One step of the fallback ladder: its name, a builder and the history it needs.

    ``season`` restricts the form to the series the seasonality test finds
    seasonal (``"present"``) or not (``"absent"``); None takes any series.
    """

    name: str
    template: Forecaster
    min_length: int
    season: str | None = None

    def make(self) -> Forecaster:
        """A fresh unfitted copy of the form's forecaster."""
        return copy.deepcopy(self.template)


@dataclass
class _Entry:
    step: int
    forecaster: Forecaster
    fit_ids: frozenset[str]
    active: set[str] = field(default_factory=set)


def _non_seasonal(f: StatsForecaster) -> StatsForecaster:
    return StatsForecaster(
        f.sf_model,
        f.freq,
        1,
        non_seasonal_params(f.sf_model, f.params),
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
        return [*tested, Form("non_seasonal", non_seasonal, MIN_NON_SEASONAL), naive]
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


def with_fallbacks(
    forecaster: Forecaster,
    season_length: int,
    season_test: bool = False,
    adapt: Callable[[Forecaster], Forecaster] | None = None,
) -> FallbackForecaster:
    """Wrap an unfitted forecaster in its fallback ladder (see :func:`ladder`).

    ``adapt`` is applied to every form's forecaster once the ladder is built
    (the Spark engine swaps in its own; :mod:`salesml.forecast.spark`).
    """
    forms = ladder(forecaster, season_length, season_test)
    if adapt is not None:
        forms = [replace(f, template=adapt(f.template)) for f in forms]
    return FallbackForecaster(forms, season_length)


class FallbackForecaster(ForecasterBase):
    """A forecaster that gives every series the most capable form it can fit.

    Parameters
    ----------
    forms : list of Form
        The ladder, most capable first (see :func:`ladder`).
    season_length : int
        The lag the seasonality test looks at, for forms restricted by ``season``.

    Attributes
    ----------
    failures : list of str
        One line per (form, series) that raised while fitting; also warned
        (a run writes warnings to ``salesml.log``).
    """

    def __init__(self, forms: list[Form], season_length: int = 1) -> None:
        self.forms = forms
        self.season_length = season_length
        top = forms[0].template
        self.uses_exog, self.exog, self.freq = top.uses_exog, tuple(top.exog), top.freq
        self.id_col, self.time_col, self.target_col = top.id_col, top.time_col, top.target_col
        self.failures: list[str] = []
        self.entries_: list[_Entry] = []

    @property
    def primary(self) -> Forecaster:
        """The fitted candidate model itself (the first entry of the top form)."""
        return next((e.forecaster for e in self.entries_ if e.step == 0), self.forms[0].template)

    def assignment(self) -> dict[str, str]:
        """``{series: form name}`` after the last fit and forecast (see :meth:`settle`)."""
        return {uid: self.forms[e.step].name for e in self.entries_ for uid in e.active}

    def _remember(self, df: pd.DataFrame) -> None:
        self.history_ = df[[self.id_col, self.time_col, self.target_col]]
        self.lengths_ = df.groupby(self.id_col, sort=True).size()
        self.seasonal_: set[str] | None = None
        if any(f.season for f in self.forms):
            from salesml.forecast.seasonality import seasonal_series

            ordered = self.history_.sort_values([self.id_col, self.time_col], kind="mergesort")
            cols = {"id_col": self.id_col, "target_col": self.target_col}
            self.seasonal_ = seasonal_series(ordered, self.season_length, **cols)

    def _accepts(self, form: Form, uid: str) -> bool:
        if self.lengths_[uid] < form.min_length:
            return False
        if form.season is None or self.seasonal_ is None:
            return True
        return (uid in self.seasonal_) == (form.season == "present")

    def describe(self) -> dict[str, Any]:
        """What the candidate model itself logs (see :attr:`primary`)."""
        return self.primary.describe()

    def fit(self, df: pd.DataFrame) -> FallbackForecaster:
        self._remember(df)
        self.entries_ = []
        self._place(list(self.lengths_.index), 0, df)
        return self

    def settle(self) -> FallbackForecaster:
        """Forecast one step now, so series with non-finite forecasts move down before export.

        :meth:`predict` does this on its own; call ``settle`` when the
        assignment matters before anyone forecasts (models without exogenous
        columns only: the others need future values).
        """
        if not self.uses_exog:
            self.predict(1)
        return self

    def update(self, df: pd.DataFrame) -> FallbackForecaster:
        """Move the origin: the top form moves on (:meth:`Forecaster.update`), the others refit.

        The series the top form fitted stay on it; every other series is placed
        from the second form down. Without a fitted top form this is :meth:`fit`.
        """
        tops = [e for e in self.entries_ if e.step == 0]
        if not tops:
            return self.fit(df)
        self._remember(df)
        for e in tops:
            e.forecaster.update(df[df[self.id_col].isin(e.fit_ids)])
            e.active = set(e.fit_ids)
        self.entries_ = tops
        covered = set().union(*(e.fit_ids for e in tops))
        self._place([u for u in self.lengths_.index if u not in covered], 1, df)
        return self

    def _place(self, ids: list[str], start: int, df: pd.DataFrame) -> None:
        """Fit forms from ``start`` on, each series on the first it is long enough for and fits."""
        pending = list(ids)
        for i in range(start, len(self.forms)):
            if not pending:
                return
            here = [u for u in pending if self._accepts(self.forms[i], u)]
            if not here:
                continue
            failed = self._fit_form(i, here, df)
            placed = set(here) - set(failed)
            pending = [u for u in pending if u not in placed]

    def _fit_form(self, i: int, ids: list[str], df: pd.DataFrame) -> list[str]:
        """Fit form ``i`` on ``ids``; return the series it could not fit."""
        form = self.forms[i]
        model = form.make()
        if len(ids) == 1 and isinstance(model, StatsForecaster):
            model.n_jobs = 1  # one series: no worker processes
        try:
            model.fit(df[df[self.id_col].isin(ids)])
        except EngineError:  # the engine failed, not the model: no simpler form helps
            raise
        except Exception as exc:
            if i == len(self.forms) - 1:
                raise
            if len(ids) > 1:  # find the series it fails on, one at a time
                return [u for uid in ids for u in self._fit_form(i, [uid], df)]
            message = f"{form.name} fails on series {ids[0]!r} ({type(exc).__name__}: {exc})"
            self.failures.append(message)
            warnings.warn(f"{message}; using a simpler form", stacklevel=2)
            return ids
        self.entries_.append(_Entry(i, model, frozenset(ids), set(ids)))
        return []

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        parts, k = [], 0
        while k < len(self.entries_):  # demotions below append entries
            e = self.entries_[k]
            k += 1
            if not e.active:
                continue
            X = None
            if X_df is not None and e.forecaster.uses_exog:
                X = X_df[X_df[self.id_col].isin(e.fit_ids)]
            fc = e.forecaster.predict(h, X_df=X)
            fc = fc[fc[self.id_col].isin(e.active)]
            finite = np.isfinite(pd.to_numeric(fc["yhat"], errors="coerce").to_numpy(float))
            bad = set(fc.loc[~finite, self.id_col])
            if bad:
                e.active -= bad
                fc = fc[~fc[self.id_col].isin(bad)]
                self._place(sorted(bad), e.step + 1, self.history_)
            parts.append(fc[[self.id_col, self.time_col, "yhat"]])
        keys = [self.id_col, self.time_col, "yhat"]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=keys)
        return out.sort_values([self.id_col, self.time_col], kind="mergesort").reset_index(
            drop=True
        )


def fallback_counts(
    fc: pd.DataFrame, final: FallbackForecaster, id_col: str = "unique_id"
) -> dict[str, int]:
    """Series per fallback form: each series' simplest form over the evaluation windows and ``final``.

    Parameters
    ----------
    fc : DataFrame
        Backtest forecasts with ``window`` and ``form`` columns (window 0 is calibration).
    final : FallbackForecaster
        The model fitted on all data.
    """
    evaluated = fc.loc[fc["window"] > 0, [id_col, "form"]]
    used = pd.concat(
        [evaluated, pd.DataFrame(final.assignment().items(), columns=[id_col, "form"])]
    )
    worst = used["form"].map(_RANK).groupby(used[id_col]).max()
    counts = worst[worst > 0].map(_FALLBACK).value_counts()
    return {name: int(counts[name]) for name in FORMS if name in counts.index}


def fallback_text(counts: dict[str, int] | None) -> str:
    """The model card's line on short series: the rule and this candidate's counts."""
    if counts is None:
        return "forecast by the member models, each with its own fallbacks"
    used = ", ".join(f"{n} on {form}" for form, n in counts.items()) or "none needed one"
    return (
        "series too short for the model get its non-seasonal form, then naive "
        f"(salesml.forecast.fallback); in the backtest and final fit: {used}"
    )
