"""MLflow models-from-code entry point of an exported salesml predictor kept with cloudpickle.

Forecast models and bookings models are logged with this file as their code
(MLflow copies it into the model and executes it when it loads the model;
salesml never imports it); the fitted predictor is read in ``load_context``
from the ``predictor`` artifact (:func:`salesml.tracking.pickled.pickled_artifacts`).
"""

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class PredictorPyfunc(PythonModel):
    """``predict`` hands the rows and params to the salesml predictor: a forecaster (series
    ids plus ``h`` or future covariates) or a bookings model (an opportunities export, with
    ``as_of`` and ``period``). Rows it refuses raise ``ModelInputError`` (HTTP 400 served).
    """

    def load_context(self, context: Any) -> None:
        import cloudpickle

        with open(context.artifacts["predictor"], "rb") as fh:
            self.predictor = cloudpickle.load(fh)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """The predictor's output; a ``ValueError`` (unknown series, a bad horizon, a date
        before the export's day) becomes ``ModelInputError``."""
        from salesml.tracking.serving import refuse_input

        try:
            return self.predictor.predict(model_input, params)
        except ValueError as exc:
            raise refuse_input(exc) from None


mlflow.models.set_model(PredictorPyfunc())
