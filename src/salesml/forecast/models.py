"""Forecasters for the forecast task: baselines, statistical models, a global LightGBM.

Every forecaster works on long-format frames (one row per series and period,
regular dates) and implements :class:`~salesml.forecast.contract.Forecaster`:

- ``fit(df)`` learns from the history and returns ``self``;
- ``predict(h, X_df=None)`` returns ``id_col, time_col, "yhat"`` for the next
  ``h`` periods of every series; ``X_df`` holds future exogenous values and is
  used when ``uses_exog`` is true;
- ``update(df)`` moves the forecast origin to the end of ``df``; models whose
  entry is tagged ``refit_free`` keep their estimated parameters (the backtest
  uses it for candidates with ``refit: false``), the others refit;
- ``settle()`` and ``describe()`` (defaults from ``ForecasterBase``).

Which forecasters exist is declared in :mod:`salesml.forecast.registry`; the
builders here make them from a :class:`ForecastContext`; the global LightGBM lives
in :mod:`salesml.forecast.global_lgbm`. statsforecast is imported only to fit.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.forecast.contract import Forecaster, ForecasterBase
from salesml.forecast.data import future_dates
from salesml.runtime.pools import fork_server_pools

_SEASON = {"D": 7, "B": 5, "W": 52, "M": 12, "ME": 12, "MS": 12, "SM": 24, "SMS": 24, "Q": 4}
_SEASON |= {"QE": 4, "QS": 4, "BQ": 4, "BQE": 4, "BM": 12, "BME": 12, "BMS": 12, "h": 24, "H": 24}
_SEASON |= {"min": 60, "T": 60}
_YEAR = {"D": 364, "B": 260, "W": 52, "SM": 24, "SMS": 24, "h": 8736, "H": 8736}


def _freq_code(freq: str) -> tuple[str, int]:
    from pandas.tseries.frequencies import to_offset

    offset = to_offset(freq)
    return offset.rule_code.split("-")[0], max(int(offset.n), 1)


def season_length_for(freq: str) -> int:
    """Default season length for a pandas frequency: D 7, B 5, W 52, M 12, Q 4, h 24, else 1."""
    code, n = _freq_code(freq)
    base = _SEASON.get(code, _SEASON.get(code.rstrip("E"), 1))
    return max(1, round(base / n))


def periods_per_year(freq: str) -> int:
    """Periods in a year, aligned to the week for daily data (364 days keeps weekdays)."""
    code, n = _freq_code(freq)
    base = _YEAR.get(code, season_length_for(code) if code[0] in "MQ" else 1)
    return max(1, round(base / n))


# Above this season length, ETS and ARIMA model the season by STL decomposition by default
# (the R forecast package refuses seasonal ETS beyond 24 periods; fpp3 recommends STL for
# weekly data): 52 seasonal states cost ~6x the time and forecast worse on weekly sales.
LONG_SEASON = 24
DECOMPOSABLE = ("AutoETS", "AutoARIMA")  # their registry entries are tagged "decomposes"
# Theta on a long season fits the last ten seasons (unless max_history): on 30 synthetic
# weekly series of 80-2,600 weeks, sMAPE 13.6 in 10.7 s on all history, 11.7 in 1.5 s.
THETA_SEASONS = 10


def stl_season(season_method: str, season_length: int) -> bool:
    """Whether a model that can decompose (:data:`DECOMPOSABLE`) takes its season by STL.

    ``stl``: always; ``auto``: for seasons longer than :data:`LONG_SEASON`; ``states``: never.
    """
    return season_method == "stl" or (season_method == "auto" and season_length > LONG_SEASON)


def non_seasonal_params(sf_model: str, params: dict[str, Any]) -> dict[str, Any]:
    """A model's settings without their seasonal part (ETS ``model`` "ZZZ" -> "ZZN", no ARIMA D)."""
    params = dict(params)
    model = params.get("model", "ZZZ")
    if sf_model == "AutoETS" and isinstance(model, str) and len(model) == 3:
        params["model"] = model[:2] + "N"
    if sf_model == "AutoARIMA":
        params.pop("D", None)
    return params


