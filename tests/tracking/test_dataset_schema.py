"""The dataset schema MLflow records, inferred from the rows that decide it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.tracking.datasets import schema_rows


@pytest.mark.parametrize("late", ["nothing", "missing", "bool_in_text", "number_in_text"])
def test_the_deciding_rows_give_the_schema_of_the_whole_frame(late):
    import mlflow

    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "pro"], n).astype(object),
            "visits": rng.integers(0, 9, n).astype(float),
            "won": rng.random(n) < 0.2,
            "signed": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D"),
        }
    )
    if late == "missing":
        frame.loc[4000, "visits"] = np.nan
        frame.loc[4100, "plan"] = None
    elif late == "bool_in_text":
        frame.loc[4500, "plan"] = True
    elif late == "number_in_text":
        frame.loc[4500, "plan"] = 3.5
    rows = schema_rows(frame, head=100)
    assert len(rows) <= 103
    whole = mlflow.data.from_pandas(frame).schema
    assert mlflow.data.from_pandas(rows).schema == whole
    if late == "missing":
        assert "optional" in str(whole)
