"""MLflow models-from-code entry point of an exported salesml forecast.

MLflow executes this file when it loads the model (salesml never imports it);
the fitted predictor is read in ``load_context``.
"""

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ForecastPyfunc(PythonModel):
    """``predict`` takes ``unique_id`` (plus ``h``, or future exogenous rows) and forecasts."""

    def load_context(self, context: Any) -> None:
        import cloudpickle

        with open(context.artifacts["predictor"], "rb") as fh:
            self.predictor = cloudpickle.load(fh)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        return self.predictor.predict(model_input, params)


mlflow.models.set_model(ForecastPyfunc())
