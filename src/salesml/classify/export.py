"""The exported classifier: an MLflow pyfunc from code, its estimator stored with skops.

Nothing is pickled. The model folder holds ``scorer.skops`` (the fitted
:class:`~salesml.classify.scorer.LeadScorer`, written with skops); the facts
a model card shows (data fingerprint, metrics with CIs, tier cut points and
their rates on the test part, top drivers) are in the MLmodel file's metadata
under ``salesml``. MLflow runs
``salesml/classify/pyfunc_entry.py`` to build the model, and
:class:`LeadScorerModel` loads the skops file trusting exactly
:data:`TRUSTED_TYPES`: salesml's own classes and the library classes its
candidates are made of. A file holding any other type is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc import PythonModel

from salesml.classify.scorer import OUTPUT_COLUMNS, LeadScorer
from salesml.experiment.card import ModelCard
from salesml.io.coerce import INPUT_TYPES

ENTRY = Path(__file__).with_name("pyfunc_entry.py")
INPUT = "model input"  # where refused rows come from, in messages
SALESML_TYPES = [
    "salesml.classify.scorer.LeadScorer",
    "salesml.classify.reasons.Explainer",
    "salesml.classify.models.CalibratedModel",
    "salesml.classify.calibration.ProbabilityMap",
    "salesml.io.encoding.FrameEncoder",
    "salesml.classify.baselines.ScorecardClassifier",
    "salesml.classify.baselines.ControlPointsClassifier",
]
LIBRARY_TYPES = [
    "collections.OrderedDict",
    "functools.partial",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.compose._column_transformer.make_column_selector",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.tree._tree.Tree",
    "sklearn.utils.validation.check_array",
]
TRUSTED_TYPES = SALESML_TYPES + LIBRARY_TYPES


@dataclass
class ExportedClassifier:
    """What the runner logs for a classification candidate: a pyfunc from code.

    ``write_artifacts`` stores the scorer and its card in a folder;
    ``code_path`` is the file MLflow runs to build the model.
    """

    scorer: LeadScorer
    card: ModelCard
    code_path: Path = ENTRY

    def write_artifacts(self, folder: Path) -> dict[str, str]:
        return save_scorer(self.scorer, folder)

    def signature(self) -> Any:
        return signature(self.scorer)

    def metadata(self) -> dict[str, Any]:
        """The model card's facts, as plain data for the MLmodel file."""
        return self.card.to_metadata()


def save_scorer(scorer: LeadScorer, folder: Path) -> dict[str, str]:
    """Write ``scorer.skops`` into ``folder``; return MLflow's artifacts map.

    Raises
    ------
    TypeError
        When the scorer holds a type outside :data:`TRUSTED_TYPES` (it could not be loaded).
    """
    import skops.io

    folder.mkdir(parents=True, exist_ok=True)
    data = skops.io.dumps(scorer)
    extra = sorted(set(skops.io.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
    if extra:
        raise TypeError(
            f"the fitted model holds types salesml does not trust when loading: {', '.join(extra)}; "
            "add them to salesml.classify.export.LIBRARY_TYPES after review"
        )
    (folder / "scorer.skops").write_bytes(data)
    return {"scorer": str(folder / "scorer.skops")}


def load_scorer(path: str | Path) -> LeadScorer:
    """Load ``scorer.skops`` trusting only :data:`TRUSTED_TYPES`."""
    import skops.io

    return skops.io.load(path, trusted=TRUSTED_TYPES)


def signature(scorer: LeadScorer) -> Any:
    """The feature columns (MLflow ``any``, coerced by ``predict``), output columns fixed.

    The trained types (integers as doubles) are the card's ``input_types`` fact:
    declared as such, MLflow would refuse int64 columns where doubles were
    trained, which is what ``pd.read_csv`` gives (see
    :func:`salesml.tracking.serving.input_schema`).
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    from salesml.tracking.serving import input_schema

    inputs = input_schema(scorer.kinds)
    kinds = {"probability": "double", "score": "double"}
    outputs = Schema([ColSpec(kinds.get(c, "string"), c) for c in OUTPUT_COLUMNS])
    params = ParamSchema(
        [ParamSpec("reasons", "boolean", True), ParamSpec("exact_reasons", "boolean", False)]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


class LeadScorerModel(PythonModel):
    """``predict`` returns probability, score, tier and reason_1..3 for each input row.

    ``params={"reasons": False}`` skips the reasons (faster);
    ``params={"exact_reasons": True}`` explains LightGBM with TreeSHAP (much slower).
    """

    def load_context(self, context: Any) -> None:
        from salesml.classify.models import predict_on_threads, prediction_threads

        self.scorer = load_scorer(context.artifacts["scorer"])
        predict_on_threads(self.scorer.estimator, prediction_threads())

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Scores of ``model_input``'s rows, its columns coerced to their trained types first.

        Raises
        ------
        ModelInputError
            (a :class:`~salesml.errors.DataError` and an ``MlflowException``) for a
            missing column or a value that cannot be coerced, ``inf`` included,
            naming the column, the value and its row.
        """
        from salesml.errors import DataError
        from salesml.io.coerce import conform_columns

        params = params or {}
        try:
            frame = (
                model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
            )
            X = conform_columns(frame, self.scorer.kinds.items(), INPUT)
        except DataError as exc:
            from salesml.tracking.serving import refuse_input

            raise refuse_input(exc) from None
        return self.scorer.score(
            X,
            reasons=bool(params.get("reasons", True)),
            exact=bool(params.get("exact_reasons", False)),
        )


def export_classifier(
    outcome: Any, candidate: Any, config: Any, data: Any, sample_rows: Any
) -> ExportedClassifier:
    """The exported model of a fitted classification candidate, with its model card.

    Parameters
    ----------
    outcome : Outcome
        The candidate's outcome (``fitted.estimator``, metrics, params).
    candidate : CandidateConfig
    config : ClassificationExperiment
    data : ClassificationPrepared
        The rows it was fitted and judged on.
    sample_rows : array of int
        Test rows the top drivers are averaged over.
    """
    from salesml.classify.scorer import TIER_SHARES
    from salesml.experiment.tasks import task_spec

    scorer = LeadScorer(outcome.fitted.estimator, data.X_train)
    card = ModelCard.of_outcome(
        task_spec(config.task),
        config,
        candidate,
        outcome,
        {k: v for k, v in vars(data.info).items() if k != "features"},
        params=outcome.params,
        id_columns=config.data.id_columns,
        facts={
            "target": config.data.target,
            "positive": config.data.positive,
            "negative": config.data.negative,  # None: every value not positive is 0
            "train_window": list(data.train_window) if data.train_window else None,
            "dropped": config.data.drop,
            "features": scorer.kinds,
            INPUT_TYPES: scorer.kinds,
            "score": "rule points (0-100)" if scorer.points_based else "100 x probability",
            "tier_shares": TIER_SHARES,
            "tier_cuts": scorer.cuts,
            "tiers_test": scorer.tier_table(data.X_test, data.y_test),
            "top_drivers": scorer.top_drivers(data.X_test.iloc[sample_rows]),
            "reasons": scorer.explainer.kind,
        },
    )
    return ExportedClassifier(scorer, card)
