"""BG/NBD reproduces the published CDNOW parameters (Fader, Hardie and Lee 2005)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from salesml.errors import DataError
from salesml.lifecycle.bgnbd import BetaGeo
from salesml.lifecycle.summary import Purchases, holdout_counts, summarise

CDNOW = ROOT / "data" / "external" / "cdnow" / "cdnow_transactions.csv"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow() -> Purchases:
    raw = pd.read_csv(CDNOW, dtype={"customer_id": str})
    return Purchases.of(raw, "customer_id", "date", "value", str(CDNOW))


def test_the_calibration_summary_matches_the_paper(cdnow):
    s = summarise(cdnow, "1997-09-30")
    assert len(s) == 2357 and s["frequency"].sum() == 2457
    assert (s["recency"] <= s["T"]).all() and s["T"].max() == pytest.approx(38 + 6 / 7)


def test_bgnbd_reproduces_the_published_parameters_within_one_percent(cdnow):
    model = BetaGeo().fit(summarise(cdnow, "1997-09-30"))
    for name, published in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(published, rel=0.01), name


def test_holdout_purchases_and_who_is_alive(cdnow):
    s = summarise(cdnow, "1997-09-30")
    model = BetaGeo().fit(s)
    predicted = model.expected_purchases(39, s)
    actual = holdout_counts(cdnow, "1997-09-30", "1998-06-30").reindex(s.index, fill_value=0)
    assert predicted.sum() == pytest.approx(1653, rel=0.01)  # actual 1,882: -12 %
    assert actual.sum() == 1882
    assert np.corrcoef(predicted, actual)[0, 1] > 0.6
    alive = model.p_alive(s)
    assert ((alive > 0) & (alive <= 1)).all() and (alive[s["frequency"].to_numpy() == 0] == 1).all()
    # a customer who bought often and long ago is less likely alive than one who just did
    two = pd.DataFrame({"frequency": [5, 5], "recency": [5.0, 30.0], "T": [38.0, 38.0]})
    assert model.p_alive(two)[0] < model.p_alive(two)[1]


def test_bad_summaries_are_refused():
    with pytest.raises(DataError, match="recency beyond T"):
        BetaGeo().fit(pd.DataFrame({"frequency": [1], "recency": [5.0], "T": [3.0]}))
    with pytest.raises(DataError, match="no column"):
        BetaGeo().fit(pd.DataFrame({"frequency": [1]}))
    with pytest.raises(DataError, match="not dates"):
        Purchases.of(pd.DataFrame({"c": [1], "d": ["soon"], "v": [1.0]}), "c", "d", "v", "x.csv")


def test_gamma_gamma_reproduces_the_published_spend_parameters(cdnow):
    """Fader and Hardie's Gamma-Gamma note, weeks 1-39: p 6.25, q 3.74, gamma 15.44."""
    from salesml.lifecycle.spend import GammaGamma

    s = summarise(cdnow, "1997-09-30")
    model = GammaGamma().fit(s)
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert model.params_[name] == pytest.approx(published, rel=0.01), name
    assert abs(model.spend_frequency_corr_) < 0.2  # the model's assumption roughly holds here
    spend = model.expected_spend(s)
    repeat = s["frequency"].to_numpy() > 0
    # shrunk towards the population mean: between a customer's own mean and everyone's
    own = s["monetary"].to_numpy()[repeat]
    population = model.p_ * model.gamma_ / (model.q_ - 1)
    lo, hi = np.minimum(own, population), np.maximum(own, population)
    assert ((spend[repeat] >= lo - 1e-9) & (spend[repeat] <= hi + 1e-9)).all()
    assert spend[~repeat] == pytest.approx(population)
    with pytest.raises(DataError, match="mean value of 0 or less"):
        GammaGamma().fit(s.assign(monetary=np.where(repeat, -1.0, 0.0)))
