"""``salesml score`` with pandas: columns, ids, tiers, reasons, chunks, schema enforcement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesml.cli import app
from salesml.errors import DataError
from salesml.scoring.batch import score_file

COLUMNS = ["lead_id", "probability", "score", "tier", "reason_1", "reason_2", "reason_3"]


@pytest.fixture
def leads(trained_leads) -> pd.DataFrame:
    return pd.read_csv(trained_leads["data"])


def _score(trained_leads, name: str, src: Path, out: Path, **kw) -> pd.DataFrame:
    score_file(trained_leads["uris"][name], src, out, tracking_uri=trained_leads["store"], **kw)
    return (
        pd.read_parquet(out)
        if out.suffix == ".parquet"
        else pd.read_csv(out, keep_default_na=False)
    )


@pytest.mark.parametrize("name", ["lightgbm", "logistic", "bant", "control_points"])
def test_every_exported_candidate_speaks_sales(trained_leads, leads, tmp_path: Path, name: str):
    src = tmp_path / "in.parquet"
    leads.tail(400).to_parquet(src, index=False)
    out = _score(trained_leads, name, src, tmp_path / "out.parquet")
    assert list(out.columns) == COLUMNS
    assert out["lead_id"].tolist() == leads["lead_id"].tail(400).tolist()
    assert out["probability"].between(0, 1).all()
    assert out["score"].between(0, 100).all()
    assert set(out["tier"]) <= {"A", "B", "C", "D"} and out["tier"].nunique() >= 3
    # higher tiers have higher scores: the cut points are fixed, descending
    med = out.groupby("tier")["score"].median()
    assert list(med.sort_index()) == sorted(med, reverse=True)
    assert (out["reason_1"] != "").mean() > 0.5


def test_reasons_name_the_rows_own_values(trained_leads, leads, tmp_path: Path):
    src = tmp_path / "in.csv"
    leads.head(200).to_csv(src, index=False)
    out = _score(trained_leads, "lightgbm", src, tmp_path / "out.csv")
    rows = leads.head(200).reset_index(drop=True)
    checked = 0
    for i, text in enumerate(out["reason_1"]):
        column, _, rest = text.partition(" = ")
        value = rest.rsplit(" (", 1)[0]
        raw = rows.loc[i, column]
        shown = "missing" if pd.isna(raw) else (f"{raw:g}" if isinstance(raw, float) else str(raw))
        if column != "created_at":  # dates are shown as the day
            assert value == shown, (text, raw)
            checked += 1
        assert text.endswith("log-odds)")
    assert checked > 100


def test_scorecard_reasons_are_the_rules_that_hit(trained_leads, leads, tmp_path: Path):
    src = tmp_path / "in.csv"
    leads.head(300).to_csv(src, index=False)
    out = _score(trained_leads, "bant", src, tmp_path / "out.csv")
    rows = leads.head(300).reset_index(drop=True)
    timeline = out["reason_1"].str.contains("timeline = 0-3 months")
    assert timeline.any()
    assert (rows.loc[timeline, "timeline"] == "0-3 months").all()
    # points: a lead's score is the sum of its rules' points, and its reasons list them
    c_level = rows["seniority"].isin(["c_level", "vp"]) & (rows["timeline"] == "0-3 months")
    assert (out.loc[c_level, "score"] >= 55).all()


def test_chunked_scoring_equals_one_pass_and_ids_pass_through(trained_leads, leads, tmp_path):
    src = tmp_path / "in.csv"
    leads.to_csv(src, index=False)
    whole = _score(trained_leads, "logistic", src, tmp_path / "a.csv")
    chunked = _score(trained_leads, "logistic", src, tmp_path / "b.csv", chunk_size=333)
    pd.testing.assert_frame_equal(whole, chunked)
    assert len(whole) == len(leads)
    no_reasons = _score(trained_leads, "logistic", src, tmp_path / "c.csv", reasons=False)
    np.testing.assert_array_equal(no_reasons["probability"], whole["probability"])
    assert (no_reasons["reason_1"] == "").all()


def test_chunks_scored_two_at_a_time_keep_file_order_and_parquet_equals_csv(
    trained_leads, leads, tmp_path
):
    """Chunks are scored two at a time (one in the trees while the next is in Python);
    the output is in file order and equals one pass, from CSV or from Parquet (whose
    text columns are read as categories)."""
    rows = leads.head(1000)
    csv, parquet = tmp_path / "in.csv", tmp_path / "in.parquet"
    rows.to_csv(csv, index=False)
    rows.to_parquet(parquet, index=False)
    whole = _score(trained_leads, "lightgbm", csv, tmp_path / "a.csv")
    chunked = _score(trained_leads, "lightgbm", parquet, tmp_path / "b.csv", chunk_size=97)
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole["lead_id"].tolist() == rows["lead_id"].tolist()


def test_the_first_bad_chunk_in_file_order_is_the_error(trained_leads, leads, tmp_path: Path):
    rows = leads.head(400).copy()
    rows["web_visits"] = rows["web_visits"].astype(object)
    rows.loc[rows.index[129], "web_visits"] = "early"  # data row 130, in the third chunk
    rows.loc[rows.index[259], "web_visits"] = "late"  # data row 260, in the sixth
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows.to_csv(src, index=False)
    with pytest.raises(DataError, match=r"'early' in data row 130"):
        score_file(
            trained_leads["uris"]["lightgbm"],
            src,
            out,
            chunk_size=50,
            tracking_uri=trained_leads["store"],
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_schema_enforcement(trained_leads, leads, tmp_path: Path):
    rows = leads.head(50).copy()
    rows["extra_column"] = "ignored"
    rows["industry"] = rows["industry"].where(rows.index % 5 != 0, "never seen before")
    rows["web_visits"] = rows["web_visits"].astype(str)  # numbers as text are coerced
    rows.loc[rows.index[:5], "hours_to_first_contact"] = np.nan  # missing values accepted
    rows["demo_requested"] = rows["demo_requested"].map({True: "yes", False: "no"})
    src = tmp_path / "in.csv"
    rows.to_csv(src, index=False)
    out = _score(trained_leads, "lightgbm", src, tmp_path / "out.csv")
    assert len(out) == 50 and out["probability"].notna().all()
    assert "extra_column" not in out.columns


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            lambda f: f.drop(columns=["seniority", "need"]),
            ["'seniority', 'need'", "required by model"],
        ),
        (
            lambda f: f.assign(web_visits=["many"] + f["web_visits"].astype(str).tolist()[1:]),
            ["'web_visits' must be numeric", "'many' in data row 1"],
        ),
        (
            lambda f: f.assign(demo_requested=["maybe"] * len(f)),
            ["'demo_requested' must be true/false", "'maybe'"],
        ),
    ],
    ids=["missing columns", "not a number", "not a boolean"],
)
def test_bad_rows_are_refused_and_nothing_is_written(
    trained_leads, leads, tmp_path: Path, change, fragments
):
    src = tmp_path / "in.csv"
    change(leads.head(30)).to_csv(src, index=False)
    before = src.read_bytes()
    out = tmp_path / "out.csv"
    with pytest.raises(DataError) as info:
        score_file(trained_leads["uris"]["lightgbm"], src, out, tracking_uri=trained_leads["store"])
    for fragment in [str(src), *fragments]:
        assert fragment in str(info.value)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
    assert src.read_bytes() == before


def test_cli_score_and_its_errors(trained_leads, leads, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    src = tmp_path / "in.csv"
    leads.head(100).to_csv(src, index=False)
    uri = trained_leads["uris"]["lightgbm"]
    ok = CliRunner().invoke(
        app, ["score", "-m", uri, "-i", str(src), "-o", str(tmp_path / "o.csv")]
    )
    assert ok.exit_code == 0, ok.output
    assert "scored 100 rows (classifier)" in ok.stdout
    cases = [
        (["-m", "models:/nope@champion", "-i", str(src)], "cannot be loaded"),
        (["-m", uri, "-i", str(tmp_path / "none.csv")], "not found"),
        (["-m", uri, "-i", str(tmp_path)], "a folder, not a file"),
        (["-m", uri, "-i", str(src), "--engine", "dask"], "choose pandas or spark"),
    ]
    for args, fragment in cases:
        result = CliRunner().invoke(app, ["score", *args, "-o", str(tmp_path / "x.csv")])
        assert result.exit_code == 2, result.output
        assert fragment in result.stderr and "Traceback" not in result.output
        assert not (tmp_path / "x.csv").exists()


def test_lightgbm_path_reasons_add_up_to_the_raw_score_and_track_treeshap(trained_leads, leads):
    """Path attribution is exact (contributions + bias = raw log-odds) and close to TreeSHAP."""
    from salesml import feature_frame, load_model

    model = load_model(trained_leads["uris"]["lightgbm"], trained_leads["store"])
    scorer = model.unwrap_python_model().scorer
    X = scorer.prepare(feature_frame(leads.head(500), scorer.features))
    fast, _ = scorer.explainer.contributions(X)
    exact, _ = scorer.explainer.contributions(X, exact=True)
    pipe = scorer.explainer.model
    raw = pipe.steps[-1][1].predict(pipe[:-1].transform(X), raw_score=True)
    bias = raw - fast.sum(axis=1)
    assert np.ptp(bias) < 1e-9  # the same bias for every row: contributions are exact
    assert np.ptp(fast.sum(axis=1) - exact.sum(axis=1)) < 1e-9  # they differ by the bias only
    assert np.corrcoef(fast.ravel(), exact.ravel())[0, 1] > 0.9
    # TreeSHAP's leading driver is nearly always among the three reasons shown
    top3 = np.argsort(-np.abs(fast), axis=1)[:, :3]
    lead = np.abs(exact).argmax(axis=1)
    share = (top3 == lead[:, None]).any(axis=1).mean()
    print(f"TreeSHAP's top driver among the path reasons: {share:.1%}")
    assert share > 0.85
