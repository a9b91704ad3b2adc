"""One refitted model calibrated on out-of-fold probabilities, against the fold average."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import brier_score_loss, log_loss

from salesml.classify.calibration import ProbabilityMap
from salesml.classify.models import CalibratedModel
from salesml.experiment.registry import candidates


def test_the_isotonic_map_never_says_never():
    rng = np.random.default_rng(0)
    p = rng.random(400)
    y = (rng.random(400) < p).astype(int)
    y[np.argsort(p)[:15]] = 0  # the lowest block: negatives only
    y[np.argsort(p)[-15:]] = 1  # the highest: positives only
    m = ProbabilityMap("isotonic").fit(p, y)
    out = m.predict(np.r_[-1.0, p, 2.0])
    assert 0 < out.min() < 0.1 and 0.9 < out.max() < 1  # not 0 and 1
    assert (np.diff(m.predict(np.sort(p))) >= 0).all()  # monotone
    plain = ProbabilityMap("isotonic", prior_rows=0).fit(p, y).predict(p)
    assert plain.min() == 0 and plain.max() == 1  # what the smoothing prevents
    # large blocks barely move: the calibrated mean stays the positive rate
    assert m.predict(p).mean() == pytest.approx(y.mean(), abs=0.01)


def test_the_sigmoid_map_is_platt_scaling_of_the_log_odds():
    rng = np.random.default_rng(1)
    logit = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-2 * logit))).astype(int)
    p = 1 / (1 + np.exp(-logit))  # under-confident by a factor of 2
    m = ProbabilityMap("sigmoid").fit(p, y)
    assert m.coef_ == pytest.approx(2, abs=0.25)
    assert (np.diff(m.predict(np.sort(p))) > 0).all()
    with pytest.raises(ValueError, match="isotonic or sigmoid"):
        ProbabilityMap("beta")


REFIT = [t for t, s in candidates("classification").items() if "refit_calibrated" in s.tags]


@pytest.mark.parametrize("kind", REFIT)
def test_a_refit_calibrated_model_is_as_well_calibrated_as_the_fold_average(kind, leads_small):
    """The ``refit_calibrated`` tag's claim, on 3,000 leads split by time."""
    data = leads_small.sort_values("created_at")
    y = data["converted"].to_numpy()
    X = data.drop(columns=["converted", "lead_id", "last_stage_reached", "job_title"])
    cut = int(len(X) * 0.75)
    spec = candidates("classification")[kind]
    fits = {
        ensemble: CalibratedModel(spec.make(42), seed=42, n_jobs=-1, ensemble=ensemble).fit(
            X.iloc[:cut], y[:cut]
        )
        for ensemble in (True, False)
    }
    p = {k: m.predict_proba(X.iloc[cut:])[:, 1] for k, m in fits.items()}
    yt = y[cut:]
    assert brier_score_loss(yt, p[False]) <= brier_score_loss(yt, p[True]) + 0.002
    assert log_loss(yt, p[False]) <= log_loss(yt, p[True]) + 0.01
    assert p[False].min() > 0 and p[False].max() < 1
    refit = fits[False]
    assert refit.calibrated_ is None and refit.calibrator_ is not None
    raw = refit.uncalibrated_.predict_proba(X.iloc[cut:])[:, 1]
    np.testing.assert_array_equal(p[False], refit.calibrator_.predict(raw))  # one model
    again = clone(refit).fit(X.iloc[:cut], y[:cut]).predict_proba(X.iloc[cut:])[:, 1]
    np.testing.assert_array_equal(again, p[False])  # seeded
