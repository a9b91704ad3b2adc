"""A predictor exported with cloudpickle: the artifact it is stored in, and its input types.

Used by the exported models whose state is a salesml predictor object
(statsforecast and mlforecast fits, the bookings deal model) rather than
skops-serialisable estimators.
"""

from __future__ import annotations

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
