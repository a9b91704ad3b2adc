"""The synthetic weekly store x department sales: shape, calendar, story, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.synthetic import generate, generate_weekly_sales
from salesml.synthetic.weekly import DEPARTMENTS_PER_STORE


@pytest.fixture(scope="module")
def weekly() -> pd.DataFrame:
    return generate_weekly_sales(240, seed=5, weeks=156)


def test_long_format_complete_weekly_grid(weekly: pd.DataFrame) -> None:
    assert list(weekly.columns) == [
        "unique_id", "ds", "y", "store", "dept", "is_holiday", "markdown"
    ]  # fmt: skip
    assert weekly["unique_id"].nunique() == 240
    assert weekly.groupby("unique_id").size().eq(156).all()
    assert (weekly["ds"].dt.dayofweek == 4).all()  # weeks end on Friday (W-FRI)
    gaps = weekly.groupby("unique_id")["ds"].diff().dropna()
    assert (gaps == pd.Timedelta(days=7)).all()
    assert weekly["ds"].max() == pd.Timestamp("2012-10-26")
    assert weekly.equals(weekly.sort_values(["unique_id", "ds"]).reset_index(drop=True))
    assert weekly["store"].nunique() == 4 and weekly["dept"].nunique() == DEPARTMENTS_PER_STORE
    assert (weekly["unique_id"] == weekly["store"] + "/" + weekly["dept"]).all()


def test_holidays_are_the_weeks_walmart_flags(weekly: pd.DataFrame) -> None:
    flagged = set(weekly.loc[weekly["is_holiday"] == 1, "ds"].dt.strftime("%Y-%m-%d"))
    # Walmart's own holiday weeks in the same span (Super Bowl, Labor Day, Thanksgiving, Christmas)
    assert {"2010-11-26", "2010-12-31", "2011-02-11", "2011-09-09", "2011-11-25"} <= flagged
    assert {"2011-12-30", "2012-02-10", "2012-09-07"} <= flagged
    assert len(flagged) == 12  # four a year over three years, nothing else


def test_the_story_holiday_peaks_lumpy_departments_and_returns(weekly: pd.DataFrame) -> None:
    total = weekly.groupby("ds")["y"].sum()
    december = total[total.index.month == 12].mean()
    spring = total[total.index.month.isin([3, 4, 5])].mean()
    assert december > 1.15 * spring  # the holiday season lifts the total
    mean = weekly.groupby("unique_id")["y"].mean()
    assert mean.max() / mean[mean > 0].min() > 100  # big and tiny departments
    zero_share = weekly.groupby("unique_id")["y"].apply(lambda y: (y == 0).mean())
    lumpy = zero_share > 0.1
    assert 0.02 < lumpy.mean() < 0.3
    assert (weekly["y"] < 0).any()  # returns exceed sales in some weeks
    assert weekly.loc[weekly["y"] < 0, "unique_id"].isin(lumpy[lumpy].index).all()
    assert 0.03 < weekly["markdown"].mean() < 0.09
    # markdown weeks sell more than the same series' other weeks, on the whole
    lift = weekly.groupby(["unique_id", "markdown"])["y"].mean().unstack().dropna()
    assert (lift[1] > lift[0]).mean() > 0.6


def test_a_season_a_year_shows_in_the_autocorrelation(weekly: pd.DataFrame) -> None:
    big = weekly.groupby("unique_id")["y"].mean().nlargest(20).index
    acf52 = [
        pd.Series(np.log(g["y"].clip(lower=1).to_numpy())).autocorr(52)
        for _, g in weekly[weekly["unique_id"].isin(big)].groupby("unique_id")
    ]
    assert np.median(acf52) > 0.3


def test_mixed_lengths_end_together() -> None:
    mixed = generate_weekly_sales(300, seed=1, weeks=(80, 2_600))
    n = mixed.groupby("unique_id").size()
    assert n.min() >= 80 and n.max() <= 2_600
    assert n.quantile(0.9) > 5 * n.quantile(0.1)  # log-uniform: wide spread
    assert mixed.groupby("unique_id")["ds"].max().nunique() == 1


def test_seeds_and_options_through_generate() -> None:
    a = generate("weekly_sales", 5, seed=9, weeks=60)
    pd.testing.assert_frame_equal(a, generate_weekly_sales(5, seed=9, weeks=60))
    assert len(a) == 300
    assert not a.equals(generate("weekly_sales", 5, seed=10, weeks=60))


@pytest.mark.parametrize("weeks", [0, (50, 40)])
def test_bad_weeks_are_refused(weeks: int | tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="weeks must be at least 1"):
        generate_weekly_sales(3, weeks=weeks)
    with pytest.raises(ValueError, match="at least 1"):
        generate_weekly_sales(0)
