"""BG/NBD: how many more purchases a customer will make, and whether they are still a customer.

The beta-geometric/negative binomial distribution model (Fader, Hardie and Lee
2005): while alive, a customer buys at a Poisson rate drawn from a gamma
(shape ``r``, rate ``alpha``); after each purchase they leave for good with a
probability drawn from a beta (``a``, ``b``). Fitted by maximum likelihood on
each customer's ``frequency``, ``recency`` and ``T``
(:func:`salesml.lifecycle.summary.summarise`).

Written here rather than taken from ``lifetimes`` (frozen since 2020) or
PyMC-Marketing (a probabilistic-programming stack for four parameters): the
likelihood is a dozen lines of scipy, and the test pins it to the published
CDNOW parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from salesml.errors import DataError


def _log_likelihood(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


class BetaGeo:
    """The BG/NBD model as an estimator: ``fit(summary)`` sets ``r_, alpha_, a_, b_``.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the parameters (0: plain maximum likelihood, as published).
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> BetaGeo:
        """Maximum likelihood on ``frequency``, ``recency``, ``T`` (one row per customer).

        Raises
        ------
        DataError
            When a column is missing, a value is negative, recency exceeds T, or the
            optimiser does not converge.
        """
        x, tx, T = _columns(summary)
        penalty = self.penalizer

        def loss(log_params: np.ndarray) -> float:
            params = np.exp(log_params)
            ll = _log_likelihood(params, x, tx, T).sum()
            return float(-ll / len(x) + penalty * np.square(params).sum())

        # quasi-Newton in log space: the same optimum as Nelder-Mead in a sixth of the calls
        result = minimize(
            loss, np.zeros(4), method="L-BFGS-B", options={"ftol": 1e-12, "gtol": 1e-9}
        )
        if not result.success:
            raise DataError(f"BG/NBD did not converge: {result.message}")
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in np.exp(result.x))
        self.log_likelihood_ = float(-result.fun * len(x))
        return self

    @property
    def params_(self) -> dict[str, float]:
        return {"r": self.r_, "alpha": self.alpha_, "a": self.a_, "b": self.b_}

    def expected_purchases(self, t: float, summary: pd.DataFrame) -> np.ndarray:
        """Each customer's expected purchases in the next ``t`` time units, given their history."""
        x, tx, T = _columns(summary)
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        z = t / (alpha + T + t)
        part = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
            r + x, b + x, a + b + x - 1, z
        )
        head = (a + b + x - 1) / (a - 1)
        return (
            head
            * part
            / (1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x))
        )

    def p_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """Probability that each customer is still a customer at the end of their ``T``."""
        x, tx, T = _columns(summary)
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        odds = (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)
        return np.where(x > 0, 1 / (1 + odds), 1.0)


def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise DataError(f"customer summary: no column(s) {', '.join(missing)}")
    x = summary["frequency"].to_numpy(dtype=float)
    tx = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    if (x < 0).any() or (tx < 0).any() or (tx > T + 1e-9).any():
        raise DataError("customer summary: negative values or recency beyond T")
    return x, tx, T
