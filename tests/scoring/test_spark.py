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
