"""The exported survival model: active customers in, their chance of leaving from now on out.

:class:`SurvivalPredictor` holds a model refitted on every customer the
experiment read. ``predict(frame, params)`` takes rows with the features and the
duration so far (``tenure``), and returns per row, **given the customer has been
here that long**:

- ``p_leave_<h>``: P(leave within ``h`` more units | still here now), per horizon;
- ``expected_remaining``: the expected time still to come within the value window;
- ``value_at_risk`` (when the experiment names a value per unit): value x the
  time expected to be lost within the window, the number to rank calls by;
- ``reason_1..3`` (``reasons``, default on): the columns raising the risk most.

Rows whose event column says the customer already left get ``status`` ``left``
and no scores.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.lifecycle.survival.curves import leave_within, remaining_mean
from salesml.lifecycle.survival.data import read_duration, read_event

TOP = 3


def horizon_column(h: float) -> str:
    """The output column of the chance of leaving within ``h``."""
    return f"p_leave_{h:g}"


class SurvivalPredictor:
    """A fitted survival model and the columns it reads (see the module)."""

    def __init__(
        self,
        model: Any,
        features: list[str],
        duration: str,
        event: str,
        event_value: Any,
        id_column: str | None,
        value: str | None,
        horizons: list[float],
        window: float,
        card: ModelCard,
    ) -> None:
        self.model, self.features, self.duration = model, list(features), duration
        self.event, self.event_value, self.id_column = event, event_value, id_column
        self.value, self.horizons, self.window, self.card = value, list(horizons), window, card

    def metadata(self) -> dict[str, Any]:
        facts = {"horizons": self.horizons, "value_window": self.window, **self.card.facts}
        return replace(self.card, facts=facts).to_metadata()

    def predict(self, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Each row's chances of leaving from its current tenure on (see the module).

        Raises
        ------
        ValueError
            Naming the missing columns, or the rows with an unusable duration.
        """
        params = params or {}
        frame = pd.DataFrame(frame).reset_index(drop=True)
        need = [*self.features, self.duration]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(f"model input: column(s) {', '.join(map(repr, missing))} missing")
        now = read_duration(frame[self.duration], f"model input: column {self.duration!r}")
        left = np.zeros(len(frame), bool)
        if self.event in frame.columns and frame[self.event].notna().all():
            left = read_event(frame[self.event], self.event_value, f"model input: {self.event!r}")
        X = frame[self.features]
        S = self.model.survival(X)
        grid = self.model.grid_
        out = pd.DataFrame(index=frame.index)
        if self.id_column and self.id_column in frame.columns:
            out[self.id_column] = frame[self.id_column].astype(str)
        out[self.duration] = now
        out["status"] = np.where(left, "left", "active")
        p = leave_within(grid, S, now, self.horizons)
        for i, h in enumerate(self.horizons):
            out[horizon_column(h)] = np.where(left, np.nan, p[:, i])
        remaining = remaining_mean(grid, S, now, self.window)
        out["expected_remaining"] = np.where(left, np.nan, remaining)
        if self.value and self.value in frame.columns:
            value = pd.to_numeric(frame[self.value], errors="coerce").to_numpy(float)
            out["value_at_risk"] = np.where(left, np.nan, value * (self.window - remaining))
        if params.get("reasons", True):
            reasons = self._reasons(X, now)
            reasons.loc[left] = ""
            out = pd.concat([out, reasons], axis=1)
        return out

    def _reasons(self, X: pd.DataFrame, now: np.ndarray) -> pd.DataFrame:
        terms = self.model.contributions(X, now)
        cols = np.asarray(terms.columns, dtype=object)
        vals = terms.to_numpy(float)
        order = np.argsort(-vals, axis=1, kind="stable")[:, :TOP]
        out: dict[str, list[str]] = {f"reason_{k + 1}": [] for k in range(TOP)}
        for i, row in enumerate(order):
            for k, j in enumerate(row):
                v = vals[i, j]
                text = f"{cols[j]}={X.iloc[i][cols[j]]} (+{v:.2f})" if v > 0 else ""
                out[f"reason_{k + 1}"].append(text)
        return pd.DataFrame(out, index=X.index)
