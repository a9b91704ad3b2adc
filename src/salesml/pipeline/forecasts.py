"""What a bookings candidate returns for a period, and the two ways it gets its interval.

Every candidate forecasts, per segment, the period's bookings as a mean and a
set of quantiles (:data:`QUANTILES`); a candidate that weighs deals also gives
each open deal's probability of being won in the period.

- :func:`simulate` draws the deals' outcomes (each won with its probability,
  independently) and adds draws of what deals not yet created will book: the
  interval of a deal-by-deal forecast.
- :func:`from_past_errors` adds a rule's own past errors to its forecast: the
  interval of a forecast that does not look at deals (last period's bookings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
QCOLS = tuple(f"q{round(q * 100):02d}" for q in QUANTILES)
DRAWS = 2000


@dataclass
class PeriodForecast:
    """A candidate's forecast of one period.

    ``by_segment``: indexed by segment, ``mean`` and the :data:`QCOLS`
    quantiles; ``deals``: ``opportunity_id``, ``probability`` (won in the
    period) and ``expected`` (probability times amount), or None.
    """

    by_segment: pd.DataFrame
    deals: pd.DataFrame | None = None


def _frame(mean: np.ndarray, draws: np.ndarray, segments: tuple[str, ...]) -> pd.DataFrame:
    qs = np.quantile(draws, QUANTILES, axis=0).T if draws.size else np.zeros((len(mean), 7))
    out = pd.DataFrame(qs, index=pd.Index(segments, name="segment"), columns=QCOLS)
    out.insert(0, "mean", mean)
    return out


def simulate(
    probability: np.ndarray,
    amount: np.ndarray,
    segment: np.ndarray,
    segments: tuple[str, ...],
    new_deals: dict[str, np.ndarray] | None,
    seed: int,
    draws: int = DRAWS,
) -> pd.DataFrame:
    """Mean and quantiles of the bookings of deals won independently with ``probability``.

    Parameters
    ----------
    probability, amount, segment : arrays
        One entry per open deal (``segment`` holds segment names).
    new_deals : dict, optional
        Per segment, past periods' bookings from deals created inside them: each
        draw adds one of them, picked at random, and the mean adds their mean.
    seed : int
        Seeds the draws (same seed, same quantiles).
    """
    rng = np.random.default_rng(seed)
    codes = pd.Categorical(segment, categories=list(segments)).codes
    p = np.nan_to_num(np.asarray(probability, dtype=float))
    amt = np.nan_to_num(np.asarray(amount, dtype=float))
    onehot = np.zeros((len(p), len(segments)))
    onehot[np.arange(len(p))[codes >= 0], codes[codes >= 0]] = 1.0
    mean = (p * amt) @ onehot
    sims = np.zeros((draws, len(segments)))
    step = max(1, 4_000_000 // max(len(p), 1))
    for lo in range(0, draws, step):  # bounded memory: draws x deals booleans per block
        won = rng.random((min(step, draws - lo), len(p))) < p
        sims[lo : lo + len(won)] = (won * amt) @ onehot
    if new_deals:
        for j, seg in enumerate(segments):
            past = np.asarray(new_deals.get(seg, []), dtype=float)
            if len(past):
                mean[j] += past.mean()
                sims[:, j] += past[rng.integers(0, len(past), draws)]
    return _frame(mean, sims, segments)


def from_past_errors(
    point: pd.Series, errors: dict[str, np.ndarray], segments: tuple[str, ...]
) -> pd.DataFrame:
    """A point forecast per segment with quantiles of its past errors (actual minus forecast).

    Without past errors the interval has no width. Bookings are never negative:
    the quantiles are held at 0 or above.
    """
    mean = point.reindex(list(segments)).fillna(0.0).to_numpy(dtype=float)
    qs = np.zeros((len(segments), len(QUANTILES)))
    for j, seg in enumerate(segments):
        err = np.asarray(errors.get(seg, []), dtype=float)
        shift = np.quantile(err, QUANTILES) if len(err) else np.zeros(len(QUANTILES))
        qs[j] = np.maximum(mean[j] + shift, 0.0)
    out = pd.DataFrame(qs, index=pd.Index(segments, name="segment"), columns=QCOLS)
    out.insert(0, "mean", mean)
    return out
