"""Exogenous columns known in advance (``future``) or only observed (``past``).

A **future** covariate (calendar, holiday, planned promotion or price) is known
when the forecast is made: its values over the horizon are read from the
forecast input, and the exported model needs them.

A **past** covariate (weather, macro figures, traffic) is only observed. It
enters the models lagged by at least the horizon ``h``: the column
``Temperature`` with lags ``[8, 9]`` becomes the features ``Temperature_lag8``
and ``Temperature_lag9``, each period's value ``h`` (or more) periods earlier in
its own series. For every date of a forecast made at origin ``T`` (the dates
``T+1 … T+h``) a lag of at least ``h`` reads a value at ``T`` or before, so the
features are known when the forecast is made: the backtest uses nothing after
its cutoff, and the exported model computes them from the history it stores
(:class:`PastCovariates`), so forecasting needs ids, dates and the future
covariates only. The first ``lag`` periods of a series have no value (missing:
LightGBM treats it as such).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError

# an exog column with text values and at most this many distinct numbers is categorical
MAX_NUMBERS_IN_CATEGORY = 20


def categorical(values: pd.Series, categories: Any = None) -> pd.Series:
    """An exogenous column that is not numeric, as a pandas category of its values as text.

    Missing values stay missing; with ``categories`` (those seen in training),
    a value outside them becomes missing too.
    """
    text = values.astype(str).where(values.notna())
    if categories is None:
        categories = sorted(text.dropna().unique())
    return pd.Series(pd.Categorical(text, categories=categories), index=values.index)


def lag_name(column: str, lag: int) -> str:
    """The feature name of ``column`` lagged by ``lag`` periods."""
    return f"{column}_lag{int(lag)}"


def past_lags(lags: list[int] | None, horizon: int) -> list[int]:
    """The lags of the past covariates: ``lags`` as configured, else just the horizon."""
    return sorted({int(v) for v in lags}) if lags else [int(horizon)]


def _shifted(
    values: pd.DataFrame, columns: list[str], lag: int, freq: str, id_col: str, time_col: str
) -> pd.DataFrame:
    """``values`` re-dated ``lag`` periods later, the columns renamed to their lag names."""
    from pandas.tseries.frequencies import to_offset

    out = values[[id_col, time_col, *columns]].copy()
    out[time_col] = out[time_col] + int(lag) * to_offset(freq)
    return out.rename(columns={c: lag_name(c, lag) for c in columns})


def add_lagged(
    frame: pd.DataFrame,
    history: pd.DataFrame,
    columns: list[str],
    lags: list[int],
    freq: str,
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> pd.DataFrame:
    """``frame`` with each past column of ``history`` lagged (one column per column and lag).

    Parameters
    ----------
    frame : DataFrame
        Rows (``id_col``, ``time_col``) that get the lagged features; its row order is kept.
    history : DataFrame
        Observed values of ``columns`` per series and date (a regular grid of ``freq``).
    lags : list of int
        Periods to lag by (each at least the horizon: see the module docstring).

    Returns
    -------
    DataFrame
        ``frame`` plus the columns :func:`lag_name` ``(column, lag)``; missing where
        the history has no value that many periods earlier.
    """
    out = frame.reset_index(drop=True)
    keys = [id_col, time_col]
    for lag in lags:
        shifted = _shifted(history, columns, lag, freq, id_col, time_col)
        names = [lag_name(c, lag) for c in columns]
        out = out.drop(columns=[n for n in names if n in out.columns])
        out = out.merge(shifted, on=keys, how="left", validate="many_to_one")
    return out


@dataclass
class PastCovariates:
    """The history an exported model keeps to compute its past-covariate features.

    Attributes
    ----------
    columns : list of str
        The past (observed-only) columns.
    lags : list of int
        Their lags, each at least the horizon.
    freq : str
        The series' frequency.
    history : DataFrame
        ``id_col, time_col`` and ``columns``: each series' last ``max(lags)`` periods.
    """

    columns: list[str]
    lags: list[int]
    freq: str
    history: pd.DataFrame
    id_col: str = "unique_id"
    time_col: str = "ds"

    @classmethod
    def from_history(
        cls,
        df: pd.DataFrame,
        columns: list[str],
        lags: list[int],
        freq: str,
        id_col: str = "unique_id",
        time_col: str = "ds",
    ) -> PastCovariates:
        """Keep the last ``max(lags)`` periods of ``columns`` of every series of ``df``."""
        tail = (
            df.sort_values([id_col, time_col], kind="mergesort")
            .groupby(id_col, sort=True)
            .tail(max(lags))
        )
        history = tail[[id_col, time_col, *columns]].reset_index(drop=True)
        return cls(list(columns), list(lags), freq, history, id_col, time_col)

    @property
    def features(self) -> list[str]:
        """The feature names the models read (:func:`lag_name` of each column and lag)."""
        return [lag_name(c, lag) for lag in self.lags for c in self.columns]

    def last_dates(self) -> pd.Series:
        """Each series' last observed date."""
        return self.history.groupby(self.id_col)[self.time_col].max()

    def fill(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (future rows ``id_col, time_col``) with the lagged features filled in.

        Raises
        ------
        DataError
            For a date further than ``min(lags)`` periods after the series' last
            observed date (a past covariate is not known there), naming it.
        """
        from pandas.tseries.frequencies import to_offset

        last = self.last_dates().reindex(frame[self.id_col]).to_numpy()
        limit = pd.DatetimeIndex(last) + min(self.lags) * to_offset(self.freq)
        late = np.asarray(pd.DatetimeIndex(frame[self.time_col]) > limit)
        if late.any():
            row = frame[late].iloc[0]
            raise DataError(
                f"model input: series {row[self.id_col]!r} on {row[self.time_col]:%Y-%m-%d} is more "
                f"than {min(self.lags)} periods after its history (last date "
                f"{pd.Timestamp(last[np.argmax(late)]):%Y-%m-%d}); the past covariates "
                f"{', '.join(self.columns)} are known only that far ahead: forecast at most "
                f"{min(self.lags)} periods"
            )
        return add_lagged(
            frame, self.history, self.columns, self.lags, self.freq, self.id_col, self.time_col
        )
