"""The exported customer-value model: a transaction log in, each customer's expected value out.

:class:`ValuePredictor` holds a model candidate refitted on the whole log the
experiment read (calibration and holdout) and the rules it was cleaned by.
``predict(frame, params)`` cleans a log exported the same way, summarises every
customer up to ``as_of`` (default: the log's last day) and returns per customer
``frequency``, ``recency``, ``T``, ``monetary``, ``expected_purchases`` and
``expected_value`` over the next ``h`` days (default: the experiment's holdout
length) and, for BG/NBD, ``p_alive``. ``expected_value`` is the customer's value
over that horizon, undiscounted: a customer-lifetime value for the horizon.
The runner logs it as a :class:`~salesml.tracking.pickled.PickledExport` (from code,
the shared pickled predictor loader).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.lifecycle.purchase_log import read_purchases, value_data
from salesml.lifecycle.transactions import CleaningRules, Columns


class ValuePredictor:
    """A fitted customer-value candidate and how to read a transaction log (see the module)."""

    def __init__(
        self,
        model: Any,
        columns: Columns,
        rules: CleaningRules,
        horizon_days: float,
        unit_days: float,
        card: ModelCard,
    ) -> None:
        self.model, self.columns, self.rules = model, columns, rules
        self.horizon_days, self.unit_days, self.card = horizon_days, unit_days, card

    def metadata(self) -> dict[str, Any]:
        facts = {"horizon_days": self.horizon_days, "unit_days": self.unit_days, **self.card.facts}
        return replace(self.card, facts=facts).to_metadata()

    def predict(self, frame: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Expected purchases and value per customer (see the module).

        Raises
        ------
        ValueError
            For a horizon ``h`` below one day, or an ``as_of`` before the log's first purchase.
        """
        params = params or {}
        h = float(params.get("h") or self.horizon_days)
        if h < 1:
            raise ValueError(f"the horizon h is in days and must be at least 1, got {h:g}")
        purchases, _ = read_purchases(pd.DataFrame(frame), self.columns, self.rules, "model input")
        first, last = purchases.frame["time"].min(), purchases.frame["time"].max()
        as_of = pd.Timestamp(params["as_of"]) if params.get("as_of") else last
        if as_of < first:
            raise ValueError(f"as_of {as_of:%Y-%m-%d} is before the log's first purchase")
        data, _ = value_data(purchases, as_of, h, self.unit_days)
        fc = self.model.predict(data)
        s = data.summary
        out = pd.DataFrame(
            {
                "customer": s.index.astype(str),
                "frequency": s["frequency"].to_numpy(),
                "recency": s["recency"].to_numpy(),
                "T": s["T"].to_numpy(),
                "monetary": s["monetary"].to_numpy(),
                "expected_purchases": fc.frame["purchases"].to_numpy(float),
                "expected_value": fc.frame["spend"].to_numpy(float),
                "p_alive": fc.p_alive if fc.p_alive is not None else np.nan,
            }
        )
        out["as_of"], out["horizon_days"] = f"{as_of:%Y-%m-%d}", h
        return out