def _stats_model(
    sf_model: str,
    seasonal: bool,
    season_length: int,
    params: dict[str, Any],
    decompose: bool = False,
) -> Any:
    from statsforecast import models as sm

    if decompose and seasonal and season_length > 1:
        trend = getattr(sm, sf_model)(**non_seasonal_params(sf_model, params))
        return sm.MSTL(season_length=season_length, trend_forecaster=trend)
    seasonality = {"season_length": season_length} if seasonal else {}
    return getattr(sm, sf_model)(**seasonality, **params)


class StatsForecaster(ForecasterBase):
    """A statsforecast model (Naive, SeasonalNaive, WindowAverage, AutoETS, AutoTheta, ...).

    Parameters
    ----------
    sf_model : str
        The class name in ``statsforecast.models`` (``"AutoETS"``).
    freq, season_length : str, int
        Pandas frequency and season length of the data.
    params : dict, optional
        The model's own settings (e.g. ``model`` and ``damped`` for AutoETS).
    seasonal : bool
        Whether the model takes ``season_length``.
    max_history : int, optional
        Fit on at most the last ``max_history`` periods of each series.
    n_jobs : int
        statsforecast worker processes.
    decompose : bool
        Model the season by STL decomposition (statsforecast ``MSTL``) and fit
        the model without its season on the seasonally adjusted series.
    """

    def __init__(
        self,
        sf_model: str,
        freq: str,
        season_length: int,
        params: dict[str, Any] | None = None,
        seasonal: bool = True,
        max_history: int | None = None,
        n_jobs: int = 1,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        decompose: bool = False,
    ) -> None:
        self.sf_model, self.freq, self.season_length = sf_model, freq, season_length
        self.params, self.seasonal = dict(params or {}), seasonal
        self.max_history, self.n_jobs = max_history, n_jobs
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col
        self.decompose = decompose

    def _model(self) -> Any:
        return _stats_model(
            self.sf_model, self.seasonal, self.season_length, self.params, self.decompose
        )

    def _cols(self, df: pd.DataFrame) -> pd.DataFrame:
        df = df[[self.id_col, self.time_col, self.target_col]]
        if self.max_history:
            df = df.groupby(self.id_col, sort=False).tail(self.max_history)
        return df

    def fit(self, df: pd.DataFrame) -> StatsForecaster:
        from statsforecast import StatsForecast

        model = self._model()
        self.alias_ = str(model)
        self.sf_ = StatsForecast(models=[model], freq=self.freq, n_jobs=self.n_jobs)
        with warnings.catch_warnings(), fork_server_pools(self.sf_):
            warnings.simplefilter("ignore")
            self.sf_.fit(
                self._cols(df),
                id_col=self.id_col,
                time_col=self.time_col,
                target_col=self.target_col,
            )
        self.history_: pd.DataFrame | None = None
        return self

    def update(self, df: pd.DataFrame) -> StatsForecaster:
        """Keep the parameters, forecast from the end of ``df``.

        statsforecast can filter new data through a fitted model only where the
        model class has ``forward`` (not WindowAverage, CrostonOptimized, ADIDA):
        those refit, and their registry entries are not tagged ``refit_free``.
        """
        if not hasattr(self.sf_.fitted_[0, 0], "forward"):  # statsforecast's, not ours
            return self.fit(df)
        self.history_ = self._cols(df)
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        if self.history_ is None:
            with fork_server_pools(self.sf_):
                out = self.sf_.predict(h=h).rename(columns={self.alias_: "yhat"})
            return out[[self.id_col, self.time_col, "yhat"]].reset_index(drop=True)
        models = dict(zip(self.sf_.uids, self.sf_.fitted_[:, 0], strict=True))
        ids, last, values = [], [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for uid, part in self.history_.groupby(self.id_col, sort=True):
                fc = models[uid].forward(y=part[self.target_col].to_numpy(float), h=h)["mean"]
                ids.append(uid)
                last.append(part[self.time_col].iloc[-1])
                values.append(fc)
        return pd.DataFrame(
            {
                self.id_col: np.repeat(np.asarray(ids, dtype=object), h),
                self.time_col: future_dates(pd.Series(last), h, self.freq),
                "yhat": np.concatenate(values) if values else [],
            }
        )


GROWTH_LIMITS = (1 / 3, 3.0)


class LastYearGrowth(ForecasterBase):
    """The sales manager's rule: same period last year times last quarter's year-over-year growth.

    ``yhat[T+j] = y[T+j-year] * sum(y[T-q+1 .. T]) / sum(y[T-q+1-year .. T-year])`` with
    ``year`` periods per year (364 days, 52 weeks, 12 months) and ``q`` a quarter
    of it (91 days, 13 weeks, 3 months). Steps beyond a year reuse the same
    period of the latest year on record. Growth is 1 when either quarter sold
    nothing (or less than nothing: returns), and it is held within
    :data:`GROWTH_LIMITS` (a third to three times): a slow mover that sold 0.02
    last year and 40 this quarter does not get a 2,000-fold forecast. A series
    with less than a year and a quarter of history gets the seasonal naive
    forecast instead.
    """

    def __init__(
        self,
        freq: str,
        season_length: int,
        year: int | None = None,
        quarter: int | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
    ) -> None:
        self.freq, self.season_length = freq, season_length
        self.year = int(year or periods_per_year(freq))
        self.quarter = int(quarter or max(1, round(self.year / 4)))
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col

    def fit(self, df: pd.DataFrame) -> LastYearGrowth:
        width = max(self.year + self.quarter, self.season_length)
        tail = df.groupby(self.id_col, sort=True).tail(width)
        codes, self.ids_ = pd.factorize(tail[self.id_col], sort=True)
        counts = np.bincount(codes, minlength=len(self.ids_))
        pos = tail.groupby(self.id_col, sort=True).cumcount().to_numpy()
        values = np.full((len(self.ids_), width), np.nan)
        values[codes, width - counts[codes] + pos] = tail[self.target_col].to_numpy(float)
        self.values_, self.counts_ = values, counts
        self.last_ = tail.groupby(self.id_col, sort=True)[self.time_col].max().to_numpy()
        return self

    def update(self, df: pd.DataFrame) -> LastYearGrowth:
        """Forecast from the end of ``df``: the rule estimates nothing, so this is :meth:`fit`."""
        return self.fit(df)

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        v, yr, q, m = self.values_, self.year, self.quarter, self.season_length
        width = v.shape[1]
        j = np.arange(1, h + 1)
        same_last_year = v[:, width - 1 + j - yr * np.ceil(j / yr).astype(int)]
        seasonal_naive = v[:, width - 1 + j - m * np.ceil(j / m).astype(int)]
        with np.errstate(invalid="ignore", divide="ignore"):
            recent = v[:, width - q :].sum(axis=1)
            before = v[:, width - q - yr : width - yr].sum(axis=1)
            growth = np.where((before > 0) & (recent > 0), recent / before, 1.0)
        growth = np.clip(growth, *GROWTH_LIMITS)
        has_year = self.counts_ >= yr + q
        yhat = np.where(has_year[:, None], same_last_year * growth[:, None], seasonal_naive)
        return pd.DataFrame(
            {
                self.id_col: np.repeat(np.asarray(self.ids_, dtype=object), h),
                self.time_col: future_dates(pd.Series(self.last_), h, self.freq),
                "yhat": yhat.ravel(),
            }
        )


class EnsembleForecaster(ForecasterBase):
    """The mean or median (``how``) of members' forecasts (:mod:`salesml.forecast.ensemble`)."""

    def __init__(
        self,
        members: list[Forecaster],
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        how: str = "mean",
    ) -> None:
        self.members, self.how = members, how
        self.freq = next((m.freq for m in members), "")
        self.exog = tuple(dict.fromkeys(c for m in members for c in m.exog))
        self.uses_exog = bool(self.exog)
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col

    def fit(self, df: pd.DataFrame) -> EnsembleForecaster:
        """Fit every member on ``df`` (the task combines members it has fitted already)."""
        for m in self.members:
            m.fit(df)
        return self

    def update(self, df: pd.DataFrame) -> EnsembleForecaster:
        """Move every member's origin to the end of ``df``."""
        for m in self.members:
            m.update(df)
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        keys = [self.id_col, self.time_col]
        frames = [m.predict(h, X_df).set_index(keys)["yhat"] for m in self.members]
        both = pd.concat(frames, axis=1, join="inner")  # `how`: absent in older exports
        out = both.median(axis=1) if getattr(self, "how", "") == "median" else both.mean(axis=1)
        return out.rename("yhat").reset_index()


@dataclass(frozen=True)
class ForecastContext:
    """What every forecast builder receives: the data's frequency, season and columns."""

    freq: str
    season_length: int
    exog: tuple[str, ...] = ()
    seed: int = 0
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"

    @property
    def cols(self) -> dict[str, str]:
        return {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col}


_CHEAP = ("Naive", "SeasonalNaive", "WindowAverage")


def statistical(
    ctx: ForecastContext,
    *,
    sf_model: str,
    seasonal: bool = True,
    max_history: int | None = None,
    n_jobs: int | None = None,
    season_method: str = "auto",
    **params: Any,
) -> StatsForecaster:
    """Builder of the statsforecast candidates (registry entries name ``sf_model``).

    ``season_method`` (ETS and ARIMA): ``states`` fits the season inside the model,
    ``stl`` by STL decomposition (:data:`LONG_SEASON`); ``auto`` uses ``stl`` for
    seasons longer than 24 periods (weekly data) and ``states`` otherwise; Theta
    there fits the last :data:`THETA_SEASONS` seasons unless ``max_history`` is given.
    """
    if season_method not in ("auto", "states", "stl"):
        raise ValueError(f"season_method must be auto, states or stl, got {season_method!r}")
    cores = max(1, os.cpu_count() or 1)  # default: every core (statsforecast worker processes)
    if n_jobs is not None and n_jobs < 0:
        n_jobs = cores
    jobs = n_jobs or (1 if sf_model in _CHEAP else cores)
    decompose = sf_model in DECOMPOSABLE and stl_season(season_method, ctx.season_length)
    if sf_model == "AutoTheta" and max_history is None and ctx.season_length > LONG_SEASON:
        max_history = THETA_SEASONS * ctx.season_length
    return StatsForecaster(
        sf_model,
        ctx.freq,
        ctx.season_length,
        params,
        seasonal=seasonal,
        max_history=max_history,
        n_jobs=jobs,
        **ctx.cols,
        decompose=decompose,
    )


def moving_average(
    ctx: ForecastContext,
    window: int | None = None,
    max_history: int | None = None,
    n_jobs: int | None = None,
) -> StatsForecaster:
    """Builder of ``moving_average``: the mean of the last ``window`` periods (default a season)."""
    return statistical(
        ctx,
        sf_model="WindowAverage",
        seasonal=False,
        max_history=max_history,
        n_jobs=n_jobs,
        window_size=int(window or ctx.season_length),
    )


def last_year_growth(
    ctx: ForecastContext, year: int | None = None, quarter: int | None = None
) -> LastYearGrowth:
    """Builder of ``last_year_growth`` (see :class:`LastYearGrowth`)."""
    return LastYearGrowth(ctx.freq, ctx.season_length, year, quarter, **ctx.cols)
