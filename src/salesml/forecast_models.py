"""Forecasters for the forecast task: baselines, statistical models, a global LightGBM.

Every forecaster works on long-format frames (one row per series and period,
regular dates) and has the same small interface:

- ``fit(df)`` learns from the history and returns ``self``;
- ``predict(h, X_df=None)`` returns ``id_col, time_col, "yhat"`` for the next
  ``h`` periods of every series; ``X_df`` holds future exogenous values and is
  used when ``uses_exog`` is true;
- ``update(df)`` (statistical models and LightGBM) keeps the estimated
  parameters but moves the forecast origin to the end of ``df``; the backtest
  uses it for candidates with ``refit: false``.

:class:`ForecastPyfunc` wraps a fitted forecaster and its conformal intervals
as an ``mlflow.pyfunc.PythonModel``. statsforecast, mlforecast, lightgbm and
mlflow are imported only when they are used.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

STAT_TYPES = ("naive", "seasonal_naive", "moving_average", "auto_ets", "auto_theta", "auto_arima")
_SEASON = {"D": 7, "B": 5, "W": 52, "M": 12, "ME": 12, "MS": 12, "SM": 24, "SMS": 24, "Q": 4}
_SEASON |= {"QE": 4, "QS": 4, "BQ": 4, "BQE": 4, "BM": 12, "BME": 12, "BMS": 12, "h": 24, "H": 24}
_SEASON |= {"min": 60, "T": 60}
_YEAR = {"D": 364, "B": 260, "W": 52, "SM": 24, "SMS": 24, "h": 8736, "H": 8736}
_STAT_PARAMS = {
    "naive": (),
    "seasonal_naive": (),
    "moving_average": ("window",),
    "auto_ets": ("model", "damped"),
    "auto_theta": ("decomposition_type", "model"),
    "auto_arima": ("d", "D", "max_p", "max_q", "max_P", "max_Q", "stepwise", "approximation"),
}


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


def future_dates(last: pd.Series, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` dates after each value of ``last`` (one block of ``h`` per value)."""
    out = []
    for when in last:
        out.append(pd.date_range(when, periods=h + 1, freq=freq)[1:])
    return (
        pd.DatetimeIndex(np.concatenate([d.values for d in out])) if out else pd.DatetimeIndex([])
    )


def _stats_model(kind: str, season_length: int, params: dict[str, Any]) -> Any:
    from statsforecast import models as sm

    unknown = set(params) - set(_STAT_PARAMS[kind])
    if unknown:
        allowed = ", ".join((*_STAT_PARAMS[kind], "max_history", "n_jobs", "refit"))
        raise ValueError(f"{kind}: unknown params {sorted(unknown)}; allowed: {allowed}")
    if kind == "naive":
        return sm.Naive()
    if kind == "seasonal_naive":
        return sm.SeasonalNaive(season_length=season_length)
    if kind == "moving_average":
        return sm.WindowAverage(window_size=int(params.get("window", season_length)))
    if kind == "auto_ets":
        return sm.AutoETS(season_length=season_length, **params)
    if kind == "auto_theta":
        return sm.AutoTheta(season_length=season_length, **params)
    return sm.AutoARIMA(season_length=season_length, **params)


class StatsForecaster:
    """A statsforecast model (Naive, SeasonalNaive, WindowAverage, AutoETS, AutoTheta, AutoARIMA).

    Parameters
    ----------
    kind : str
        One of :data:`STAT_TYPES`.
    freq, season_length : str, int
        Pandas frequency and season length of the data.
    params : dict, optional
        Model settings (e.g. ``window`` for moving_average, ``model`` for auto_ets).
    max_history : int, optional
        Fit on at most the last ``max_history`` periods of each series.
    n_jobs : int
        statsforecast worker processes.
    """

    uses_exog = False
    exog: tuple[str, ...] = ()

    def __init__(
        self,
        kind: str,
        freq: str,
        season_length: int,
        params: dict[str, Any] | None = None,
        max_history: int | None = None,
        n_jobs: int = 1,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
    ) -> None:
        self.kind, self.freq, self.season_length = kind, freq, season_length
        self.params = dict(params or {})
        self.max_history, self.n_jobs = max_history, n_jobs
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col
        _stats_model(kind, season_length, self.params)  # fail early on bad params

    def _cols(self, df: pd.DataFrame) -> pd.DataFrame:
        df = df[[self.id_col, self.time_col, self.target_col]]
        if self.max_history:
            df = df.groupby(self.id_col, sort=False).tail(self.max_history)
        return df

    def fit(self, df: pd.DataFrame) -> StatsForecaster:
        from statsforecast import StatsForecast

        model = _stats_model(self.kind, self.season_length, self.params)
        self.alias_ = str(model)
        self.sf_ = StatsForecast(models=[model], freq=self.freq, n_jobs=self.n_jobs)
        with warnings.catch_warnings():
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
        """Keep the parameters, forecast from the end of ``df`` (refit if unsupported)."""
        if not hasattr(self.sf_.fitted_[0, 0], "forward"):
            return self.fit(df)
        self.history_ = self._cols(df)
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        if self.history_ is None:
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


