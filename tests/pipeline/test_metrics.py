"""Bookings metrics computed by hand on a small frame of predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.experiment.task import Resampling
from salesml.pipeline.forecasts import QCOLS
from salesml.pipeline.metrics import statistic
from salesml.pipeline.view import BookingsView


def _units(forecast: list[float], actual: list[float], half: float = 10.0) -> pd.DataFrame:
    n = len(forecast)
    frame = pd.DataFrame(
        {
            "level": "segment",
            "cutoff": [f"2024-{1 + i // 2:02d}" for i in range(n)],
            "segment": ["a", "b"] * (n // 2),
            "actual": actual,
            "mean": forecast,
        }
    )
    for q, col in zip((-1.645, -1.28, -0.67, 0, 0.67, 1.28, 1.645), QCOLS, strict=True):
        frame[col] = np.asarray(forecast) + q * half / 1.28
    return frame


def test_period_metrics_by_hand():
    f = [100.0, 50.0, 80.0, 20.0]
    y = [110.0, 40.0, 100.0, 20.0]
    p = _units(f, y)
    value = {name: statistic(p, name)[0](None)[0] for name in ("mae", "wape", "bias", "total_mae")}
    assert value["mae"] == pytest.approx((10 + 10 + 20 + 0) / 4)
    assert value["wape"] == pytest.approx(40 / 270)
    assert value["bias"] == pytest.approx((-10 + 10 - 20 + 0) / 270)
    # totals per period: (150 vs 150), (100 vs 120)
    assert value["total_mae"] == pytest.approx((0 + 20) / 2)
    inside = statistic(p, "coverage_80")[0](None)[0]
    assert inside == pytest.approx(3 / 4)  # 100 vs 80 lies outside 80 +/- 10


def test_too_few_units_give_no_interval_and_ten_do():
    view, rs = BookingsView(None), Resampling(bootstrap=200, seed=0, n_jobs=1)
    small = _units([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0])
    assert all(np.isnan(view.metric(small, "mae", rs)[1]))
    rng = np.random.default_rng(0)
    f = rng.gamma(5, 20, 20)
    big = _units(list(f), list(f + rng.normal(0, 10, 20)))
    point, ci = view.metric(big, "mae", rs)
    assert ci[0] < point < ci[1]
    other = big.assign(mean=big["mean"] + 30)
    delta, dci = view.paired(big, other, "mae", rs)
    assert delta < 0 and dci[1] < 0  # 30 further off on every unit
