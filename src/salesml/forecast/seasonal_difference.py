"""A seasonal model for series with one to two seasons of history: the year-over-year change.

Statistical models take a season from at least two seasons of history (STL
decomposition and seasonal ETS states both need them): a weekly series with 60 to
103 weeks has no seasonal model. Its non-seasonal form ignores the season, which
on retail sales forecasts January from December's peak (Walmart's calibration
window, 103 weeks: scaled error 1.78 against 0.64 for this form).

:class:`SeasonalDifference` keeps the season the series has shown once and
models what changes from one season to the next:

    d[t] = y[t] - y[t - m]        (m = season_length)
    yhat[T + j] = y[T + j - m] + dhat[j]      (j <= m; beyond, yhat[T + j - m])

where ``dhat`` is the forecast of a non-seasonal model (the candidate's own, in
its non-seasonal form) fitted on the differences ``d``: seasonal differencing,
as in a seasonal ARIMA with ``D = 1``, and "the same week last year plus the
recent change" of a sales manager's rule, with the change smoothed by the
model. The fallback ladder (:mod:`salesml.forecast.fallback`) gives it only to
series the seasonality test finds seasonal: on a series without a season,
differencing a season apart only adds noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesml.forecast.contract import ForecasterBase
from salesml.forecast.data import future_dates
from salesml.forecast.models import StatsForecaster


def difference_params(sf_model: str, params: dict[str, Any]) -> dict[str, Any]:
    """The settings of a model of differences: an ETS ``model`` string keeps additive parts only.

    Differences cross zero, so multiplicative errors and trends (``M``) become
    additive (``A``); automatic choices (``Z``) and the rest are kept.
    """
    params = dict(params)
    model = params.get("model")
    if sf_model == "AutoETS" and isinstance(model, str) and len(model) == 3:
        params["model"] = model[:2].replace("M", "A") + model[2]
    return params


class SeasonalDifference(ForecasterBase):
    """``inner`` (a non-seasonal model) on the differences ``y[t] - y[t - season_length]``.

    Parameters
    ----------
    inner : StatsForecaster
        The non-seasonal model of the differences (``season_length`` 1).
    season_length : int
        The lag of the differences; a series needs more than this many periods.
    """

    def __init__(self, inner: StatsForecaster, season_length: int) -> None:
        self.inner, self.season_length = inner, int(season_length)
        self.freq = inner.freq
        self.id_col, self.time_col, self.target_col = inner.id_col, inner.time_col, inner.target_col

    def _sorted(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = [self.id_col, self.time_col, self.target_col]
        return df[cols].sort_values(cols[:2], kind="mergesort")

    def _differences(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` (sorted by series and date) with the target replaced by its seasonal differences."""
        y = df[self.target_col].to_numpy(float)
        lagged = df.groupby(self.id_col, sort=False)[self.target_col].shift(self.season_length)
        keep = lagged.notna().to_numpy()
        return df.assign(**{self.target_col: y - lagged.to_numpy(float)})[keep]

    def _keep_last_season(self, df: pd.DataFrame) -> None:
        m = self.season_length
        tail = df.groupby(self.id_col, sort=True).tail(m)
        counts = tail.groupby(self.id_col, sort=True).size()
        if (counts < m).any():
            short = counts.index[counts < m][0]
            raise ValueError(
                f"series {short!r} has {counts[short]} periods; a seasonal difference needs "
                f"more than {m}"
            )
        self.ids_ = counts.index.to_numpy(object)
        self.last_season_ = tail[self.target_col].to_numpy(float).reshape(len(self.ids_), m)
        self.last_ = tail.groupby(self.id_col, sort=True)[self.time_col].max().to_numpy()

    def fit(self, df: pd.DataFrame) -> SeasonalDifference:
        """Fit the inner model on the seasonal differences; keep each series' last season."""
        df = self._sorted(df)
        self._keep_last_season(df)
        self.inner.fit(self._differences(df))
        return self

    def update(self, df: pd.DataFrame) -> SeasonalDifference:
        """Move the origin to the end of ``df`` (the inner model's own :meth:`update`)."""
        df = self._sorted(df)
        self._keep_last_season(df)
        self.inner.update(self._differences(df))
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        """Last season's values, season by season, plus the forecast differences."""
        d = self.inner.predict(h)
        order = pd.Index(self.ids_).get_indexer(d[self.id_col])
        step = d.groupby(self.id_col, sort=False).cumcount().to_numpy()
        diffs = np.full((len(self.ids_), h), np.nan)
        diffs[order, step] = d["yhat"].to_numpy(float)
        m = self.season_length
        yhat = np.concatenate([self.last_season_, np.empty((len(self.ids_), h))], axis=1)
        for j in range(h):  # step j + 1 is the value a season earlier plus its difference
            yhat[:, m + j] = yhat[:, j] + diffs[:, j]
        return pd.DataFrame(
            {
                self.id_col: np.repeat(self.ids_, h),
                self.time_col: future_dates(pd.Series(self.last_), h, self.freq),
                "yhat": yhat[:, m:].ravel(),
            }
        )
