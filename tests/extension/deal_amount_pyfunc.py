"""MLflow models-from-code entry point of the deal-amount task's exported model.

Self-contained: MLflow runs this file when it loads the model; the state is
``coef.json`` (per segment: intercept and slope in seats).
"""

import json
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class DealAmountPyfunc(PythonModel):
    """``predict`` takes ``segment`` and ``seats`` and returns ``amount``."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["coef"], encoding="utf-8") as fh:
            state = json.load(fh)
        self.coef, self.fallback = state["coef"], state["fallback"]

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        seg = model_input["segment"].astype(str)
        a = seg.map(lambda s: self.coef.get(s, [self.fallback, 0.0])[0])
        b = seg.map(lambda s: self.coef.get(s, [self.fallback, 0.0])[1])
        return pd.DataFrame({"amount": a + b * model_input["seats"].astype(float)})


mlflow.models.set_model(DealAmountPyfunc())
