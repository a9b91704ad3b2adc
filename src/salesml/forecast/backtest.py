"""The rolling-origin backtest: forecast origins and out-of-sample forecasts per origin.

See :mod:`salesml.forecast.task` for how origins, calibration and intervals fit together.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.forecast.contract import Forecaster
from salesml.forecast.data import _series_list
from salesml.forecast.fallback import FallbackForecaster
from salesml.forecast.metrics import seasonal_scales


def backtest_cutoffs(
    dates: pd.DatetimeIndex,
    horizon: int,
    windows: int,
    step: int | None = None,
    calibration: bool = True,
) -> list[pd.Timestamp]:
    """Forecast origins (first forecast date of each window), oldest first.

    The last window ends at ``dates[-1]``; with ``calibration`` one more origin
    comes ``horizon`` periods before the first. Training for an origin uses
    dates strictly before it.

    Raises
    ------
    DataError
        When the origins do not fit into ``dates`` with at least one training period.
    """
    step = step or horizon
    n = len(dates)
    pos = [n - horizon - (windows - 1 - k) * step for k in range(windows)]
    if calibration:
        pos.insert(0, pos[0] - horizon)
    if pos[0] < 1:
        need = n - pos[0] + 1
        raise DataError(
            f"the backtest (horizon {horizon}, {windows} windows {step} apart"
            f"{', one calibration window' if calibration else ''}) needs more than {need - 1} "
            f"periods but the data span {n}; lower backtest.windows, backtest.step or horizon"
        )
    return [pd.Timestamp(dates[p]) for p in pos]


def backtest(
    make_forecaster: Callable[[], Forecaster],
    df: pd.DataFrame,
    cutoffs: list[pd.Timestamp],
    horizon: int,
    season_length: int,
    refit: bool = True,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    scale_cache: dict[pd.Timestamp, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Rolling-origin forecasts: for each origin fit on ``time_col < origin``, forecast ``horizon``.

    Parameters
    ----------
    make_forecaster : callable
        Returns a new unfitted :class:`~salesml.forecast.contract.Forecaster`.
    refit : bool
        False: fit at the first origin only, then move the origin forward with
        ``update`` (parameters frozen, state filtered through the new data, for
        candidates tagged ``refit_free``).

    Returns
    -------
    DataFrame
        ``id_col, time_col, target_col, yhat, window, cutoff, step, scale, scale2,
        signed`` (the series had a negative value before the origin, so its
        forecast is not clipped at 0) and, for a :class:`FallbackForecaster`,
        ``form`` (which step of its ladder forecast the series). Series without
        any period before an origin are not in that window.
    """
    dates = np.sort(df[time_col].unique())
    parts, model = [], None
    for k, cutoff in enumerate(cutoffs):
        start = int(np.searchsorted(dates, np.datetime64(cutoff)))
        window_dates = dates[start : start + horizon]
        train = df[df[time_col] < cutoff]
        test = df[df[time_col].isin(window_dates)]
        if model is None or refit:
            model = make_forecaster().fit(train)
        else:
            model.update(train)
        X = test if model.uses_exog else None
        fc = model.predict(horizon, X_df=X)
        out = test[[id_col, time_col, target_col]].merge(fc, on=[id_col, time_col], how="left")
        out = out[out[id_col].isin(train[id_col].unique())]  # no history, nothing to forecast
        if out["yhat"].isna().any():
            raise RuntimeError(
                f"no forecast for series {_series_list(out.loc[out['yhat'].isna(), id_col])} at origin {cutoff:%Y-%m-%d}"
            )
        cache = {} if scale_cache is None else scale_cache
        if cutoff not in cache:
            cache[cutoff] = seasonal_scales(train, season_length, id_col, target_col)
        scales = cache[cutoff]
        out = out.join(scales, on=id_col)
        signed = train.loc[train[target_col] < 0, id_col].unique()
        out["signed"] = out[id_col].isin(signed)  # had returns: forecasts may be negative
        out["yhat"] = out["yhat"].where(out["signed"], out["yhat"].clip(lower=0))
        if isinstance(model, FallbackForecaster):
            out["form"] = out[id_col].map(model.assignment())
        out["window"], out["cutoff"] = k, cutoff
        out["step"] = np.searchsorted(window_dates, out[time_col].to_numpy()) + 1
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def window_mase(fc: pd.DataFrame, window: int, id_col: str, target_col: str) -> float:
    part = fc[fc["window"] == window]
    scaled = (part[target_col] - part["yhat"]).abs() / part["scale"]
    return float(scaled.groupby(part[id_col]).mean().mean())
