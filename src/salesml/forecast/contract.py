"""What every forecaster implements: the :class:`Forecaster` protocol.

The backtest (:mod:`salesml.forecast.backtest`), the fallback ladder
(:mod:`salesml.forecast.fallback`), the task, the Spark engine and the exported
model (:mod:`salesml.forecast.export`) call forecasters through this protocol
only; none of them probes a forecaster for an attribute. What differs between
candidate types (a model that uses exogenous columns, one that takes its
season by STL decomposition, one that keeps its parameters when the origin
moves) is declared as a tag on its registry entry
(:data:`salesml.forecast.registry.TAGS`), which the registry tests check
against the forecaster the entry builds.

:class:`ForecasterBase` gives the protocol's defaults (no exogenous columns,
nothing to settle, nothing to log); every forecaster class derives from it.
"""

from __future__ import annotations

from typing import Any, Protocol, Self, runtime_checkable

import pandas as pd


@runtime_checkable
class Forecaster(Protocol):
    """A forecaster on long-format frames (one row per series and period, regular dates).

    Attributes
    ----------
    id_col, time_col, target_col : str
        The frame's series, date and target columns.
    freq : str
        The pandas frequency of the series (the fallback ladder's forms share it).
    exog : tuple of str
        The exogenous columns the forecaster reads (empty when it reads none).
    uses_exog : bool
        Whether :meth:`predict` needs future values of ``exog`` in ``X_df``.
    """

    id_col: str
    time_col: str
    target_col: str
    freq: str
    exog: tuple[str, ...]
    uses_exog: bool

    def fit(self, df: pd.DataFrame) -> Self:
        """Learn from the history in ``df``; return ``self``."""
        ...

    def update(self, df: pd.DataFrame) -> Self:
        """Move the forecast origin to the end of ``df``; return ``self``.

        Candidates tagged ``refit_free`` keep the parameters estimated by
        :meth:`fit` and only filter their state through ``df``; the others
        refit on ``df`` (the backtest calls this for ``refit: false``).
        """
        ...

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        """``id_col, time_col, "yhat"`` for the next ``h`` periods of every series.

        ``X_df`` holds future values of :attr:`exog` (read when :attr:`uses_exog`).
        """
        ...

    def settle(self) -> Self:
        """Fix, before export, which form forecasts each series (the fallback ladder)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings of the fitted model the run logs beside the candidate's params."""
        ...


class ForecasterBase:
    """The protocol's defaults: no exogenous columns, nothing to settle, nothing to log."""

    exog: tuple[str, ...] = ()
    uses_exog: bool = False

    def settle(self) -> Self:
        """Nothing to fix: a forecaster without a fallback ladder forecasts every series itself."""
        return self

    def describe(self) -> dict[str, Any]:
        """Nothing beyond the candidate's params."""
        return {}
