"""One LightGBM over all series (mlforecast): lags, rolling means, calendar, holidays, exog."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from salesml.forecast.contract import ForecasterBase
from salesml.forecast.models import ForecastContext, _freq_code
from salesml.forecast.registry import PARTITION_SERIES


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


class GlobalLightGBM(ForecasterBase):
    """One LightGBM over all series (mlforecast): lags, rolling means, calendar, holidays, exog.

    Exogenous columns (:mod:`salesml.forecast.covariates`: future columns and
    lagged past ones) are features; categorical ones (pandas categories) are
    split on natively (``min_data_per_group`` 10 and ``cat_smooth`` 1 rather than
    LightGBM's 100 and 10, so a code seen a few dozen times is used), a value
    unseen in training counts as missing. Each series is standardised by its own mean and deviation before the
    global model sees it; forecasts are recursive.

    Parameters
    ----------
    params : dict, optional
        ``lags``, ``rolling`` (rolling-mean windows of lag 1), ``date_features``,
        ``holidays`` (``"US"`` or null), ``exog`` (false to ignore exogenous
        columns); any other key is passed to ``lightgbm.LGBMRegressor``.
    partition_series : int
        ``engine: spark`` only: at most this many series per model (see
        :class:`salesml.forecast.spark_models.PartitionedLightGBM`).
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
        partition_series: int = PARTITION_SERIES,
    ) -> None:
        p = dict(params or {})
        self.partition_series = int(partition_series)
        lags, windows, dates = _default_features(freq, season_length)
        self.freq, self.season_length = freq, season_length
        self.lags = [int(v) for v in p.pop("lags", None) or lags]
        self.windows = [int(v) for v in p.pop("rolling", None) or windows]
        self.date_features = list(p.pop("date_features", None) or dates)
        self.holidays = p.pop("holidays", "US")
        self.exog = tuple(exog) if p.pop("exog", True) else ()
        self.uses_exog = bool(self.exog)
        self.lgb_params = {
            "n_estimators": 300,
            "learning_rate": 0.03,
            "num_leaves": 15,
            "min_child_samples": 10,
            # categorical columns only: a rare holiday code still gets its own split
            "min_data_per_group": 10,
            "cat_smooth": 1.0,
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

    def describe(self) -> dict[str, Any]:
        """The lags, rolling windows and exogenous columns it was built with."""
        return {"lags": self.lags, "rolling": self.windows, "exog": list(self.exog)}

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
        # categorical exog columns (salesml.forecast.data.categorical): LightGBM splits on them
        self.categories_ = {
            c: list(df[c].cat.categories)
            for c in self.exog
            if isinstance(df[c].dtype, pd.CategoricalDtype)
        }
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
        self.new_df_ = self._categories(
            df[[self.id_col, self.time_col, self.target_col, *self.exog]]
        )
        return self

    def _categories(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its categorical columns on the training categories (others: missing)."""
        from salesml.forecast.covariates import categorical

        cats = getattr(self, "categories_", {})  # models pickled before categories
        if not cats:
            return frame
        return frame.assign(**{c: categorical(frame[c], v) for c, v in cats.items()})

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        X, ids = None, None
        if self.exog:
            if X_df is None:
                raise ValueError(f"lightgbm_global needs future values of {', '.join(self.exog)}")
            X = self._categories(X_df[[self.id_col, self.time_col, *self.exog]])
            ids = list(pd.unique(X[self.id_col]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.mlf_.predict(h, X_df=X, new_df=self.new_df_, ids=ids)
        return out[[self.id_col, self.time_col, "yhat"]].reset_index(drop=True)


def lightgbm_global(
    ctx: ForecastContext, partition_series: int = PARTITION_SERIES, **params: Any
) -> GlobalLightGBM:
    """Builder of ``lightgbm_global`` (see :class:`GlobalLightGBM` for ``params``)."""
    return GlobalLightGBM(
        ctx.freq,
        ctx.season_length,
        ctx.exog,
        params,
        ctx.seed,
        **ctx.cols,
        partition_series=partition_series,
    )
