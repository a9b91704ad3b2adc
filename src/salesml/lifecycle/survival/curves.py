"""Survival curves: Kaplan-Meier, a common time grid, and what a curve answers.

Every candidate predicts each customer's survival function ``S(t) = P(T > t)``
on one grid of times (:func:`time_grid`), as an ``(n, len(grid))`` array. The
arithmetic on those arrays lives here once:

- :func:`survival_at`: ``S`` at any times (a step function; past the grid's end,
  the hazard of the curve's last quarter goes on, rather than a flat line that
  would promise no one ever leaves);
- :func:`leave_within`: ``P(T <= now + h | T > now)``, the probability of leaving
  within ``h`` given the customer is still here ``now``. Forgetting to condition on
  the time already survived is the usual mistake; a customer of five years is not
  a new customer;
- :func:`remaining_mean`: the expected time still to come within a window, given
  ``T > now`` (a restricted mean: nothing is claimed beyond the window).
"""

from __future__ import annotations

import numpy as np

MAX_GRID = 201


def kaplan_meier(
    time: np.ndarray, event: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier estimate: each distinct time and ``S`` just after it.

    Parameters
    ----------
    time, event : ndarray
        Durations and whether each ended in the event (False: censored).
    weights : ndarray, optional
        Case weights (default one each).

    Returns
    -------
    (times, survival) : tuple of ndarray
        The sorted distinct times and the estimate right after each.
    """
    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    w = np.ones(len(time)) if weights is None else np.asarray(weights, float)
    times, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=w * event, minlength=len(times))
    leaving = np.bincount(inverse, weights=w, minlength=len(times))
    at_risk = leaving[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - deaths / at_risk, 1.0)
    return times, np.cumprod(factor)


def step(times: np.ndarray, values: np.ndarray, at: np.ndarray, before: float = 1.0) -> np.ndarray:
    """A right-continuous step function (``values`` from each of ``times`` on) at ``at``."""
    idx = np.searchsorted(times, np.asarray(at, float), side="right") - 1
    out = np.where(idx >= 0, np.asarray(values)[np.clip(idx, 0, None)], before)
    return out


def time_grid(time: np.ndarray) -> np.ndarray:
    """The grid every candidate predicts on: 0 to the longest duration.

    Whole units (months of tenure) when the durations are whole numbers and at most
    200 apart; otherwise 201 evenly spaced times.
    """
    time = np.asarray(time, float)
    end = float(time.max()) if len(time) else 1.0
    end = end if end > 0 else 1.0
    if np.allclose(time, np.round(time)) and end <= MAX_GRID - 1:
        return np.arange(0.0, end + 1.0)
    return np.linspace(0.0, end, MAX_GRID)


def _tail_hazard(grid: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Each row's average hazard over the last quarter of the grid (per unit of time)."""
    k = max(1, (len(grid) - 1) // 4)
    span = grid[-1] - grid[-1 - k] if len(grid) > k else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = S[:, -1] / S[:, -1 - k]
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), np.minimum(ratio, 1.0), 1.0)
    return -np.log(ratio) / (span if span > 0 else 1.0)


def survival_at(grid: np.ndarray, S: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``S`` of each row at its own times ``at`` (shape ``(n,)`` or ``(n, k)``).

    A step function on the grid; past the grid's end, ``S(end) * exp(-h (t - end))``
    with ``h`` the row's hazard over the last quarter of the grid.
    """
    at = np.asarray(at, float)
    flat = at.ndim == 1
    at2 = at[:, None] if flat else at
    idx = np.clip(np.searchsorted(grid, at2, side="right") - 1, 0, len(grid) - 1)
    rows = np.arange(S.shape[0])[:, None]
    out = S[rows, idx]
    past = at2 > grid[-1]
    if past.any():
        h = _tail_hazard(grid, S)[:, None]
        tail = S[:, -1][:, None] * np.exp(-h * (at2 - grid[-1]))
        out = np.where(past, tail, out)
    return out[:, 0] if flat else out


def leave_within(
    grid: np.ndarray, S: np.ndarray, now: np.ndarray, horizons: list[float]
) -> np.ndarray:
    """``P(T <= now + h | T > now)`` for each row and horizon, shape ``(n, len(horizons))``."""
    now = np.asarray(now, float)
    here = survival_at(grid, S, now)
    later = survival_at(grid, S, now[:, None] + np.asarray(horizons, float)[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(here[:, None] > 0, later / here[:, None], 0.0)
    return np.clip(1.0 - ratio, 0.0, 1.0)


def remaining_mean(
    grid: np.ndarray, S: np.ndarray, now: np.ndarray, window: float, points: int = 97
) -> np.ndarray:
    """``E[min(T - now, window) | T > now]`` per row: time still to come within ``window``."""
    now = np.asarray(now, float)
    u = np.linspace(0.0, window, points)
    here = survival_at(grid, S, now)
    later = survival_at(grid, S, now[:, None] + u[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(here[:, None] > 0, later / here[:, None], 0.0)
    return np.trapezoid(np.clip(cond, 0.0, 1.0), u, axis=1)
