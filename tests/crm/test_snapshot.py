"""As-of snapshots use nothing recorded after their cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.crm.history import export_at, read_history
from salesml.crm.opportunities import read_opportunities
from salesml.crm.snapshot import OWNER_PRIOR_DEALS, as_of, outcomes
from salesml.synthetic.pipeline_history import generate_pipeline

CUTOFFS = ["2023-09-01", "2024-03-01", "2024-07-01", "2024-12-01"]


@pytest.fixture(scope="module")
def pipeline():
    opps, history = generate_pipeline(2500, seed=4)
    return read_opportunities(opps, "opps.csv"), read_history(history, "history.csv")


@pytest.mark.parametrize("cutoff", CUTOFFS)
def test_a_snapshot_equals_one_built_from_the_files_as_they_were_on_its_cutoff(pipeline, cutoff):
    opps, history = pipeline
    full = as_of(opps, history, cutoff)
    then = as_of(*export_at(opps, history, pd.Timestamp(cutoff)), cutoff)
    assert len(full.frame) > 50
    pd.testing.assert_frame_equal(full.frame, then.frame)
    assert full.current == () and full.from_history


@pytest.mark.parametrize("cutoff", CUTOFFS[1:3])
def test_rewriting_everything_after_the_cutoff_changes_nothing(pipeline, cutoff):
    opps, history = pipeline
    t = pd.Timestamp(cutoff)
    rng = np.random.default_rng(0)
    h = history.frame.copy()
    later = h["entered"] > t
    for col in ("stage", "status", "amount", "close"):
        h.loc[later, col] = rng.permutation(h.loc[later, col].to_numpy())
    o = opps.frame.copy()
    moved = ~o["opportunity_id"].isin(h.loc[~later & h["status"].ne("open"), "opportunity_id"])
    for col in ("stage", "status", "amount", "close"):
        o.loc[moved, col] = rng.permutation(o.loc[moved, col].to_numpy())
    rewritten = as_of(
        type(opps)(o, opps.columns, opps.status_values, opps.where),
        type(history)(h, history.where, True, True),
        t,
    )
    pd.testing.assert_frame_equal(as_of(opps, history, t).frame, rewritten.frame)


def _tiny():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2", "D3"],
            "owner": ["Ann", "Ann", "Bo"],
            "stage": ["Closed Won", "Closed Won", "Closed Lost"],
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-04"]),
            "close_date": pd.to_datetime(["2024-03-05", "2024-01-25", "2024-01-20"]),
            "amount": [90.0, 50.0, 70.0],
        }
    )
    history = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D1", "D1", "D1", "D2", "D2", "D3", "D3"],
            "stage": [
                "Prospecting",
                "Prospecting",
                "Demo",
                "Closed Won",
                "Prospecting",
                "Closed Won",
                "Prospecting",
                "Closed Lost",
            ],  # fmt: skip
            "entered_at": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-02",
                    "2024-02-10",
                    "2024-03-05",
                    "2024-01-03",
                    "2024-01-25",
                    "2024-01-04",
                    "2024-01-20",
                ]  # fmt: skip
            ),
            "amount": [100.0, 100.0, 90.0, 90.0, 50.0, 50.0, 70.0, 70.0],
            "close_date": pd.to_datetime(
                [
                    "2024-02-01",
                    "2024-03-01",
                    "2024-03-01",
                    "2024-03-05",
                    "2024-01-31",
                    "2024-01-25",
                    "2024-02-15",
                    "2024-01-20",
                ]  # fmt: skip
            ),
        }
    )
    return read_opportunities(opps, "tiny.csv"), read_history(history, "tiny-history.csv")


def test_what_a_snapshot_knows_about_a_deal():
    opps, history = _tiny()
    snap = as_of(opps, history, "2024-02-15")
    assert list(snap.frame["opportunity_id"]) == ["D1"]  # D2 won and D3 lost in January
    d1 = snap.frame.iloc[0]
    assert d1["stage"] == "Demo" and d1["amount"] == 90.0 and d1["pushes"] == 1
    assert d1["days_in_stage"] == 5.0 and d1["age_days"] == 45.0
    assert d1["expected_close"] == pd.Timestamp("2024-03-01") and d1["stage_changes"] == 3
    # Ann won 1 of 1 closed deal, everyone 1 of 2: shrunk towards a half
    assert d1["owner_win_rate"] == pytest.approx((1 + OWNER_PRIOR_DEALS * 0.5) / 11)
    early = as_of(opps, history, "2024-01-10").frame.set_index("opportunity_id")
    assert list(early.index) == ["D1", "D2", "D3"] and early["pushes"].sum() == 0
    assert early.loc["D1", "amount"] == 100.0  # the list price before the discount
    march = outcomes(opps, snap, "2024-04-01")
    assert march["won"].tolist() == [True] and march["won_amount"].tolist() == [90.0]
    assert not outcomes(opps, snap, "2024-03-05")["won"].any()  # the period ends before


def test_without_history_the_snapshot_leaves_out_what_it_cannot_know():
    opps, _ = _tiny()
    snap = as_of(opps, None, "2024-01-25")
    # D2 closed on the cutoff's day: open at its start
    assert list(snap.frame["opportunity_id"]) == ["D1", "D2"]
    assert snap.frame["stage"].isna().all() and snap.frame["expected_close"].isna().all()
    assert snap.current == ("amount",) and not snap.from_history
