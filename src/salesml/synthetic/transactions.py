"""A shop's transaction log: repeat buyers who drift away, exported with its usual mess.

Customers arrive over the first half of two years (2023-2024). Each one, while
still a customer, buys at a personal rate (gamma across customers, a few
purchases a year on average) and, after each purchase, leaves for good with a
personal probability (beta across customers): the BG/NBD story. A purchase's
value varies around the customer's own mean (gamma around a gamma-distributed
mean: the Gamma-Gamma story), and an order has one to three lines.

The export has what a real one has (the counts are fixed shares of lines):
2 % guest lines without a customer id, returns (3 % of orders: a credit note
``C...`` with negative quantities a few days later), 0.5 % zero-price lines
(free samples) and 0.3 % lines exported twice. Columns follow the common
online-retail layout: ``Invoice, StockCode, Quantity, InvoiceDate, Price,
Customer ID``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = np.datetime64("2023-01-01")
DAYS = 730
MAX_PURCHASES = 80


def _purchases(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Customer index and day of every purchase (first ones included), sorted by customer."""
    rate = rng.gamma(0.6, 1 / 12.5, n)  # purchases a day while alive: about 18 a year at the mean
    churn = rng.beta(1.0, 4.0, n)  # chance of leaving after each purchase
    first = rng.uniform(0, DAYS / 2, n)
    gaps = rng.exponential(1.0, (n, MAX_PURCHASES - 1)) / np.maximum(rate, 1e-4)[:, None]
    days = np.concatenate([first[:, None], first[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    lives = rng.geometric(np.maximum(churn, 1e-3))  # purchases made before leaving
    alive = np.arange(MAX_PURCHASES)[None, :] < lives[:, None]
    keep = alive & (days < DAYS)
    who = np.repeat(np.arange(n), keep.sum(axis=1))
    return who, days[keep]


def generate_transactions(n_rows: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Generate a transaction log for ``n_rows`` customers (about 10 lines each).

    Parameters
    ----------
    n_rows : int
        Number of customers (>= 1).
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per order line, in time order, with guest lines, credit notes,
        zero-price and duplicated lines as described in the module.
    """
    rng = np.random.default_rng(seed)
    who, day = _purchases(rng, n_rows)
    mean_value = 1 / rng.gamma(3.0, 1 / 60.0, n_rows)  # each customer's mean order value
    value = rng.gamma(6.0, mean_value[who] / 6.0)
    n_lines = rng.integers(1, 4, len(who))
    order = np.repeat(np.arange(len(who)), n_lines)
    share = rng.dirichlet(np.ones(3), len(who))
    part = share[order, np.concatenate([np.arange(k) for k in n_lines])]
    part = part / np.bincount(order, weights=part)[order]
    quantity = rng.integers(1, 4, len(order))
    price = np.round(value[order] * part / quantity, 2)
    when = START + (day[order] * 86_400).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "Invoice": (100_000 + order).astype(str),
            "StockCode": rng.integers(10_000, 99_999, len(order)).astype(str),
            "Quantity": quantity,
            "InvoiceDate": when,
            "Price": price,
            "Customer ID": (12_000 + who[order]).astype(str),
        }
    )
    returned = rng.random(len(who)) < 0.03
    credit = frame[returned[order]].copy()
    credit["Invoice"] = "C" + credit["Invoice"]
    credit["Quantity"] = -credit["Quantity"]
    credit["InvoiceDate"] += pd.to_timedelta(rng.integers(2, 20, len(credit)), unit="D")
    frame = pd.concat([frame, credit], ignore_index=True)
    frame.loc[rng.random(len(frame)) < 0.005, "Price"] = 0.0
    frame["Customer ID"] = frame["Customer ID"].where(rng.random(len(frame)) >= 0.02)
    twice = frame[rng.random(len(frame)) < 0.003]
    frame = pd.concat([frame, twice], ignore_index=True)
    frame = frame[frame["InvoiceDate"] < START + np.timedelta64(DAYS, "D")]
    return frame.sort_values("InvoiceDate", kind="stable").reset_index(drop=True)
