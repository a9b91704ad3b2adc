"""salesml's dataset digest is MLflow's, computed faster."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.data.digest_utils import compute_pandas_digest

from salesml.tracking.datasets import pandas_digest


def test_the_digest_is_mlflows_for_every_kind_of_column():
    rng = np.random.default_rng(0)
    n = 12_000  # above MLflow's 10,000 hashed rows: a column's type is judged on every row
    text = rng.choice(["a", "b", "c"], n).astype(object)
    late = text.copy()
    late[11_000] = 7  # not all text, though the first 10,000 rows are
    frame = pd.DataFrame(
        {
            "text": text,
            "late": late,
            "blank": np.where(rng.random(n) < 0.1, None, text),
            "ints": rng.integers(0, 9, n),
            "floats": rng.random(n),
            "flag": rng.random(n) < 0.5,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 99, n), "D"),
            "cat": pd.Categorical(text),
            "cat_missing": pd.Categorical(np.where(rng.random(n) < 0.1, None, text)),
            "string": pd.array(text.astype(str), dtype="string"),
            "string_na": pd.array(np.where(rng.random(n) < 0.1, None, text), dtype="string"),
        }
    )
    assert pandas_digest(frame) == compute_pandas_digest(frame)
    for col in frame.columns:  # and column by column, so no column can hide behind another
        assert pandas_digest(frame[[col]]) == compute_pandas_digest(frame[[col]]), col
    assert pandas_digest(frame.drop(columns="late")) != pandas_digest(frame)
