"""Categorical and lagged past covariates on ``engine: spark`` (one LightGBM per partition)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from forecast.conftest import SPARK_CONF, SPARK_MASTER


def _frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    from salesml.forecast.covariates import add_lagged
    from salesml.forecast.data import to_long

    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n, freq="D")
    rows = []
    for uid in "ABCDEF":
        code = rng.choice(["0", "a", "b"], n, p=[0.8, 0.1, 0.1])
        sales = 100 + 30 * (code == "a") + rng.normal(0, 2, n)
        temp = rng.normal(20, 5, n)
        rows.append(pd.DataFrame({"s": uid, "d": dates, "y": sales, "hol": code, "temp": temp}))
    df = to_long(pd.concat(rows, ignore_index=True), "s", "d", "y", ["hol", "temp"])
    return add_lagged(df, df, ["temp"], [7], "D")


@pytest.mark.slow
def test_spark_partitions_take_categorical_and_lagged_covariates(spark) -> None:
    from salesml.forecast.global_lgbm import GlobalLightGBM
    from salesml.forecast.spark import SparkEngine
    from salesml.forecast.spark_models import PartitionedLightGBM

    df = _frame()
    train, test = (
        df[df["ds"] < "2022-04-25"],
        df[df["ds"] >= "2022-04-25"].groupby("unique_id").head(7),
    )
    base = GlobalLightGBM(
        "D", 7, ("hol", "temp_lag7"), {"n_estimators": 40, "holidays": None}, partition_series=3
    )
    split = PartitionedLightGBM(base, SparkEngine(SPARK_MASTER, SPARK_CONF, 7, min_series=2))
    split.fit(train)
    assert split.on_spark_ and len(split.models_) == 2
    X = test.assign(hol=test["hol"].astype(str))  # as text, like a scoring file
    fc = split.predict(7, X)
    for part in sorted(split.models_):
        ids = [u for u, p in split.part_of_.items() if p == part]
        alone = copy.deepcopy(base).fit(train[train["unique_id"].isin(ids)])
        want = alone.predict(7, X[X["unique_id"].isin(ids)])
        got = fc[fc["unique_id"].isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, rtol=1e-9, obj=f"partition {part}")
    lifted = fc.merge(test, on=["unique_id", "ds"])
    assert (
        lifted.loc[lifted["hol"] == "a", "yhat"].mean()
        > lifted.loc[lifted["hol"] == "0", "yhat"].mean() + 15
    )