class LastYearGrowth:
    """The sales manager's rule: same period last year times last quarter's year-over-year growth.

    ``yhat[T+j] = y[T+j-year] * sum(y[T-q+1 .. T]) / sum(y[T-q+1-year .. T-year])`` with
    ``year`` periods per year (364 days, 52 weeks, 12 months) and ``q`` a quarter
    of it (91 days, 13 weeks, 3 months). Steps beyond a year reuse the same
    period of the latest year on record. Growth is 1 when last year's quarter
    sold nothing. A series with less than a year and a quarter of history gets
    the seasonal naive forecast instead.
    """

    uses_exog = False
    exog: tuple[str, ...] = ()

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

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        v, yr, q, m = self.values_, self.year, self.quarter, self.season_length
        width = v.shape[1]
        j = np.arange(1, h + 1)
        same_last_year = v[:, width - 1 + j - yr * np.ceil(j / yr).astype(int)]
        seasonal_naive = v[:, width - 1 + j - m * np.ceil(j / m).astype(int)]
        with np.errstate(invalid="ignore", divide="ignore"):
            recent = v[:, width - q :].sum(axis=1)
            before = v[:, width - q - yr : width - yr].sum(axis=1)
            growth = np.where(before > 0, recent / before, 1.0)
        has_year = self.counts_ >= yr + q
        yhat = np.where(has_year[:, None], same_last_year * growth[:, None], seasonal_naive)
        return pd.DataFrame(
            {
                self.id_col: np.repeat(np.asarray(self.ids_, dtype=object), h),
                self.time_col: future_dates(pd.Series(self.last_), h, self.freq),
                "yhat": yhat.ravel(),
            }
        )


class HolidayFeature:
    """Count of US federal holidays in each period (a picklable mlforecast date feature).

    A date labels the period that ends on it (``W-FRI``: Saturday to Friday),
    or that starts on it for month/quarter/year-begin frequencies.
    """

    __name__ = "us_holidays"

    def __init__(self, freq: str) -> None:
        self.freq = freq

    def __call__(self, dates: Any) -> np.ndarray:
        from pandas.tseries.frequencies import to_offset
        from pandas.tseries.holiday import USFederalHolidayCalendar

        dates = pd.DatetimeIndex(dates)
        offset = to_offset(self.freq)
        hol = USFederalHolidayCalendar().holidays(
            dates.min() - pd.Timedelta(days=400), dates.max() + pd.Timedelta(days=400)
        )
        hol = hol.values.astype("datetime64[D]")
        day = dates.values.astype("datetime64[D]")
        if type(offset).__name__.endswith("Begin"):
            lo, hi = day - 1, (dates + offset).values.astype("datetime64[D]") - 1
        else:
            lo, hi = (dates - offset).values.astype("datetime64[D]"), day
        return (np.searchsorted(hol, hi, "right") - np.searchsorted(hol, lo, "right")).astype(float)


