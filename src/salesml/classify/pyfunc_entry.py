"""MLflow models-from-code entry point of an exported salesml classifier.

MLflow executes this file when it loads the model (it is not imported by
salesml); the model's state is read in ``LeadScorerModel.load_context``.
"""

import mlflow

from salesml.classify.export import LeadScorerModel

mlflow.models.set_model(LeadScorerModel())
