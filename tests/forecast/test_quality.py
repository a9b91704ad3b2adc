"""Returns (negative values) under data.negative, and the Syntetos-Boylan demand classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.forecast.quality import class_counts, demand_class, demand_classes, handle_negatives


def _long(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        pd.DataFrame(
            {
                "unique_id": uid,
                "ds": pd.date_range("2024-01-05", periods=len(y), freq="W-FRI"),
                "y": y,
            }
        )
        for uid, y in values.items()
    ]
    return pd.concat(rows, ignore_index=True)


def test_keep_passes_negatives_through_and_counts_them() -> None:
    df = _long({"a": [5, -2, 3, -1], "b": [1, 2, 3, 4], "c": [0, -7, 1, 1]})
    out, values, series = handle_negatives(df, "keep", "f.csv")
    assert (values, series) == (3, 2)
    assert out["y"].tolist() == df["y"].tolist()


def test_clip_sets_negatives_to_zero_and_leaves_the_input_alone() -> None:
    df = _long({"a": [5, -2, 3, -1], "b": [1, 2, 3, 4]})
    out, values, series = handle_negatives(df, "clip", "f.csv")
    assert (values, series) == (2, 1)
    assert out["y"].tolist() == [5, 0, 3, 0, 1, 2, 3, 4]
    assert df["y"].min() == -2  # not modified


def test_error_names_file_series_date_and_value() -> None:
    df = _long({"a": [5, 4, 3, 1], "b": [1, 2, -3.5, 4]})
    with pytest.raises(
        DataError, match=r"f\.csv: 1 negative sales .* series 'b' .*'b' on 2024-01-19: -3\.5"
    ):
        handle_negatives(df, "error", "f.csv")


def test_no_negatives_is_a_no_op_in_every_mode() -> None:
    df = _long({"a": [5, 4, 3, 1]})
    for mode in ("keep", "clip", "error"):
        out, values, series = handle_negatives(df, mode)  # type: ignore[arg-type]
        assert out is df and (values, series) == (0, 0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([10, 11, 9, 10, 12, 10, 9, 11], "smooth"),  # ADI 1, CV2 ~0.01
        ([1, 30, 2, 25, 1, 40, 3, 1], "erratic"),  # ADI 1, CV2 > 0.49
        ([0, 0, 5, 0, 0, 6, 0, 0, 5, 0], "intermittent"),  # ADI 10/3, CV2 ~0.01
        ([0, 0, 1, 0, 0, 40, 0, 0, 2, 0], "lumpy"),  # ADI 10/3, CV2 > 0.49
        ([0, 0, 0, 0], "zero"),
        ([0, -3, 0, 0, 4, 0, 0, 3, 0], "intermittent"),  # a return counts by its size
    ],
)
def test_demand_class(values: list[float], expected: str) -> None:
    assert demand_class(np.array(values, float)) == expected


def test_class_counts_follow_the_documented_order() -> None:
    df = _long({"b": [0, 0, 5, 0, 0, 6], "a": [3, 3, 3, 4, 3, 3], "c": [2, 2, 2, 2, 2, 2]})
    classes = demand_classes(df)
    assert classes.to_dict() == {"a": "smooth", "b": "intermittent", "c": "smooth"}
    assert list(class_counts(classes).items()) == [("smooth", 2), ("intermittent", 1)]
