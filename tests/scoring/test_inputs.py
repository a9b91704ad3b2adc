"""The coercion every scoring path shares (``salesml.io.coerce.conform_columns``), on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.io.coerce import conform_columns

TYPES = [
    ("n", "double"),
    ("k", "long"),
    ("b", "boolean"),
    ("d", "datetime"),
    ("s", "string"),
    ("a", "any"),
]


def _frame(**changes: list) -> pd.DataFrame:
    base = {
        "n": [1, 2, 3],
        "k": [4, 5, 6],
        "b": [True, False, True],
        "d": pd.to_datetime(["2024-01-03", "2024-02-01", "2024-03-05"]),
        "s": ["x", "y", "z"],
        "a": [object(), None, 1],
        "extra": [0, 0, 0],
    }
    return pd.DataFrame({**base, **changes})


def test_formats_people_have_are_coerced_to_the_trained_types():
    want = conform_columns(_frame(), TYPES, "in.csv")
    assert list(want.columns) == [c for c, _ in TYPES]  # extra columns are dropped
    assert want["n"].dtype == float and want["k"].dtype == np.int64
    assert want["d"].dtype == "datetime64[ns]"
    given = {
        "n": [["1", "2.0", " 3 "], [1.0, 2.0, 3.0], [True, 2, 3]],
        "k": [[4.0, 5.0, 6.0], ["4", "5", "6"]],
        "b": [["yes", "no", "Y"], [1, 0, 1], ["TRUE", "false", "1.0"]],
        "d": [
            ["2024-01-03", "2024-02-01", "2024-03-05"],
            ["03.01.2024", "01.02.2024", "05.03.2024"],
        ],
        "s": [["x", "y", "z"]],
    }
    for column, variants in given.items():
        for values in variants:
            got = conform_columns(_frame(**{column: values}), TYPES, "in.csv")
            pd.testing.assert_series_equal(got[column], want[column], obj=f"{column}={values}")


def test_missing_values_pass_through_and_numbers_in_text_columns_read_as_written():
    got = conform_columns(
        _frame(n=[np.nan, " ", "7"], b=["yes", None, "no"], s=[3.0, np.nan, 12.0]),
        TYPES,
        "in.csv",
    )
    assert got["n"].isna().tolist() == [True, True, False] and got["n"].iloc[2] == 7.0
    assert got["b"].tolist() == [True, None, False]
    assert got["s"].tolist() == ["3", None, "12"]


def test_formatted_numbers_are_read_as_training_reads_them():
    for written, read in [
        (["1,234.5", "12", "3"], [1234.5, 12.0, 3.0]),
        (["12.5%", "3%", "100%"], [0.125, 0.03, 1.0]),  # percentages as fractions
        (["€1,234.50", "€3", "€4"], [1234.5, 3.0, 4.0]),
    ]:
        got = conform_columns(_frame(n=written), TYPES[:1], "in.csv")
        assert got["n"].tolist() == pytest.approx(read), written
    with pytest.raises(DataError, match="'n' must be numeric"):  # which decimal mark?
        conform_columns(_frame(n=["€1,200", "€3", "€4"]), TYPES[:1], "in.csv")


@pytest.mark.parametrize(
    ("column", "value", "fragments"),
    [
        ("n", np.inf, ["'n' must hold finite numbers", "got inf in data row 12", "blank"]),
        ("n", "-Infinity", ["'n' must hold finite numbers", "'-Infinity' in data row 12"]),
        ("k", -np.inf, ["'k' must hold finite numbers", "-inf in data row 12"]),
        ("n", "many", ["'n' must be numeric", "'many' in data row 12"]),
        ("k", 4.5, ["'k' must hold whole numbers", "4.5 in data row 12"]),
        ("b", "perhaps", ["'b' must be true/false", "'perhaps' in data row 12"]),
        ("d", "someday", ["'d' must hold dates", "'someday' in data row 12"]),
    ],
)
def test_a_bad_value_is_named_with_its_file_model_and_row(column, value, fragments):
    frame = _frame()
    frame[column] = frame[column].astype(object)
    frame.loc[1, column] = value
    with pytest.raises(DataError) as info:
        conform_columns(frame, TYPES, "in.csv", "models:/leads@champion", offset=10)
    message = str(info.value)
    assert message.startswith("in.csv: column") and "models:/leads@champion" in message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message


def test_missing_columns_are_named_unless_optional():
    frame = _frame().drop(columns=["k", "s"])
    with pytest.raises(DataError, match=r"column\(s\) 'k', 's' required by the model are missing"):
        conform_columns(frame, TYPES, "model input")
    got = conform_columns(frame, TYPES, "model input", optional=["k", "s"])
    assert list(got.columns) == ["n", "b", "d", "a"]


def test_dates_with_utc_offsets_are_read_as_training_reads_them():
    """Scoring input and training file go through the same offset rule
    (:func:`salesml.io.timestamps.parse_dates`): across a daylight-saving change,
    midnights keep their local date; a column mixing offsets and none is refused."""
    from salesml.io.timestamps import parse_dates

    written = pd.Series(
        ["2024-10-26T00:00:00+02:00", "2024-10-27T00:00:00+02:00", "2024-10-28T00:00:00+01:00"]
    )
    got = conform_columns(pd.DataFrame({"d": written}), [("d", "datetime")], "in.csv")["d"]
    trained, _ = parse_dates(written, "ISO8601")
    pd.testing.assert_series_equal(got, trained, check_names=False)
    assert got.dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-10-26 00:00",
        "2024-10-27 00:00",
        "2024-10-28 00:00",
    ]
    mixed = pd.DataFrame({"d": ["2024-10-26T00:00:00+02:00", "2024-10-27"]})
    with pytest.raises(DataError, match=r"in\.csv: column 'd' mixes dates with a UTC offset"):
        conform_columns(mixed, [("d", "datetime")], "in.csv")


def test_a_categorical_text_column_conforms_like_its_text():
    """Parquet text columns are read as categories (each text made once); they conform
    to the same objects as the plain text would, missing values included."""
    text = pd.Series(["x", None, "y", "x", "3"], name="s")
    as_text = conform_columns(pd.DataFrame({"s": text}), [("s", "string")], "in.parquet")
    as_category = conform_columns(
        pd.DataFrame({"s": text.astype("category")}), [("s", "string")], "in.parquet"
    )
    pd.testing.assert_frame_equal(as_category, as_text)
    assert as_category["s"].dtype == object and as_category["s"].iloc[1] is None
    numbers = pd.Series([3.0, None, 4.5]).astype("category")  # categories that are numbers
    out = conform_columns(pd.DataFrame({"s": numbers}), [("s", "string")], "in.parquet")
    assert out["s"].tolist() == ["3", None, "4.5"]


def test_a_conformed_frame_is_not_coerced_twice_but_another_request_is():
    types = [("n", "double"), ("s", "string")]
    once = conform_columns(_frame(), types, "in.csv")
    assert conform_columns(once, types, "model input") is once  # salesml score, then predict
    again = conform_columns(once, [("n", "string"), ("s", "string")], "model input")
    assert again is not once and again["n"].tolist() == ["1", "2", "3"]
    copied = once.copy()  # a new frame is checked in full
    copied["n"] = ["many", 2.0, 3.0]
    with pytest.raises(DataError, match="'n' must be numeric"):
        conform_columns(copied, types, "model input")
