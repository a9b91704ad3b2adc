"""Gamma-Gamma: what a customer's next purchases will be worth, from what their past ones were.

A customer's purchase values vary around their own mean, gamma-distributed with shape
``p``; the mean's scale varies across customers, gamma with shape ``q`` and rate
``gamma`` (Fader, Hardie and Lee 2005, "RFM and CLV"). Fitted on the customers with
repeat purchases (``frequency`` > 0) and their mean repeat value ``monetary``
(:func:`salesml.lifecycle.summary.summarise`). The model assumes spend does not depend
on how often a customer buys; :meth:`GammaGamma.fit` records the correlation so a
user can see whether that holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln

from salesml.errors import DataError


class GammaGamma:
    """The Gamma-Gamma spend model: ``fit(summary)`` sets ``p_, q_, gamma_``."""

    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        """Maximum likelihood on the repeat buyers' ``frequency`` and ``monetary``.

        Raises
        ------
        DataError
            Without repeat buyers, with a non-positive mean value, or if the
            optimiser does not converge.
        """
        x, m = _repeat_buyers(summary)

        def loss(log_params: np.ndarray) -> float:
            p, q, g = np.exp(log_params)
            px = p * x
            ll = (
                gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
                + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(x * m + g)
            )  # fmt: skip
            return float(-ll.mean())

        # quasi-Newton in log space: the same optimum as Nelder-Mead in a fraction of the calls
        result = minimize(
            loss, np.zeros(3), method="L-BFGS-B", options={"ftol": 1e-12, "gtol": 1e-9}
        )
        if not result.success:
            raise DataError(f"Gamma-Gamma did not converge: {result.message}")
        self.p_, self.q_, self.gamma_ = (float(v) for v in np.exp(result.x))
        self.spend_frequency_corr_ = float(np.corrcoef(x, m)[0, 1]) if len(x) > 2 else np.nan
        return self

    @property
    def params_(self) -> dict[str, float]:
        return {"p": self.p_, "q": self.q_, "gamma": self.gamma_}

    def expected_spend(self, summary: pd.DataFrame) -> np.ndarray:
        """Each customer's expected value per purchase (the population mean without repeats)."""
        x = summary["frequency"].to_numpy(dtype=float)
        m = summary["monetary"].to_numpy(dtype=float)
        p, q, g = self.p_, self.q_, self.gamma_
        population = p * g / (q - 1)
        return np.where(x > 0, p * (g + x * m) / (p * x + q - 1), population)


def _repeat_buyers(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "monetary") if c not in summary.columns]
    if missing:
        raise DataError(f"customer summary: no column(s) {', '.join(missing)}")
    rep = summary[summary["frequency"] > 0]
    if rep.empty:
        raise DataError("customer summary: no customer bought more than once")
    m = rep["monetary"].to_numpy(dtype=float)
    if (m <= 0).any():
        raise DataError(
            f"customer summary: {int((m <= 0).sum())} repeat buyer(s) with a mean value of 0 "
            "or less (returns larger than purchases); leave them out or net them first"
        )
    return rep["frequency"].to_numpy(dtype=float), m
