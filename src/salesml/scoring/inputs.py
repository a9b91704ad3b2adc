"""A model's input schema, enforced on the rows to score, with errors a user can act on.

- a required column that is missing is an error naming it and the model;
- extra columns are ignored (an id column is carried through separately);
- values are coerced to the trained type (numbers written as text, ``yes``/``no``
  booleans, dates as text); a value that cannot be coerced is an error naming
  the column, the row and the value;
- missing values pass through: the model handles them as it did in training;
- categories never seen in training score (the model pools them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesml.errors import DataError
from salesml.experiment.card import ModelCard

NUMERIC = ("double", "float", "long", "integer")
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


@dataclass
class ModelFacts:
    """What scoring needs to know about a loaded model.

    ``inputs`` are ``(column, type)`` pairs of its signature; ``card`` is the
    ``salesml`` metadata written at training time (empty for foreign models).
    """

    uri: str
    inputs: list[tuple[str, str]]
    outputs: list[str]
    card: ModelCard = field(default_factory=ModelCard)
    output_types: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """The exported model's kind (its task's ``ScoringSpec.kind``); None for foreign models."""
        return self.card.kind or None

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self.inputs]

    @property
    def id_columns(self) -> list[str]:
        return [str(c) for c in self.card.id_columns]


def model_facts(model: Any, uri: str) -> ModelFacts:
    """Read inputs, outputs and the salesml card from a loaded pyfunc model."""
    meta = model.metadata
    schema = meta.get_input_schema()
    if schema is None or not schema.has_input_names():
        raise DataError(
            f"model {uri}: it has no named input schema, so salesml cannot score files with it"
        )
    inputs = [
        (c.name, str(c.type.name if hasattr(c.type, "name") else c.type)) for c in schema.inputs
    ]
    out_schema = meta.get_output_schema()
    named = out_schema is not None and out_schema.has_input_names()
    outputs = out_schema.input_names() if named else []
    types = (
        {c.name: str(c.type.name if hasattr(c.type, "name") else c.type) for c in out_schema.inputs}
        if named
        else {}
    )
    card = ModelCard.from_metadata(meta.metadata)
    return ModelFacts(uri=uri, inputs=inputs, outputs=list(outputs), card=card, output_types=types)


def _first_bad(values: pd.Series, bad: pd.Series, offset: int) -> str:
    pos = int(bad.to_numpy().nonzero()[0][0])
    return f"{values.iloc[pos]!r} in data row {offset + pos + 1}"


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
    missing = [c for c in facts.columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: column(s) {', '.join(map(repr, missing))} required by model {facts.uri} "
            f"are missing; it needs {', '.join(facts.columns)}"
        )
    out: dict[str, pd.Series] = {}
    for name, kind in facts.inputs:
        values = frame[name]
        blank = values.isna() | values.astype(str).str.strip().eq("")
        if kind in NUMERIC:
            num = pd.to_numeric(values, errors="coerce")
            bad = num.isna() & ~blank
            if bad.any():
                raise DataError(
                    f"{where}: column {name!r} must be numeric for model {facts.uri} "
                    f"(got {_first_bad(values, bad, offset)})"
                )
            if kind in ("long", "integer"):
                fraction = num.notna() & (num % 1 != 0)
                if blank.any() or fraction.any():
                    bad = blank | fraction
                    raise DataError(
                        f"{where}: column {name!r} must hold whole numbers for model {facts.uri} "
                        f"(got {_first_bad(values, bad, offset)})"
                    )
                out[name] = num.astype("int64")
            else:
                out[name] = num.astype(float)
        elif kind == "boolean":
            if pd.api.types.is_bool_dtype(values):
                out[name] = values
                continue
            text = values.astype(str).str.strip().str.lower()
            bad = ~(text.isin(_TRUE) | text.isin(_FALSE)) & ~blank
            if bad.any():
                raise DataError(
                    f"{where}: column {name!r} must be true/false for model {facts.uri} "
                    f"(got {_first_bad(values, bad, offset)})"
                )
            flags = text.isin(_TRUE)
            out[name] = flags if not blank.any() else flags.astype(object).where(~blank, None)
        elif kind == "datetime":
            dates = pd.to_datetime(values.where(~blank), errors="coerce", format="ISO8601")
            bad = dates.isna() & ~blank
            if bad.any():
                raise DataError(
                    f"{where}: column {name!r} must hold dates for model {facts.uri} "
                    f"(got {_first_bad(values, bad, offset)})"
                )
            out[name] = dates
        else:
            text = values if pd.api.types.is_object_dtype(values) else values.astype(str)
            out[name] = text.astype(object).where(values.notna(), None)
    return pd.DataFrame(out, index=frame.index)
