"""A model's input columns, enforced on the rows to score, with errors a user can act on.

:func:`conform` applies :func:`salesml.io.coerce.conform_columns` (the
coercion the exported models' own ``predict`` uses too) with the model's input
columns and their trained types; :func:`model_facts` reads those from a loaded
model. Beyond the coercion's rules: extra columns are ignored (an id column is
carried through separately), and categories never seen in training score (the
model pools them).

The trained types are the model card's ``input_types`` fact (salesml models
declare their inputs as MLflow ``any`` columns, see
:func:`salesml.tracking.serving.input_schema`); for other models, the types of
their signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesml.errors import DataError
from salesml.experiment.card import ModelCard
from salesml.io.coerce import INPUT_TYPES, NUMERIC, conform_columns

__all__ = ["INPUT_TYPES", "NUMERIC", "ModelFacts", "conform", "conform_columns", "model_facts"]


@dataclass
class ModelFacts:
    """What scoring needs to know about a loaded model.

    ``inputs`` are ``(column, type)`` pairs (the trained types, see the module
    docstring); ``card`` is the ``salesml`` metadata written at training time
    (empty for foreign models).
    """

    uri: str
    inputs: list[tuple[str, str]]
    outputs: list[str]
    card: ModelCard = field(default_factory=ModelCard)
    output_types: dict[str, str] = field(default_factory=dict)
    optional: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The exported model's kind (its task's ``ScoringSpec.kind``); None for foreign models."""
        return self.card.kind or None

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.inputs]

    @property
    def required(self) -> list[str]:
        """The input columns a frame must have (the signature's required ones)."""
        return [name for name, _ in self.inputs if name not in self.optional]

    @property
    def id_columns(self) -> list[str]:
        return [str(c) for c in self.card.id_columns]


def _type_name(kind: Any) -> str:
    """An MLflow column type as text: ``double``, ``string``, ... (``any`` for AnyType)."""
    name = getattr(kind, "name", None)
    if isinstance(name, str):
        return name
    return str(kind).lower()


def model_facts(model: Any, uri: str) -> ModelFacts:
    """Read inputs, outputs and the salesml card from a loaded pyfunc model."""
    meta = model.metadata
    schema = meta.get_input_schema()
    if schema is None or not schema.has_input_names():
        raise DataError(
            f"model {uri}: it has no named input schema, so salesml cannot score files with it"
        )
    card = ModelCard.from_metadata(meta.metadata)
    trained = card.facts.get(INPUT_TYPES) or {}
    inputs = [(c.name, str(trained.get(c.name) or _type_name(c.type))) for c in schema.inputs]
    optional = [c.name for c in schema.inputs if not getattr(c, "required", True)]
    out_schema = meta.get_output_schema()
    named = out_schema is not None and out_schema.has_input_names()
    outputs = out_schema.input_names() if named else []
    types = {c.name: _type_name(c.type) for c in out_schema.inputs} if named else {}
    return ModelFacts(
        uri=uri,
        inputs=inputs,
        outputs=list(outputs),
        card=card,
        output_types=types,
        optional=optional,
    )


def conform(frame: pd.DataFrame, facts: ModelFacts, where: str, offset: int = 0) -> pd.DataFrame:
    """The model's input columns of ``frame``, coerced to their trained types.

    Parameters
    ----------
    frame : DataFrame
        Rows as read from the input file (any extra columns are ignored).
    where : str
        The input file, for messages.
    offset : int
        Rows before this chunk, so messages give the row in the file.

    Raises
    ------
    DataError
        Naming the file, the model and the column (and the value, for a bad one).
    """
    return conform_columns(frame, facts.inputs, where, facts.uri, offset, facts.optional)
