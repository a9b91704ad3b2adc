"""Statistics of bootstrap weights: one function gives the point (``None``) and every replicate.

Each returns a callable ``stat(w)``: with ``w`` None the statistic of the data as they
are (an array of one value), with ``w`` a ``(replicates, units)`` array of frequency
weights one value per replicate (see :mod:`salesml.experiment.evaluation`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Statistic = Callable[[np.ndarray | None], np.ndarray]


def weighted_mean(values: np.ndarray) -> Statistic:
    """The mean of ``values`` (NaN without any)."""

    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            return np.array([values.mean()]) if len(values) else np.array([np.nan])
        return w @ values / w.sum(1)

    return stat


def weighted_ratio(num: np.ndarray, den: np.ndarray) -> Statistic:
    """``sum(num) / sum(den)`` (NaN where the denominator sums to 0)."""

    def stat(w: np.ndarray | None) -> np.ndarray:
        if w is None:
            d = den.sum()
            return np.array([num.sum() / d if d else np.nan])
        d = w @ den
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d != 0, (w @ num) / d, np.nan)

    return stat
