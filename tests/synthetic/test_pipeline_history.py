"""The synthetic pipeline tells the story a bookings forecast must cope with."""

from __future__ import annotations

import pandas as pd
import pytest

from salesml.synthetic.pipeline_history import SNAPSHOT, generate_pipeline


@pytest.fixture(scope="module")
def pipeline() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_pipeline(6000, seed=7)


def test_the_export_shows_each_deals_last_recorded_state(pipeline):
    opps, history = pipeline
    last = history.groupby("opportunity_id").last()
    now = opps.set_index("opportunity_id")
    assert (now["stage"] == last["stage"].reindex(now.index)).all()
    assert (now["amount"] == last["amount"].reindex(now.index)).all()
    assert history["entered_at"].max() < SNAPSHOT
    first = history.groupby("opportunity_id")["entered_at"].min()
    assert (first.reindex(now.index) == now["created_at"]).all()  # created in its first stage


def test_close_dates_are_optimistic_and_pushed(pipeline):
    opps, history = pipeline
    first = history.groupby("opportunity_id")["close_date"].first()
    won = opps[opps["stage"] == "Closed Won"].set_index("opportunity_id")
    later = won["close_date"].dt.normalize() > first.reindex(won.index)
    assert later.mean() > 0.5  # most wins close after the date the rep first entered
    open_rows = history[~history["stage"].str.startswith("Closed")]
    moved = open_rows.groupby("opportunity_id")["close_date"].nunique() > 1
    assert moved.mean() > 0.2
    # a push is a row of its own, in the stage the deal is in
    pushes = open_rows[open_rows.duplicated(["opportunity_id", "stage"])]
    assert len(pushes) > 0.2 * len(opps)


def test_amounts_are_discounted_at_negotiation(pipeline):
    _, history = pipeline
    neg = history[history["stage"] == "Negotiation"].groupby("opportunity_id")["amount"].first()
    listed = history.groupby("opportunity_id")["amount"].first().reindex(neg.index)
    ratio = neg / listed
    assert ratio.between(1 / 1.26, 1 / 1.04).all()


def test_quarter_ends_book_more_and_some_deals_close_in_the_month_they_open(pipeline):
    opps, _ = pipeline
    won = opps[opps["stage"] == "Closed Won"]
    month = won["close_date"].dt.month
    per_month = won.groupby(won["close_date"].dt.to_period("M")).size()
    quarter_end = per_month[per_month.index.month % 3 == 0].mean()
    first_month = per_month[per_month.index.month % 3 == 1].mean()
    assert quarter_end > 1.4 * first_month
    same = won["close_date"].dt.to_period("M") == won["created_at"].dt.to_period("M")
    assert 0.05 < same.mean() < 0.3
    assert 0.1 < len(won) / (opps["stage"].str.startswith("Closed")).sum() < 0.3
    assert month.notna().all()
