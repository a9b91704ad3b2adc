"""Forecast data: the long format and the season and year defaults of a frequency."""

from __future__ import annotations

import pandas as pd
import pytest

from salesml.errors import DataError
from salesml.forecast.data import to_long
from salesml.forecast.models import periods_per_year, season_length_for


def test_to_long_joins_id_list_and_parses_date_format() -> None:
    raw = pd.DataFrame(
        {
            "Store": [2, 1, 1, 2],
            "Dept": ["x", "a", "a", "x"],
            "Date": ["12-02-2010", "12-02-2010", "05-02-2010", "05-02-2010"],
            "Weekly_Sales": ["10.5", "3", "4", "7"],
            "Holiday_Flag": [True, True, False, False],
        }
    )
    out = to_long(raw, ["Store", "Dept"], "Date", "Weekly_Sales", ["Holiday_Flag"], "%d-%m-%Y")
    assert list(out.columns) == ["unique_id", "ds", "y", "Holiday_Flag"]
    assert out["unique_id"].tolist() == ["1/a", "1/a", "2/x", "2/x"]
    assert out["ds"].tolist() == [pd.Timestamp("2010-02-05"), pd.Timestamp("2010-02-12")] * 2
    assert out["y"].tolist() == [4.0, 3.0, 7.0, 10.5]
    assert out["Holiday_Flag"].tolist() == [0.0, 1.0, 0.0, 1.0]
    custom = to_long(
        raw,
        "Store",
        "Date",
        "Weekly_Sales",
        (),
        "%d-%m-%Y",
        id_col="sid",
        time_col="t",
        target_col="v",
    )
    assert list(custom.columns) == ["sid", "t", "v"]


def test_a_missing_id_names_its_data_row_and_says_when_the_row_is_empty() -> None:
    # Excel's CSV export keeps cleared rows as a line of separators (",,,,")
    raw = pd.DataFrame(
        {
            "Store": [1, 1, None, None],
            "Date": ["05-02-2010", "12-02-2010", "19-02-2010", None],
            "Weekly_Sales": [1.0, 2.0, 3.0, None],
        }
    )
    with pytest.raises(DataError, match=r"'Store' has 2 missing values \(e.g. data row 3\)$"):
        to_long(raw, "Store", "Date", "Weekly_Sales", (), "%d-%m-%Y", where="s.csv")
    only_empty = raw.drop(index=2).reset_index(drop=True)
    with pytest.raises(DataError, match=r"data row 3, a row with every cell empty\)$"):
        to_long(only_empty, "Store", "Date", "Weekly_Sales", (), "%d-%m-%Y")


def test_season_and_year_defaults_follow_the_frequency() -> None:
    assert [season_length_for(f) for f in ("D", "W-FRI", "MS", "QS", "h", "B")] == [
        7,
        52,
        12,
        4,
        24,
        5,
    ]
    assert [periods_per_year(f) for f in ("D", "W-FRI", "MS", "QS")] == [364, 52, 12, 4]
