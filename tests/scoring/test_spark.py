"""``salesml score --engine spark`` on a local Spark session equals the pandas path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="salesml[spark] is installed by make test")

from salesml.errors import DataError  # noqa: E402
from salesml.scoring.batch import score_file  # noqa: E402
from salesml.scoring.spark import score_file_spark  # noqa: E402
from salesml.synthetic import generate_leads  # noqa: E402


@pytest.mark.slow
def test_spark_scores_equal_pandas_on_100k_rows(trained_leads, tmp_path: Path):
    rows = generate_leads(100_000, seed=21)
    src = tmp_path / "leads.parquet"
    rows.to_parquet(src, index=False)
    uri, store = trained_leads["uris"]["lightgbm"], trained_leads["store"]
    pandas_out, spark_out = tmp_path / "pandas.parquet", tmp_path / "spark.parquet"
    score_file(uri, src, pandas_out, tracking_uri=store)
    report = score_file_spark(uri, src, spark_out, tracking_uri=store, master="local[2]")
    assert report.rows == 100_000
    a = pd.read_parquet(pandas_out)
    b = pd.read_parquet(spark_out).set_index("lead_id").loc[a["lead_id"]].reset_index()
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_series_equal(a["probability"], b["probability"], rtol=1e-12)
    for col in ("lead_id", "score", "tier", "reason_1", "reason_2", "reason_3"):
        assert (a[col].fillna("") == b[col].fillna("")).all(), col


@pytest.mark.slow
def test_spark_refuses_missing_columns(trained_leads, tmp_path: Path):
    src = tmp_path / "leads.csv"
    generate_leads(50, seed=2).drop(columns=["seniority"]).to_csv(src, index=False)
    with pytest.raises(DataError, match="'seniority' required by model"):
        score_file_spark(
            trained_leads["uris"]["logistic"],
            src,
            tmp_path / "out.csv",
            tracking_uri=trained_leads["store"],
            master="local[1]",
        )
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.slow
def test_spark_refuses_non_finite_numbers_naming_column_value_and_row(
    trained_leads, tmp_path: Path
):
    src = tmp_path / "leads.csv"
    rows = generate_leads(40, seed=5).astype({"web_visits": object})
    rows.loc[17, "web_visits"] = "Infinity"
    rows.to_csv(src, index=False)
    with pytest.raises(DataError) as info:
        score_file_spark(
            trained_leads["uris"]["logistic"],
            src,
            tmp_path / "out.csv",
            tracking_uri=trained_leads["store"],
            master="local[1]",
        )
    message = str(info.value)
    assert "'web_visits' must hold finite numbers" in message and "'Infinity'" in message
    assert f"lead_id={rows.loc[17, 'lead_id']!r}" in message
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.slow
def test_mlflow_spark_udf_takes_a_frame_read_from_csv(trained_leads):
    """``mlflow.pyfunc.spark_udf`` on rows as ``pd.read_csv`` gives them: bigint, text dates."""
    import mlflow
    from pyspark.sql import functions as F

    from salesml.runtime.spark import spark_session

    uri, store = trained_leads["uris"]["lightgbm"], trained_leads["store"]
    raw = pd.read_csv(trained_leads["data"]).head(300)
    features = trained_leads["summary"].data.features
    spark = spark_session("local[1]")
    df = spark.createDataFrame(raw[["lead_id", *features]])
    assert dict(df.dtypes)["email_opens"] == "bigint" and dict(df.dtypes)["created_at"] == "string"
    mlflow.set_tracking_uri(store)
    udf = mlflow.pyfunc.spark_udf(
        spark, uri, result_type="struct<probability double, tier string>", env_manager="local"
    )
    scored = df.withColumn("s", udf(F.struct(*[F.col(f"`{c}`") for c in features])))
    got = scored.select("lead_id", "s.probability", "s.tier").toPandas().set_index("lead_id")
    want = mlflow.pyfunc.load_model(uri).predict(raw, params={"reasons": False})
    want.index = raw["lead_id"]
    pd.testing.assert_series_equal(
        got.loc[want.index, "probability"], want["probability"], check_names=False, rtol=1e-12
    )
    assert (got.loc[want.index, "tier"] == want["tier"]).all()
