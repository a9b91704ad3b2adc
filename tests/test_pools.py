"""statsforecast's worker processes come from the fork server, not from the test process."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
from statsforecast.models import Naive

from salesml.forecast.models import StatsForecaster
from salesml.runtime.pools import fork_server_pools


class ParentOfWorker(Naive):
    """Naive, remembering the process id of the worker's parent."""

    def fit(self, y, X=None):
        self.parent_ = os.getppid()
        return super().fit(y, X)

    def __repr__(self) -> str:
        return "Naive"


def _weekly(series: int = 6, weeks: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(series)], weeks),
            "ds": np.tile(pd.date_range("2024-01-05", periods=weeks, freq="W-FRI"), series),
            "y": rng.gamma(4.0, 25.0, series * weeks),
        }
    )


def test_the_workers_parent_is_the_fork_server_and_results_do_not_change():
    from statsforecast import StatsForecast

    df = _weekly()
    sf = StatsForecast(models=[ParentOfWorker()], freq="W-FRI", n_jobs=2)
    with fork_server_pools(sf):
        sf.fit(df)
        pooled = sf.predict(h=4)
    parents = {m.parent_ for m in sf.fitted_[:, 0]}
    assert os.getpid() not in parents and len(parents) == 1
    assert "_get_pool" not in vars(sf)  # the exported object is a plain StatsForecast
    pickle.loads(pickle.dumps(sf))
    alone = StatsForecast(models=[Naive()], freq="W-FRI", n_jobs=1).fit(df).predict(h=4)
    pd.testing.assert_frame_equal(pooled, alone)


def test_a_statistical_forecaster_on_two_workers_equals_one():
    df = _weekly(series=5, weeks=60)
    out = [
        StatsForecaster("AutoETS", "W-FRI", 4, n_jobs=jobs).fit(df).predict(6) for jobs in (1, 2)
    ]
    pd.testing.assert_frame_equal(out[0], out[1])
