"""Forecast data: the long format and the season and year defaults of a frequency."""

from __future__ import annotations

import pandas as pd

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
