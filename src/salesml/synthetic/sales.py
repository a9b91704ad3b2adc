"""Seeded synthetic daily retail sales in long (Nixtla) format.

Each ``store/product`` series combines a level, a trend (up or down), weekly
seasonality (weekend peaks for most series, weekday peaks for some products),
yearly seasonality (a December peak, a January slump, a product-specific summer
swing), fixed-date holidays plus Thanksgiving and Black Friday, promotions with a
post-promotion dip, price elasticity (prices drift, step, and drop on promotion)
and multiplicative gamma noise under Poisson sampling - i.e. negative-binomial
counts. About 15 % of series are intermittent, low-volume slow movers.

:func:`generate_sales` is re-exported from :mod:`salesml.synthetic`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["HOLIDAYS", "INTERMITTENT_SHARE", "generate_sales", "holiday_calendar"]

INTERMITTENT_SHARE = 0.15
PRODUCTS_PER_STORE = 10
# Holiday name -> default demand multiplier (each series scales it by its own sensitivity).
HOLIDAYS: dict[str, float] = {
    "new_years_day": 0.45,
    "independence_day": 1.15,
    "thanksgiving": 0.4,
    "black_friday": 2.0,
    "christmas_eve": 1.35,
    "christmas": 0.1,
    "new_years_eve": 1.2,
}


def holiday_calendar(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Holiday flags and default demand multipliers for daily dates.

    Parameters
    ----------
    dates : numpy.ndarray
        ``datetime64[D]`` dates.

    Returns
    -------
    is_holiday : numpy.ndarray
        ``int64`` 0/1 flag per date (the days in :data:`HOLIDAYS`).
    multiplier : numpy.ndarray
        Default demand multiplier per date (1.0 on ordinary days).
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    month = dates.astype("datetime64[M]").astype("int64") % 12 + 1
    day = (dates - dates.astype("datetime64[M]")).astype("int64") + 1
    weekday = (dates.astype("int64") + 3) % 7  # 0 = Monday
    masks = {
        "new_years_day": (month == 1) & (day == 1),
        "independence_day": (month == 7) & (day == 4),
        "thanksgiving": (month == 11) & (weekday == 3) & (day >= 22) & (day <= 28),
        "black_friday": (month == 11) & (weekday == 4) & (day >= 23) & (day <= 29),
        "christmas_eve": (month == 12) & (day == 24),
        "christmas": (month == 12) & (day == 25),
        "new_years_eve": (month == 12) & (day == 31),
    }
    flag = np.zeros(dates.size, dtype=bool)
    mult = np.ones(dates.size)
    for name, mask in masks.items():
        flag |= mask
        mult[mask] = HOLIDAYS[name]
    return flag.astype("int64"), mult


def _series_ids(n_series: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Store/product indices and zero-padded names, in sorted ``unique_id`` order."""
    n_products = min(n_series, PRODUCTS_PER_STORE)
    n_stores = -(-n_series // n_products)
    store = np.arange(n_series) // n_products
    product = np.arange(n_series) % n_products
    ws, wp = max(2, len(str(n_stores))), max(2, len(str(n_products)))
    store_name = np.char.add("store_", np.char.zfill((store + 1).astype(str), ws))
    product_name = np.char.add("product_", np.char.zfill((product + 1).astype(str), wp))
    return store, product, store_name.astype(object), product_name.astype(object)


def generate_sales(
    n_series: int = 60, seed: int = 0, start: str = "2021-01-01", n_days: int = 1095
) -> pd.DataFrame:
    """Generate daily unit sales for ``n_series`` store/product series.

    Parameters
    ----------
    n_series : int
        Number of series (>= 1). Series fill stores of 10 products each.
    seed : int
        Seed for ``np.random.default_rng``.
    start : str
        First date (ISO format).
    n_days : int
        Number of consecutive days per series (>= 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id, ds, y, store, product, price, promo, is_holiday``;
        one row per series and day, no gaps, sorted by ``unique_id`` then ``ds``.
    """
    if n_series < 1:
        raise ValueError(f"rows (number of series) must be at least 1, got {n_series}")
    if n_days < 1:
        raise ValueError(f"n_days must be at least 1, got {n_days}")
    rng = np.random.default_rng(seed)
    s_count, t_count = n_series, n_days
    store, product, store_name, product_name = _series_ids(n_series)
    n_stores, n_products = int(store.max()) + 1, int(product.max()) + 1

    dates = np.arange(np.datetime64(start, "D"), np.datetime64(start, "D") + t_count)
    doy = (dates - dates.astype("datetime64[Y]")).astype("int64")
    weekday = (dates.astype("int64") + 3) % 7
    years = np.arange(t_count) / 365.25
    is_holiday, holiday_mult = holiday_calendar(dates)

    # Product-level traits (shared by every store) and store-level traits.
    base_price = np.round(np.exp(rng.normal(np.log(8.0), 0.8, n_products)), 2)
    elasticity = rng.uniform(-2.4, -0.8, n_products)
    popularity = np.exp(rng.normal(0.0, 0.5, n_products))
    december = rng.uniform(0.25, 0.7, n_products)
    summer = rng.uniform(-0.1, 0.2, n_products)
    weekday_product = rng.random(n_products) < 0.15  # office-type goods peak on weekdays
    store_size = np.exp(rng.normal(0.0, 0.4, n_stores))
    store_trend = rng.normal(0.03, 0.08, n_stores)
    weekend_strength = rng.uniform(0.15, 0.5, n_stores)

    # Series-level parameters.
    level = 40.0 * store_size[store] * popularity[product] * np.exp(rng.normal(0, 0.3, s_count))
    n_slow = round(INTERMITTENT_SHARE * s_count)
    intermittent = np.zeros(s_count, dtype=bool)
    intermittent[rng.choice(s_count, n_slow, replace=False)] = True
    level[intermittent] = rng.uniform(0.08, 0.7, n_slow)
    trend = store_trend[store] + rng.normal(0.0, 0.05, s_count)
    holiday_sens = rng.uniform(0.6, 1.2, s_count)
    weekend_shape = np.array([0.0, -0.05, -0.02, 0.02, 0.15, 1.0, 0.7])
    weekly = 1.0 + weekend_strength[store][:, None] * weekend_shape[None, :]
    weekday_shape = np.array([1.15, 1.15, 1.12, 1.1, 1.0, 0.6, 0.5])
    weekly = np.where(weekday_product[product][:, None], weekday_shape[None, :], weekly)
    weekly = weekly / weekly.mean(axis=1, keepdims=True)

    yearly = (
        1.0
        + december[product][:, None] * np.exp(-0.5 * ((doy - 352) / 12.0) ** 2)[None, :]
        + summer[product][:, None] * np.cos(2 * np.pi * (doy - 196) / 365.25)[None, :]
        - 0.12 * np.exp(-0.5 * ((doy - 18) / 14.0) ** 2)[None, :]
    )

    # Regular price: inflation plus occasional step changes; promotions cut it.
    steps = (rng.random((s_count, t_count)) < 1 / 250) * rng.normal(0.0, 0.06, (s_count, t_count))
    regular = (
        base_price[product][:, None]
        * rng.uniform(0.95, 1.05, s_count)[:, None]
        * np.exp(0.03 * years[None, :] + np.cumsum(steps, axis=1))
    )
    t_idx = np.arange(t_count)[None, :]
    starts = rng.random((s_count, t_count)) < rng.uniform(1 / 60, 1 / 25, s_count)[:, None]
    ends = np.where(starts, t_idx + rng.integers(3, 11, (s_count, t_count)), -1)
    until = np.maximum.accumulate(ends, axis=1)  # end (exclusive) of the latest promotion
    promo = t_idx < until
    since_end = np.where((until > 0) & ~promo, t_idx - until, 10**6)
    depth = rng.uniform(0.1, 0.3, s_count)[:, None]
    price = np.round(regular * np.where(promo, 1.0 - depth, 1.0), 2)
    price_ref = base_price[product][:, None]

    mu = (
        level[:, None]
        * np.exp(trend[:, None] * years[None, :])
        * weekly[:, weekday]
        * yearly
        * holiday_mult[None, :] ** holiday_sens[:, None]
        * (price / price_ref) ** elasticity[product][:, None]
        * np.where(promo, 1.25, 1.0)  # display/feature effect on top of the price cut
        * (1.0 - 0.25 * np.exp(-since_end / 3.0))  # post-promo dip: customers stocked up
    )
    shape = np.where(intermittent, 1.5, 25.0)[:, None]  # gamma-Poisson = negative binomial
    y = rng.poisson(mu * rng.gamma(shape, 1.0 / shape, (s_count, t_count))).astype(float)

    uid = np.char.add(np.char.add(store_name.astype(str), "/"), product_name.astype(str))
    return pd.DataFrame(
        {
            "unique_id": np.repeat(uid.astype(object), t_count),
            "ds": np.tile(dates.astype("datetime64[ns]"), s_count),
            "y": y.ravel(),
            "store": np.repeat(store_name, t_count),
            "product": np.repeat(product_name, t_count),
            "price": price.ravel(),
            "promo": promo.ravel().astype("int64"),
            "is_holiday": np.tile(is_holiday, s_count),
        }
    )
