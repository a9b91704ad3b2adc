"""MLflow models-from-code entry point of an exported salesml forecast.

MLflow executes this file when it loads the model (salesml never imports it);
the fitted predictor is read in ``load_context``.
"""

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ForecastPyfunc(PythonModel):
    """``predict`` takes ``unique_id`` (plus ``h``, or future rows of the covariates known in
    advance: past covariates come from the history the predictor keeps) and forecasts.

    Columns are coerced to their trained types (a frame read from a file is
    taken as it comes); refused rows raise an error naming the column and value.
    """

    def load_context(self, context: Any) -> None:
        import cloudpickle

        with open(context.artifacts["predictor"], "rb") as fh:
            self.predictor = cloudpickle.load(fh)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Forecasts; rows the predictor refuses raise ``ModelInputError`` (HTTP 400 served)."""
        from salesml.tracking.serving import refuse_input

        try:
            return self.predictor.predict(model_input, params)
        except ValueError as exc:  # unknown series, bad horizon, a value that is not a number
            raise refuse_input(exc) from None


mlflow.models.set_model(ForecastPyfunc())
