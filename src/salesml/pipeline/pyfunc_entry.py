"""MLflow models-from-code entry point of an exported salesml bookings model.

MLflow executes this file when it loads the model (salesml never imports it);
the fitted predictor is read in ``load_context``.
"""

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class BookingsPyfunc(PythonModel):
    """``predict`` takes an opportunities export (params ``as_of``, ``period``) and forecasts
    the period's bookings: per open deal, by segment and in total."""

    def load_context(self, context: Any) -> None:
        import cloudpickle

        with open(context.artifacts["predictor"], "rb") as fh:
            self.predictor = cloudpickle.load(fh)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The forecast; an export the predictor refuses raises ``ModelInputError`` (HTTP 400)."""
        from salesml.tracking.serving import refuse_input

        try:
            return self.predictor.predict(model_input, params)
        except ValueError as exc:  # a date before the export's day, unreadable columns
            raise refuse_input(exc) from None


mlflow.models.set_model(BookingsPyfunc())
