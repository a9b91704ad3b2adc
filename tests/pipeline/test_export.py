"""The exported bookings model reads an opportunities export and forecasts the period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import bookings_config
from salesml.experiment.config import load_experiment
from salesml.experiment.task import Outcome
from salesml.pipeline.task import BookingsTask


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bookings")
    task = BookingsTask(load_experiment(bookings_config(folder)))
    prep = task.prepare()
    cand = next(c for role, c in task.config.candidates if role == "model")
    outcome = Outcome(name=cand.name, role="model", type=cand.type)
    return task.export(outcome, cand), prep.raw


def test_every_open_deal_gets_a_probability_and_the_segments_add_up(exported):
    model, raw = exported
    out = model.predictor.predict(raw)
    deals, segs = out[out["level"] == "deal"], out[out["level"] == "segment"].set_index("segment")
    open_ids = raw.loc[~raw["stage"].str.startswith("Closed"), "opportunity_id"]
    assert sorted(deals["opportunity_id"]) == sorted(open_ids)
    assert deals["probability"].between(0, 1).all()
    np.testing.assert_allclose(deals["expected"], deals["probability"] * deals["amount"])
    assert (out["period"] == "2025-01").all() and (out["as_of"] == "2025-01-01").all()
    parts = segs.drop(index="total")
    assert segs.loc["total", "mean"] == pytest.approx(parts["mean"].sum())
    assert (segs["q10"] <= segs["q50"]).all() and (segs["q50"] <= segs["q90"]).all()
    assert deals["reason_1"].notna().all()
    assert not deals["reason_1"].str.contains("unknown").any()


def test_a_forecast_made_inside_the_period_counts_what_was_booked_since_it_began(exported):
    model, raw = exported
    start = model.predictor.predict(raw)
    frame = raw.copy()
    row = frame.index[~frame["stage"].str.startswith("Closed")][0]
    frame.loc[row, ["stage", "close_date"]] = ["Closed Won", pd.Timestamp("2025-01-05")]
    later = model.predictor.predict(frame, {"as_of": "2025-01-16"})
    segs = later[later["level"] == "segment"].set_index("segment")
    seg = frame.loc[row, "segment"]
    assert segs.loc[seg, "booked"] == frame.loc[row, "amount"]
    assert segs.loc["total", "booked"] == frame.loc[row, "amount"]
    assert (segs["q10"] >= segs["booked"]).all()
    p0 = start[start["level"] == "deal"].set_index("opportunity_id")["probability"]
    p1 = later[later["level"] == "deal"].set_index("opportunity_id")["probability"]
    common = p1.index.intersection(p0.index)
    assert p1[common].mean() < p0[common].mean()  # half the month left: fewer wins to come


def test_what_the_export_cannot_tell_is_refused(exported):
    model, raw = exported
    with pytest.raises(ValueError, match="as of 2024-12-31; a forecast as of 2024-12-15"):
        model.predictor.predict(raw, {"as_of": "2024-12-15"})
    with pytest.raises(ValueError, match="backtested on months; a quarter forecast"):
        model.predictor.predict(raw, {"period": "quarter"})
    with pytest.raises(ValueError, match="outside it"):
        model.predictor.predict(raw, {"period": "2025-03"})
    assert model.predictor.predict(raw, {"period": "2025-01"})["period"].eq("2025-01").all()
