"""Seeded synthetic weekly store x department sales in long (Nixtla) format.

The shape of a retailer's weekly department sales (Walmart's store x department
data is the model): each ``store/department`` series is a store's size times a
department's volume, a slow store trend, the department's own yearly pattern -
most departments peak over Thanksgiving and Christmas (toys and electronics
several-fold, grocery barely), some in summer (garden, outdoor) or at the
start of the school year - holiday weeks (Super Bowl, Labor Day, Thanksgiving,
Christmas, flagged as Walmart flags them), markdown weeks with a lift and a dip
after, and lognormal noise. About 10 % of departments are small and lumpy
(weeks without a sale), and some of them see returns exceed sales in a week
(a negative value), as real department data do.

Every series ends on the same last week. ``weeks`` sets the history: one
length for all series, or ``(shortest, longest)`` for mixed lengths drawn
log-uniformly, as in public forecasting competitions (M4 weekly: 80 to 2,600
weeks).

:func:`generate_weekly_sales` is re-exported from :mod:`salesml.synthetic`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["DEPARTMENTS_PER_STORE", "generate_weekly_sales"]

DEPARTMENTS_PER_STORE = 60
LUMPY_SHARE = 0.10
_PATTERNS = ("holiday", "strong_holiday", "flat", "summer", "back_to_school")
_PATTERN_P = (0.45, 0.12, 0.25, 0.1, 0.08)


def _holiday_weeks(week_end: np.ndarray) -> dict[str, np.ndarray]:
    """Flags of the weeks (ending Friday) that hold each holiday Walmart flags."""
    start = week_end - np.timedelta64(6, "D")
    years = week_end.astype("datetime64[Y]").astype(int) + 1970
    out = {}
    for name, month, weekday_wanted, nth in (
        ("super_bowl", 2, 6, 0),  # first Sunday of February
        ("labor_day", 9, 0, 0),  # first Monday of September
        ("thanksgiving", 11, 3, 3),  # fourth Thursday of November
    ):
        first = np.array([f"{y}-{month:02d}-01" for y in years], dtype="datetime64[D]")
        weekday = (first.astype("int64") + 3) % 7  # Monday 0
        day = first + (weekday_wanted - weekday) % 7 + 7 * nth
        out[name] = (start <= day) & (day <= week_end)
    christmas = np.array([f"{y}-12-25" for y in years], dtype="datetime64[D]")
    out["christmas"] = (start <= christmas) & (christmas <= week_end)
    return out


def _yearly_shape(pattern: str, doy: np.ndarray, strength: float) -> np.ndarray:
    """A department's yearly multiplier by day of year (mean about 1)."""

    def bump(center: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(doy - center), 365.25 - np.abs(doy - center))
        return np.exp(-0.5 * (d / width) ** 2)

    if pattern == "flat":
        return 1.0 + 0.05 * strength * np.cos(2 * np.pi * (doy - 200) / 365.25)
    if pattern == "summer":
        return 1.0 + 0.6 * strength * bump(180, 35) - 0.2 * strength * bump(15, 30)
    if pattern == "back_to_school":
        return 1.0 + 1.2 * strength * bump(225, 10) + 0.3 * strength * bump(352, 10)
    peak = 3.0 if pattern == "strong_holiday" else 0.6
    return 1.0 + peak * strength * (0.5 * bump(330, 7) + bump(355, 8)) - 0.15 * bump(20, 20)


