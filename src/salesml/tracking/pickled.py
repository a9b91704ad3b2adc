"""A predictor exported with cloudpickle: its artifact, its input types, how it is logged.

Used by the exported models whose state is a salesml predictor object
(statsforecast and mlforecast fits, the bookings deal model) rather than
skops-serialisable estimators.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def pickled_artifacts(predictor: Any, folder: Path) -> dict[str, str]:
    """Write ``predictor`` to ``folder/predictor.pkl``; return MLflow's artifacts map."""
    import cloudpickle

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "predictor.pkl"
    path.write_bytes(cloudpickle.dumps(predictor))
    return {"predictor": str(path)}


def example_types(example: Any) -> dict[str, str]:
    """The input example's column types (integers as ``long``): the model card's input types."""
    from salesml.io.schema import column_type

    return {str(c): column_type(example[c], "long") for c in example.columns}


ENTRY = Path(__file__).with_name("pickled_entry.py")


@dataclass
class PickledExport:
    """A salesml predictor as the runner logs it: code, artifacts, signature, metadata.

    ``read`` names the input columns the predictor reads; the example's other columns
    are optional in the signature (a file is taken with all its columns). ``params``
    are the MLflow params ``predict`` takes, as ``(name, type, default)``.
    """

    predictor: Any
    input_example: Any
    read: tuple[str, ...]
    params: tuple[tuple[str, str, Any], ...] = ()
    code_path: Path = ENTRY

    def input_types(self) -> dict[str, str]:
        return example_types(self.input_example)

    def write_artifacts(self, folder: Path) -> dict[str, str]:
        return pickled_artifacts(self.predictor, folder)

    def signature(self) -> Any:
        """Input columns ``any`` (those not read optional), the params, typed outputs."""
        from mlflow.models import ModelSignature
        from mlflow.types.schema import ParamSchema, ParamSpec

        from salesml.tracking import frame_schema
        from salesml.tracking.serving import input_schema

        output = self.predictor.predict(self.input_example)
        optional = tuple(c for c in self.input_types() if c not in self.read)
        inputs = input_schema(self.input_types(), optional=optional)
        params = ParamSchema([ParamSpec(*p) for p in self.params]) if self.params else None
        return ModelSignature(inputs=inputs, outputs=frame_schema(output), params=params)

    def metadata(self) -> dict[str, Any]:
        """The predictor's model card, with the trained input types."""
        from salesml.io.coerce import INPUT_TYPES

        meta = self.predictor.metadata()
        meta["salesml"][INPUT_TYPES] = self.input_types()
        return meta
