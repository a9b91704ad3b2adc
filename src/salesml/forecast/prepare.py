"""Series in, a backtest plan out: the data half of a forecast experiment.

:func:`prepare_series` reads the file into the long format ``unique_id, ds, y``
(plus exogenous columns), handles returns and gaps, leaves out series it cannot
use, chooses the backtest origins and returns everything the fits need in one
frozen :class:`ForecastPrepared`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.experiment.results import ForecastData
from salesml.forecast.backtest import backtest_cutoffs
from salesml.forecast.config import ForecastExperiment
from salesml.forecast.covariates import add_lagged, lag_name, past_lags
from salesml.forecast.data import (
    regularize,
    select_series,
    silence_default,
    to_long,
    unscored_series,
)
from salesml.forecast.metrics import seasonal_scales
from salesml.forecast.models import season_length_for
from salesml.forecast.quality import class_counts, demand_classes, handle_negatives
from salesml.io.data import ensure_data, file_sha256, read_frame

ID, TIME, TARGET = "unique_id", "ds", "y"
COLS = {"id_col": ID, "time_col": TIME, "target_col": TARGET}


@dataclass(frozen=True)
class ForecastPrepared:
    """What every forecast candidate is backtested on.

    ``info`` is the summary's data block (the run adds fallback and seasonality
    counts to it); ``cutoffs`` the backtest origins, the calibration origin first;
    ``exog`` the features the exog models read (the future columns, then the
    ``past`` columns lagged by ``past_lags``, :mod:`salesml.forecast.covariates`);
    ``full_scales`` each series' MASE scale on all its history; ``signed`` the
    series with returns (their forecasts are not clipped at 0).
    """

    info: ForecastData
    df: pd.DataFrame
    freq: str
    season_length: int
    horizon: int
    cutoffs: tuple[pd.Timestamp, ...]
    exog: tuple[str, ...]
    levels: tuple[int, ...]
    full_scales: pd.DataFrame
    signed: tuple[str, ...]
    past: tuple[str, ...] = ()
    past_lags: tuple[int, ...] = ()


def prepare_series(cfg: ForecastExperiment) -> ForecastPrepared:
    """Read, reshape, regularise and check the series; choose the backtest origins.

    A pure function of the config and the file: everything the fits need, in one
    frozen :class:`ForecastPrepared` (see :mod:`salesml.forecast.task` for the
    documented handling of awkward input).

    Raises
    ------
    DataError
        Naming the file, the series and the problem.
    """
    dc = cfg.data
    where = str(dc.path)
    ensure_data(dc.path, dc.generate, cfg.source)
    raw = read_frame(dc.path, read=dc.read)
    ex = dc.exog
    df = to_long(raw, dc.id_columns, dc.time, dc.target, ex.columns, dc.date_format, where, **COLS)
    df, neg_values, neg_series = handle_negatives(df, dc.negative, where, **COLS)
    df, freq, gaps = regularize(df, dc.freq, where, **COLS, fill=dc.fill)
    m = cfg.season_length or season_length_for(freq)
    h, windows = int(cfg.horizon), cfg.backtest.windows
    step = cfg.backtest.step or h
    sizes = df.groupby(ID).size()
    if h > sizes.max():
        raise DataError(
            f"{where}: horizon {h} is longer than the history: the longest series "
            f"{sizes.idxmax()!r} has {sizes.max()} periods"
        )
    dates = pd.DatetimeIndex(np.sort(df[TIME].unique()))
    try:
        cutoffs = backtest_cutoffs(dates, h, windows, step)
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from exc
    quiet = dc.discontinued_after or silence_default(freq, m)
    df, excluded = select_series(df, ID, TIME, TARGET, freq, quiet)
    lags = past_lags(ex.lags, h) if ex.past else []
    if ex.past:  # observed only: lagged by at least the horizon (salesml.forecast.covariates)
        df = add_lagged(df, df, ex.past, lags, freq, ID, TIME)
    features = (*ex.future, *(lag_name(c, lag) for lag in lags for c in ex.past))
    unscored = unscored_series(df, cutoffs[-1], ID, TIME)
    info = ForecastData(
        path=where,
        sha256=file_sha256(dc.path),
        rows=len(raw),
        excluded=excluded,
        series=int(sizes.size),
        series_used=int(df[ID].nunique()),
        freq=freq,
        season_length=m,
        horizon=h,
        start=f"{dates[0]:%Y-%m-%d}",
        end=f"{dates[-1]:%Y-%m-%d}",
        calibration_cutoff=f"{cutoffs[0]:%Y-%m-%d}",
        cutoffs=[f"{c:%Y-%m-%d}" for c in cutoffs[1:]],
        exog=list(features),
        gaps_filled=gaps,
        fill=dc.fill,
        discontinued_after=quiet,
        negative=dc.negative,
        negative_values=neg_values,
        negative_series=neg_series,
        demand=class_counts(demand_classes(df, ID, TARGET)),
        unscored=unscored,
    )
    return ForecastPrepared(
        info=info,
        df=df,
        freq=freq,
        season_length=m,
        horizon=h,
        cutoffs=tuple(cutoffs),
        exog=features,
        past=tuple(ex.past),
        past_lags=tuple(lags),
        levels=tuple(cfg.levels),
        full_scales=seasonal_scales(df, m, ID, TARGET),
        signed=tuple(sorted(df.loc[df[TARGET] < 0, ID].unique())),
    )
