"""Fallbacks: every series is forecast, however short or awkward it is.

Each candidate's forecaster is wrapped in a :class:`FallbackForecaster`, in
every backtest window and in the exported model, with one rule:

1. A series with at least two seasons (``2 * season_length`` periods) of
   history gets the candidate's own model. Candidates without a season
   (naive, moving_average, croston, adida, lightgbm_global) need one period;
   last_year_growth needs a year and a quarter.
2. A shorter series of a seasonal statistical model (ETS, Theta, ARIMA, CES)
   with a season, ``MIN_NON_SEASONAL`` (8) periods and a quarter season more
   (73 weeks for weekly data) gets the model's **seasonal_difference** form (its
   non-seasonal form fitted on the year-over-year changes, added to last
   season's values; :mod:`salesml.forecast.seasonal_difference`) when that
   forecasts the series' last quarter season better than the non-seasonal form,
   both fitted on the periods before.
3. Other shorter series get the **non-seasonal** form of the model if they have
   at least ``MIN_NON_SEASONAL`` (8) periods: the same statsforecast model with
   ``season_length`` 1 (an ETS ``model`` string loses its season letter,
   ``D`` of ARIMA is dropped). For last_year_growth the step down is
   **seasonal_naive** (one season); seasonal_naive itself steps down to naive.
4. Anything shorter gets **naive** (the last value), which needs one period.

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
fallback (``{"auto_ets": {"seasonal_difference": 9, "naive": 3}}``). An
ensemble has no fallbacks of its own: its members have. The forms themselves
are listed by :func:`salesml.forecast.forms.ladder`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import EngineError
from salesml.forecast.contract import Forecaster, ForecasterBase
from salesml.forecast.forms import FALLBACK, FORMS, RANK, Form, ladder
from salesml.forecast.models import StatsForecaster
from salesml.forecast.seasonal_difference import SeasonalDifference


@dataclass
class _Entry:
    step: int
    forecaster: Forecaster
    fit_ids: frozenset[str]
    active: set[str] = field(default_factory=set)


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
            if here and self.forms[i].holdout:
                here = self._holdout_winners(i, here, df)
            if not here:
                continue
            failed = self._fit_form(i, here, df)
            placed = set(here) - set(failed)
            pending = [u for u in pending if u not in placed]

    def _holdout_winners(self, i: int, ids: list[str], df: pd.DataFrame) -> list[str]:
        """The series of ``ids`` that form ``i`` forecasts better than the next form does
        over their last ``holdout`` periods, both fitted on the periods before (lower mean
        absolute error; a series form ``i`` fails on goes to the next form)."""
        k = self.forms[i].holdout
        part = df[df[self.id_col].isin(ids)].sort_values(
            [self.id_col, self.time_col], kind="mergesort"
        )
        last = part.groupby(self.id_col, sort=False).cumcount(ascending=False) < k
        train, held = part[~last], part.loc[last, [self.id_col, self.time_col, self.target_col]]
        errors = []
        for j in (i, i + 1):
            fitted, _ = self._fits(j, ids, train, during=" (holdout comparison)")
            keys = [self.id_col, self.time_col]
            fc = [model.predict(k) for model, _ in fitted]
            both = held.merge(
                pd.concat(fc) if fc else pd.DataFrame(columns=[*keys, "yhat"]), on=keys
            )
            gap = (both[self.target_col].astype(float) - both["yhat"].astype(float)).abs()
            errors.append(gap.groupby(both[self.id_col]).mean())
        mine = errors[0].reindex(ids)  # NaN where form i has no (finite) forecast
        other = errors[1].where(np.isfinite(errors[1])).reindex(ids).fillna(np.inf)
        return [u for u, better in zip(ids, mine < other, strict=True) if better]

    def _fit_form(self, i: int, ids: list[str], df: pd.DataFrame) -> list[str]:
        """Fit form ``i`` on ``ids``; return the series it could not fit."""
        fitted, failed = self._fits(i, ids, df)
        for model, fit_ids in fitted:
            self.entries_.append(_Entry(i, model, frozenset(fit_ids), set(fit_ids)))
        return failed

    def _fits(
        self, i: int, ids: list[str], df: pd.DataFrame, during: str = ""
    ) -> tuple[list[tuple[Forecaster, list[str]]], list[str]]:
        """Form ``i`` fitted on ``ids`` (one model, or one per series once a joint fit
        fails) and the series it fails on (each recorded in :attr:`failures` and warned)."""
        form = self.forms[i]
        model = form.make()
        if len(ids) == 1:  # one series: no worker processes
            if isinstance(model, StatsForecaster):
                model.n_jobs = 1
            elif isinstance(model, SeasonalDifference):
                model.inner.n_jobs = 1
        try:
            model.fit(df[df[self.id_col].isin(ids)])
        except EngineError:  # the engine failed, not the model: no simpler form helps
            raise
        except Exception as exc:
            if i == len(self.forms) - 1:
                raise
            if len(ids) > 1:  # find the series it fails on, one at a time
                fitted: list[tuple[Forecaster, list[str]]] = []
                failed: list[str] = []
                for uid in ids:
                    one, bad = self._fits(i, [uid], df, during)
                    fitted, failed = fitted + one, failed + bad
                return fitted, failed
            error = f"{type(exc).__name__}: {exc}"
            message = f"{form.name} fails on series {ids[0]!r}{during} ({error})"
            self.failures.append(message)
            warnings.warn(f"{message}; using a simpler form", stacklevel=2)
            return [], ids
        return [(model, ids)], []

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
    worst = used["form"].map(RANK).groupby(used[id_col]).max()
    counts = worst[worst > 0].map(FALLBACK).value_counts()
    return {name: int(counts[name]) for name in FORMS if name in counts.index}


def fallback_text(counts: dict[str, int] | None) -> str:
    """The model card's line on short series: the rule and this candidate's counts."""
    if counts is None:
        return "forecast by the member models, each with its own fallbacks"
    used = ", ".join(f"{n} on {form}" for form, n in counts.items()) or "none needed one"
    return (
        "series too short for the model get its seasonal differences (seasonal series "
        "with a season of history), else its non-seasonal form, then naive "
        f"(salesml.forecast.fallback); in the backtest and final fit: {used}"
    )
