"""A CRM pipeline as a CRM keeps it: the opportunities export and its stage history.

Built on :func:`~salesml.synthetic.pipeline.generate_opportunities` (who sells
what to whom, how each deal moves through the stages and ends), it adds what a
real pipeline has and a forecast must cope with:

- **optimistic expected close dates**: a rep enters one at creation, about 25 %
  sooner than deals of that segment usually take, and **pushes** it when it
  passes with the deal still open (each push a history row);
- **a quarter-end rush**: six in ten deals that would be won in the first 20
  days of a quarter are closed in the last days of the quarter before (reps
  pull them in for their number), so bookings are lumpy at quarter ends;
- **amounts revised along the way**: a deal is opened at a list price 5-25 %
  above what it is won at, and discounted when it reaches negotiation;
- **deals created and won inside one month**: a third of small deals move at
  three times the usual pace.

The stage history has one row per stage entered and per push: the deal, the
stage, when, and the amount and expected close date as of then. The export is
what the CRM shows on the snapshot day (2025-01-01): each deal's current stage,
its close date (the actual one when closed, the expected one while open) and
its current amount.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.synthetic.pipeline import OPPORTUNITY_STAGES, generate_opportunities

CRM_STAGES = ("Prospecting", "Contacted", "Qualified", "Demo", "Negotiation")
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"
# The CRM's default stage probabilities (what the stage-weighted forecast multiplies by).
STAGE_PROBABILITIES = {
    "Prospecting": 0.10, "Contacted": 0.20, "Qualified": 0.40, "Demo": 0.60, "Negotiation": 0.80,
}  # fmt: skip
SNAPSHOT = pd.Timestamp("2025-01-01")
_TYPICAL_DAYS = {"smb": 30.0, "mid_market": 55.0, "enterprise": 100.0}
DAY = pd.Timedelta(days=1)
FAST_SHARE = 1 / 3


def _quarter_rush(rng: np.random.Generator, close: pd.Series, floor: pd.Series) -> pd.Series:
    """Wins early in a quarter pulled into the last days of the one before (never before ``floor``)."""
    quarter_start = close.dt.to_period("Q").dt.start_time
    early = (close - quarter_start) < 20 * DAY
    pulled = quarter_start - pd.to_timedelta(rng.uniform(0.1, 4.0, len(close)), unit="D")
    move = early & (rng.random(len(close)) < 0.6) & (pulled > floor + DAY)
    return close.where(~move, pulled.round("s"))


def generate_pipeline(n_rows: int = 6_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate an opportunities export and its stage history (see the module's story).

    Parameters
    ----------
    n_rows : int
        Number of opportunities (>= 1), created 2023-01-01 to 2024-12-31.
    seed : int
        Seed for ``np.random.default_rng`` (the deals' paths use ``seed`` too).

    Returns
    -------
    (opportunities, history) : tuple of DataFrame
        ``opportunities``: ``opportunity_id, owner, segment, lead_source,
        created_at, stage, close_date, amount``, one row per deal as of
        2025-01-01; ``history``: ``opportunity_id, stage, entered_at, amount,
        close_date``, one row per stage entered or close date pushed, by deal and time.
    """
    deals = generate_opportunities(n_rows, seed)
    rng = np.random.default_rng([seed, 1])
    n = len(deals)
    stamps = deals[[f"{s}_at" for s in OPPORTUNITY_STAGES]].copy()
    # a third of small deals run at three times the pace (inbound buyers who know what they want)
    fast = deals["segment"].eq("smb").to_numpy() & (rng.random(n) < FAST_SHARE)
    elapsed = stamps.sub(deals["created_at"], axis=0)
    quick = elapsed[fast].apply(lambda c: (c / 3).dt.round("s"))
    stamps[fast] = quick.add(deals.loc[fast, "created_at"], axis=0)
    stamps["prospecting_at"] = deals["created_at"]  # a deal is created in its first stage
    won = deals["outcome"].eq("won")
    last_open = stamps.iloc[:, :5].max(axis=1)
    closed_at = stamps["closed_at"].where(~won, _quarter_rush(rng, stamps["closed_at"], last_open))
    stamps["closed_at"] = closed_at
    final = deals["amount"].to_numpy()
    listed = np.round(final * rng.uniform(1.05, 1.25, n), -2)
    typical = deals["segment"].map(_TYPICAL_DAYS).to_numpy()
    first_guess = typical * 0.75 * np.exp(rng.normal(0.0, 0.3, n))
    rows: list[tuple] = []
    created = deals["created_at"]
    for i in range(n):
        oid = deals["opportunity_id"].iat[i]
        expected = (created.iat[i] + pd.Timedelta(days=float(first_guess[i]))).normalize()
        amount = listed[i]
        events = [(stamps.iat[i, k], CRM_STAGES[k]) for k in range(5) if pd.notna(stamps.iat[i, k])]
        end = stamps.iat[i, 5] if pd.notna(stamps.iat[i, 5]) else SNAPSHOT
        for k, (when, stage) in enumerate(events):
            if stage == "Negotiation":
                amount = final[i]
            rows.append((oid, stage, when, amount, expected))
            until = events[k + 1][0] if k + 1 < len(events) else end
            while expected < until:  # the date passed with the deal still here: pushed
                push_at = expected + pd.Timedelta(hours=float(rng.uniform(9, 40)))
                if push_at >= until:
                    break
                expected = push_at + pd.Timedelta(days=float(typical[i] * rng.uniform(0.25, 0.6)))
                expected = expected.round("D")
                rows.append((oid, stage, push_at, amount, expected))
        if pd.notna(stamps.iat[i, 5]):
            outcome = WON_STAGE if won.iat[i] else LOST_STAGE
            close = stamps.iat[i, 5]
            rows.append((oid, outcome, close, amount, close.normalize()))
    history = pd.DataFrame(
        rows, columns=["opportunity_id", "stage", "entered_at", "amount", "close_date"]
    )
    history = history[history["entered_at"] < SNAPSHOT]
    history = history.sort_values(["opportunity_id", "entered_at"], kind="stable")
    last = history.groupby("opportunity_id", sort=False).last()
    export = deals[["opportunity_id", "owner", "segment", "lead_source", "created_at"]].copy()
    now = last.reindex(export["opportunity_id"])
    export["stage"] = now["stage"].to_numpy()
    export["close_date"] = now["close_date"].to_numpy()
    export["amount"] = now["amount"].to_numpy()
    return export.reset_index(drop=True), history.reset_index(drop=True)


def generate_pipeline_export(n_rows: int = 6_000, seed: int = 0) -> pd.DataFrame:
    """The opportunities export of :func:`generate_pipeline` (same rows and seed, same deals)."""
    return generate_pipeline(n_rows, seed)[0]


def generate_stage_history(n_rows: int = 6_000, seed: int = 0) -> pd.DataFrame:
    """The stage history of :func:`generate_pipeline` (same rows and seed, same deals)."""
    return generate_pipeline(n_rows, seed)[1]
