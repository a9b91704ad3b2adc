"""The exported survival model: active customers in, their chance of leaving from now on out.

:class:`SurvivalPredictor` holds the evaluated model (fitted on the training
customers, so the reported metrics are its own). ``predict(frame, params)`` takes rows with the features and the
duration so far (``tenure``), and returns per row its ``tenure`` so far (from the
duration column, or from the start and end dates up to the ``as_of`` param, default
the latest date in the file), and, **given the customer has been here that long**:

- ``p_leave_<h>``: P(leave within ``h`` more units | still here now), per horizon;
- ``expected_remaining``: the expected time still to come within the value window;
- ``value_at_risk`` (when the experiment names a value per unit): value x the
  time expected to be lost within the window, the number to rank calls by;
- ``reason_1..3`` (``reasons``, default on): the columns raising the risk most.

Rows whose event column says the customer already left get ``status`` ``left``
and no scores.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Tenure:
    """How a row says how long the customer has been here: a duration and an event flag,
    or start and end dates (with the unit durations are counted in)."""

    duration: str | None = None
    event: str | None = None
    event_value: Any = None
    start: str | None = None
    end: str | None = None
    unit: str = "month"

    @property
    def columns(self) -> list[str]:
        """The columns read (an event flag is optional at scoring)."""
        return [c for c in (self.duration, self.start, self.end) if c]

    def read(
        self, frame: pd.DataFrame, as_of: Any
    ) -> tuple[np.ndarray, np.ndarray, str | None, np.ndarray]:
        """Each row's time so far, whether it already left, the as-of day, who is not yet in."""
        if self.start and self.end:
            from salesml.lifecycle.survival.dates import from_dates

            got = from_dates(frame, self.start, self.end, self.unit, as_of or None, "model input")
            # not yet a customer on that day: scored as if just joined, then marked
            return np.nan_to_num(got.time), got.event, f"{got.as_of:%Y-%m-%d}", got.joined_later
        name = str(self.duration)
        now = read_duration(frame[name], f"model input: column {name!r}")
        left = np.zeros(len(frame), bool)
        if self.event and self.event in frame.columns and frame[self.event].notna().all():
            left = read_event(frame[self.event], self.event_value, f"model input: {self.event!r}")
        return now, left, None, np.zeros(len(frame), bool)


class SurvivalPredictor:
    """A fitted survival model and the columns it reads (see the module)."""

    def __init__(
        self,
        model: Any,
        features: list[str],
        tenure: Tenure,
        id_column: str | None,
        value: str | None,
        horizons: list[float],
        window: float,
        card: ModelCard,
    ) -> None:
        self.model, self.features, self.tenure = model, list(features), tenure
        self.id_column = id_column
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
        need = [*self.features, *self.tenure.columns]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise ValueError(f"model input: column(s) {', '.join(map(repr, missing))} missing")
        now, left, as_of, later = self.tenure.read(frame, params.get("as_of"))
        X = frame[self.features]
        S = self.model.survival(X)
        grid = self.model.grid_
        out = pd.DataFrame(index=frame.index)
        if self.id_column and self.id_column in frame.columns:
            out[self.id_column] = frame[self.id_column].astype(str)
        out["tenure"] = now
        if as_of is not None:
            out["as_of"] = as_of
        out["status"] = np.where(later, "not yet", np.where(left, "left", "active"))
        left = left | later  # no scores for either
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
        text = np.column_stack([X[c].astype(str).to_numpy(dtype=object) for c in cols])
        rows = np.arange(len(X))
        out: dict[str, list[str]] = {}
        for k in range(TOP):
            j = order[:, k]
            names, shown, v = cols[j], text[rows, j], vals[rows, j]
            out[f"reason_{k + 1}"] = [
                f"{c}={x} (+{d:.2f})" if d > 0 else ""
                for c, x, d in zip(names, shown, v, strict=True)
            ]
        return pd.DataFrame(out, index=X.index)
