"""The bookings rules compute what a sales team computes, from what was known at the period's start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.crm.history import read_history
from salesml.crm.opportunities import read_opportunities
from salesml.errors import DataError
from salesml.pipeline.forecasts import QCOLS, from_past_errors, simulate
from salesml.pipeline.periods import build_backtest
from salesml.pipeline.registry import CANDIDATES
from salesml.pipeline.rules import (
    Commit,
    LastYear,
    LearnedStageWeights,
    RunRate,
    StageWeighted,
    in_period,
)
from salesml.synthetic.pipeline_history import STAGE_PROBABILITIES, generate_pipeline


@pytest.fixture(scope="module")
def backtest():
    opps, history = generate_pipeline(3000, seed=2)
    o, h = read_opportunities(opps, "o.csv"), read_history(history, "h.csv")
    return build_backtest(o, h, "month", 4, 13), o


def test_the_stage_weighted_pipeline_is_amount_times_probability_of_deals_due(backtest):
    bt, _ = backtest
    known = bt.known(bt.scored[0])
    fc = StageWeighted(STAGE_PROBABILITIES).fit(known).predict(known)
    snap = known.snapshot.frame
    due = in_period(snap, known.period)
    weight = snap["stage"].map(STAGE_PROBABILITIES).to_numpy() * due
    expected = pd.Series(weight * snap["amount"].to_numpy()).groupby(known.segments).sum()
    pd.testing.assert_series_equal(
        fc.by_segment["mean"], expected.reindex(fc.by_segment.index), check_names=False
    )
    assert fc.deals is not None and (fc.deals["probability"][~due] == 0).all()
    assert 0 < due.sum() < len(snap)


def test_run_rate_last_year_and_their_intervals(backtest):
    bt, _ = backtest
    i = bt.scored[-1]
    known = bt.known(i)
    run = RunRate().fit(known).predict(known).by_segment
    pd.testing.assert_series_equal(
        run["mean"], bt.periods[i - 1].bookings.reindex(run.index), check_names=False
    )
    last = LastYear().fit(known)
    ly = last.predict(known).by_segment
    pd.testing.assert_series_equal(
        ly["mean"], bt.periods[i - 12].bookings.reindex(ly.index), check_names=False
    )
    assert last.fallbacks_ == 0
    # the interval: the rule's own past errors, never below zero bookings
    assert (run[list(QCOLS)].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert (run["q05"] >= 0).all() and (run["q95"] > run["q05"]).all()


def test_learned_weights_come_from_earlier_periods_only(backtest):
    bt, _ = backtest
    i = bt.scored[0]
    known = bt.known(i)
    rule = LearnedStageWeights(periods=3).fit(known)
    table, _ = rule.state_
    past = bt.periods[i - 3 : i]
    stage = pd.concat([q.snapshot.frame["stage"] for q in past], ignore_index=True)
    amount = pd.concat([q.snapshot.frame["amount"] for q in past], ignore_index=True)
    won = pd.concat([q.outcomes["won_amount"] for q in past], ignore_index=True)
    for s in ("Demo", "Negotiation"):
        assert table[s] == pytest.approx(won[stage == s].sum() / amount[stage == s].sum())


def test_commit_counts_the_last_stage_due_this_period(backtest):
    bt, _ = backtest
    known = bt.known(bt.scored[1])
    fc = Commit().fit(known).predict(known)
    snap = known.snapshot.frame
    chosen = (snap["stage"] == "Negotiation").to_numpy() & in_period(snap, known.period)
    assert fc.deals["probability"].to_numpy().tolist() == chosen.astype(float).tolist()


def test_rules_that_need_a_stage_history_say_so(backtest):
    _, opps = backtest
    bt = build_backtest(opps, None, "month", 2, 13)
    known = bt.known(bt.scored[0])
    for rule in (StageWeighted(), LearnedStageWeights(), Commit()):
        with pytest.raises(DataError, match="stage history"):
            rule.fit(known)
    assert RunRate().fit(known).predict(known).by_segment["mean"].sum() > 0


def test_simulated_bookings_of_one_even_deal_and_new_deals():
    by = simulate(np.array([0.5]), np.array([100.0]), np.array(["a"]), ("a", "b"), None, 0)
    assert by.loc["a", "mean"] == 50 and by.loc["a", "q05"] == 0 and by.loc["a", "q95"] == 100
    assert (by.loc["b"] == 0).all()
    new = {"b": np.array([10.0, 30.0])}
    by = simulate(np.array([0.5]), np.array([100.0]), np.array(["a"]), ("a", "b"), new, 0)
    assert by.loc["b", "mean"] == 20 and {by.loc["b", "q05"], by.loc["b", "q95"]} == {10, 30}
    again = simulate(np.array([0.5]), np.array([100.0]), np.array(["a"]), ("a", "b"), new, 0)
    pd.testing.assert_frame_equal(by, again)  # seeded


def test_an_interval_from_past_errors_is_never_negative():
    out = from_past_errors(pd.Series({"a": 100.0}), {"a": np.array([-300.0, 0.0, 50.0])}, ("a",))
    assert out.loc["a", "mean"] == 100 and out.loc["a", "q05"] == 0
    assert out.loc["a", "q95"] == pytest.approx(100 + np.quantile([-300, 0, 50], 0.95))


@pytest.mark.parametrize("spec", CANDIDATES, ids=lambda s: s.type)
def test_bookings_tags_are_true(spec, backtest):
    """``deals``: per-deal probabilities; ``history``: refuses without one; ``new_deals``: adds them."""
    bt, opps = backtest
    known = bt.known(bt.scored[0])
    params = {"n_estimators": 40, "calibration_periods": 0} if spec.role == "model" else {}
    fc = spec.make(0, **params).fit(known).predict(known)
    assert (fc.deals is not None) == ("deals" in spec.tags)
    bare = build_backtest(opps, None, "month", 2, 13)
    plain = bare.known(bare.scored[0])
    if "history" in spec.tags:
        with pytest.raises(DataError, match="stage history"):
            spec.make(0, **params).fit(plain)
    else:
        spec.make(0, **params).fit(plain).predict(plain)
    if fc.deals is not None:
        from_deals = fc.deals["expected"].sum()
        total = fc.by_segment["mean"].sum()
        assert (total > from_deals + 1) == ("new_deals" in spec.tags)