def _default_features(freq: str, season_length: int) -> tuple[list[int], list[int], list[str]]:
    code, _ = _freq_code(freq)
    m = season_length
    lags = sorted({1, 2, 3, 4, m} if m > 1 else {1, 2, 3, 4})
    if code in ("D", "B"):
        return sorted({*lags, 2 * m, 4 * m}), [m, 4 * m], ["dayofweek", "month", "dayofyear"]
    if code == "W":
        return lags, [4, 13], ["week", "month"]
    if code in ("h", "H"):
        return sorted({*lags, m, 7 * m}), [m], ["hour", "dayofweek"]
    return lags, [max(2, m // 4), m], ["month"] if code[0] in "MQ" else []


class GlobalLightGBM:
    """One LightGBM over all series (mlforecast): lags, rolling means, calendar, holidays, exog.

    Each series is standardised by its own mean and deviation before the
    global model sees it; forecasts are recursive.

    Parameters
    ----------
    params : dict, optional
        ``lags``, ``rolling`` (rolling-mean windows of lag 1), ``date_features``,
        ``holidays`` (``"US"`` or null), ``exog`` (false to ignore exogenous
        columns); any other key is passed to ``lightgbm.LGBMRegressor``.
    """

    def __init__(
        self,
        freq: str,
        season_length: int,
        exog: list[str] | tuple[str, ...] = (),
        params: dict[str, Any] | None = None,
        seed: int = 0,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
    ) -> None:
        p = dict(params or {})
        lags, windows, dates = _default_features(freq, season_length)
        self.freq, self.season_length = freq, season_length
        self.lags = [int(v) for v in p.pop("lags", lags)]
        self.windows = [int(v) for v in p.pop("rolling", windows)]
        self.date_features = list(p.pop("date_features", dates))
        self.holidays = p.pop("holidays", "US")
        self.exog = tuple(exog) if p.pop("exog", True) else ()
        self.uses_exog = bool(self.exog)
        self.lgb_params = {
            "n_estimators": 300,
            "learning_rate": 0.03,
            "num_leaves": 15,
            "min_child_samples": 10,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "n_jobs": 1,
            "random_state": seed,
            "deterministic": True,
            "verbose": -1,
            **p,
        }
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col

    def fit(self, df: pd.DataFrame) -> GlobalLightGBM:
        import lightgbm as lgb
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean
        from mlforecast.target_transforms import LocalStandardScaler

        features: list[Any] = list(self.date_features)
        if self.holidays:
            if str(self.holidays).upper() != "US":
                raise ValueError(f"lightgbm_global: holidays {self.holidays!r}; use 'US' or null")
            features.append(HolidayFeature(self.freq))
        self.mlf_ = MLForecast(
            models={"yhat": lgb.LGBMRegressor(**self.lgb_params)},
            freq=self.freq,
            lags=self.lags,
            lag_transforms={1: [RollingMean(window_size=w) for w in self.windows]},
            date_features=features,
            target_transforms=[LocalStandardScaler()],
        )
        cols = [self.id_col, self.time_col, self.target_col, *self.exog]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.mlf_.fit(
                df[cols],
                id_col=self.id_col,
                time_col=self.time_col,
                target_col=self.target_col,
                static_features=[],
                dropna=False,
            )
        self.new_df_: pd.DataFrame | None = None
        return self

    def update(self, df: pd.DataFrame) -> GlobalLightGBM:
        """Keep the trained model, forecast from the end of ``df``."""
        self.new_df_ = df[[self.id_col, self.time_col, self.target_col, *self.exog]]
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        X, ids = None, None
        if self.exog:
            if X_df is None:
                raise ValueError(f"lightgbm_global needs future values of {', '.join(self.exog)}")
            X = X_df[[self.id_col, self.time_col, *self.exog]]
            ids = list(pd.unique(X[self.id_col]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.mlf_.predict(h, X_df=X, new_df=self.new_df_, ids=ids)
        return out[[self.id_col, self.time_col, "yhat"]].reset_index(drop=True)


class EnsembleForecaster:
    """The mean of fitted member forecasters' point forecasts."""

    def __init__(self, members: list[Any], id_col: str = "unique_id", time_col: str = "ds") -> None:
        self.members = members
        self.exog = tuple(dict.fromkeys(c for m in members for c in m.exog))
        self.uses_exog = bool(self.exog)
        self.id_col, self.time_col = id_col, time_col

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        keys = [self.id_col, self.time_col]
        frames = [m.predict(h, X_df).set_index(keys)["yhat"] for m in self.members]
        out = pd.concat(frames, axis=1, join="inner").mean(axis=1).rename("yhat")
        return out.reset_index()


def _default_jobs() -> int:
    import os

    return max(1, min(2, os.cpu_count() or 1))


def build_forecaster(
    kind: str,
    params: dict[str, Any],
    freq: str,
    season_length: int,
    exog: list[str] | tuple[str, ...] = (),
    seed: int = 0,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> Any:
    """An unfitted forecaster for candidate ``kind`` (not ``ensemble``).

    ``params`` may also hold ``max_history`` and ``n_jobs`` (statistical
    models); the backtest option ``refit`` is removed by the caller.
    """
    cols = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    p = dict(params)
    if kind in STAT_TYPES:
        jobs = 1 if kind in ("naive", "seasonal_naive", "moving_average") else _default_jobs()
        extra = {"max_history": p.pop("max_history", None), "n_jobs": int(p.pop("n_jobs", jobs))}
        return StatsForecaster(kind, freq, season_length, p, **extra, **cols)
    if kind == "last_year_growth":
        unknown = set(p) - {"year", "quarter"}
        if unknown:
            raise ValueError(
                f"last_year_growth: unknown params {sorted(unknown)}; allowed: year, quarter"
            )
        return LastYearGrowth(freq, season_length, p.get("year"), p.get("quarter"), **cols)
    if kind == "lightgbm_global":
        return GlobalLightGBM(freq, season_length, exog, p, seed, **cols)
    raise ValueError(f"unknown forecast candidate type {kind!r}")