def generate_weekly_sales(
    n_series: int = 1000,
    seed: int = 0,
    weeks: int | tuple[int, int] = 143,
    end: str = "2012-10-26",
) -> pd.DataFrame:
    """Generate weekly sales (dollars) for ``n_series`` store/department series.

    Parameters
    ----------
    n_series : int
        Number of series (>= 1); they fill stores of 60 departments each.
    seed : int
        Seed for ``np.random.default_rng``.
    weeks : int or (int, int)
        Weeks of history of every series, or the shortest and longest history
        for mixed lengths (log-uniform between them).
    end : str
        The last week's end (a Friday; ISO format).

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id, ds, y, store, dept, is_holiday, markdown``; one row
        per series and week ending Friday (``W-FRI``), no gaps, sorted by
        ``unique_id`` then ``ds``. Series end together and start at their own
        first week.
    """
    if n_series < 1:
        raise ValueError(f"rows (number of series) must be at least 1, got {n_series}")
    lo, hi = (weeks, weeks) if isinstance(weeks, int) else (int(weeks[0]), int(weeks[1]))
    if lo < 1 or hi < lo:
        raise ValueError(f"weeks must be at least 1 and shortest <= longest, got {weeks}")
    rng = np.random.default_rng(seed)
    last = np.datetime64(end, "D")
    dates = last - 7 * np.arange(hi)[::-1]
    doy = (dates - dates.astype("datetime64[Y]")).astype("int64").astype(float)
    years = (dates - dates[0]).astype("int64") / 365.25
    holidays = _holiday_weeks(dates)
    is_holiday = np.logical_or.reduce(list(holidays.values()))

    store = np.arange(n_series) // DEPARTMENTS_PER_STORE
    dept = np.arange(n_series) % DEPARTMENTS_PER_STORE
    n_stores = int(store.max()) + 1
    d_rng = np.random.default_rng(1_000 + seed)  # departments are alike across stores
    pattern = d_rng.choice(len(_PATTERNS), DEPARTMENTS_PER_STORE, p=_PATTERN_P)
    volume = np.exp(d_rng.normal(np.log(9_000), 1.1, DEPARTMENTS_PER_STORE))
    lumpy_dept = d_rng.random(DEPARTMENTS_PER_STORE) < LUMPY_SHARE
    volume[lumpy_dept] = d_rng.uniform(20, 300, int(lumpy_dept.sum()))
    shapes = np.stack([_yearly_shape(_PATTERNS[p], doy, d_rng.uniform(0.6, 1.4)) for p in pattern])
    store_size = np.exp(rng.normal(0.0, 0.5, n_stores))
    store_trend = rng.normal(0.01, 0.04, n_stores)

    s = n_series
    level = volume[dept] * store_size[store] * np.exp(rng.normal(0, 0.25, s))
    trend = store_trend[store] + rng.normal(0, 0.02, s)
    # a level shift (remodel, new competitor) in a third of the series
    shift_at = np.where(rng.random(s) < 0.33, rng.integers(0, hi, s), hi)
    shift = np.where(
        np.arange(hi)[None, :] >= shift_at[:, None], rng.normal(0, 0.15, s)[:, None], 0
    )
    markdown = rng.random((s, hi)) < 0.06
    after = np.zeros_like(markdown)
    after[:, 1:] = markdown[:, :-1] & ~markdown[:, 1:]
    noise_sd = np.where(lumpy_dept[dept], 0.6, rng.uniform(0.04, 0.12, s))[:, None]
    ar = np.zeros((s, hi))
    eps = rng.normal(0, 1, (s, hi)) * noise_sd
    for t in range(hi):  # AR(1) noise: a good or bad run lasts a few weeks
        ar[:, t] = eps[:, t] + (0.4 * ar[:, t - 1] if t else 0)
    mu = (
        level[:, None]
        * np.exp(trend[:, None] * years[None, :] + shift)
        * shapes[dept]
        * np.where(holidays["super_bowl"], 1.08, 1.0)[None, :]
        * np.where(markdown, 1.2, 1.0)
        * np.where(after, 0.93, 1.0)
        * np.exp(ar - noise_sd**2 / 2)
    )
    y = np.round(mu, 2)
    lumpy = lumpy_dept[dept]
    quiet = rng.random((s, hi)) < 0.3
    y[lumpy[:, None] & quiet] = 0.0
    returns = lumpy[:, None] & (rng.random((s, hi)) < 0.02)
    y[returns] = -np.round(rng.uniform(5, 80, int(returns.sum())), 2)

    length = np.full(s, hi)
    if lo < hi:
        length = np.exp(rng.uniform(np.log(lo), np.log(hi + 1), s)).astype(int).clip(lo, hi)
    keep = np.arange(hi)[None, :] >= (hi - length)[:, None]
    store_name = np.char.add("S", np.char.zfill((store + 1).astype(str), 3))
    dept_name = np.char.add("D", np.char.zfill((dept + 1).astype(str), 2))
    uid = np.char.add(np.char.add(store_name, "/"), dept_name).astype(object)
    rows = keep.ravel()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(uid, hi)[rows],
            "ds": np.tile(dates.astype("datetime64[ns]"), s)[rows],
            "y": y.ravel()[rows],
            "store": np.repeat(store_name.astype(object), hi)[rows],
            "dept": np.repeat(dept_name.astype(object), hi)[rows],
            "is_holiday": np.tile(is_holiday.astype("int64"), s)[rows],
            "markdown": markdown.ravel()[rows].astype("int64"),
        }
    ).reset_index(drop=True)
