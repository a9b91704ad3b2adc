"""The bad-input catalogue of ``salesml score``: model URIs, input files, columns and values.

Each case runs the real command line on the real model of a small training
run (the ``trained_leads`` fixture) and must exit with code 2 and one
paragraph naming the file or model, the column and the offending value; the
output file is not written (not even partly) and the input is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import one_paragraph, snapshot
from salesml.cli import app

Case = Callable[[Path, pd.DataFrame, str], tuple[list[str], list[str]]]


def _csv(d: Path, frame: pd.DataFrame, name: str = "in.csv") -> Path:
    frame.to_csv(d / name, index=False)
    return d / name


def _args(model: str, src: Path, d: Path, out: str = "out.csv") -> list[str]:
    return ["-m", model, "-i", str(src), "-o", str(d / out)]


def missing_column(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads.drop(columns=["seniority"]))
    return _args(uri, src, d), ["in.csv", "'seniority'", "required by model", uri]


def text_in_a_number_column(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"web_visits": object})
    frame.loc[3, "web_visits"] = "a dozen"
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'web_visits'", "numeric", "'a dozen'", "data row 4"]


def not_a_boolean(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"demo_requested": object})
    frame.loc[0, "demo_requested"] = "perhaps"
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'demo_requested'", "true/false", "'perhaps'"]


def inf_in_a_number_column(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"hours_to_first_contact": float})
    frame.loc[5, "hours_to_first_contact"] = np.inf  # written as "inf"
    src = _csv(d, frame)
    return _args(uri, src, d), [
        "in.csv",
        "'hours_to_first_contact'",
        "finite",
        "inf in data row 6",
    ]


def minus_inf_in_an_integer_column(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"email_opens": float})  # trained as whole numbers
    frame.loc[0, "email_opens"] = -np.inf
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'email_opens'", "finite", "-inf in data row 1"]


def infinity_as_text(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"web_visits": object})
    frame.loc[7, "web_visits"] = "Infinity"
    src = _csv(d, frame)
    return _args(uri, src, d), [
        "in.csv",
        "'web_visits'",
        "finite",
        "inf in data row 8",
    ]  # read as a number


def inf_in_parquet(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"noise_score": float})
    frame.loc[11, "noise_score"] = np.inf
    frame.to_parquet(d / "in.parquet", index=False)
    args = _args(uri, d / "in.parquet", d, "out.parquet")
    return args, ["in.parquet", "'noise_score'", "finite", "inf in data row 12"]


def inf_after_the_first_chunks(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"hours_to_first_contact": float})
    frame.loc[45, "hours_to_first_contact"] = -np.inf  # chunks of 10 rows: the fifth
    src = _csv(d, frame)
    return [*_args(uri, src, d), "--chunk-size", "10"], [
        "in.csv",
        "'hours_to_first_contact'",
        "-inf in data row 46",
    ]


def number_too_large(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"pricing_page_visits": object})
    frame.loc[2, "pricing_page_visits"] = "1e999"  # overflows a double
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'pricing_page_visits'", "data row 3"]


def not_a_date(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"created_at": object})
    frame.loc[4, "created_at"] = "last tuesday"
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'created_at'", "dates", "'last tuesday' in data row 5"]


def number_in_a_boolean_column(d: Path, leads: pd.DataFrame, uri: str):
    frame = leads.astype({"email_subscribed": object})
    frame.loc[9, "email_subscribed"] = 2
    src = _csv(d, frame)
    return _args(uri, src, d), ["in.csv", "'email_subscribed'", "true/false", "data row 10"]


def required_columns_missing_from_parquet(d: Path, leads: pd.DataFrame, uri: str):
    leads.drop(columns=["web_visits", "need"]).to_parquet(d / "in.parquet", index=False)
    args = _args(uri, d / "in.parquet", d, "out.parquet")
    return args, ["in.parquet", "'need', 'web_visits'", "required by model", uri]


def empty_file(d: Path, leads: pd.DataFrame, uri: str):
    (d / "in.csv").write_bytes(b"")
    return _args(uri, d / "in.csv", d), ["in.csv", "empty"]


def header_only(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads.head(0))
    return _args(uri, src, d), ["in.csv", "no data rows"]


def empty_parquet(d: Path, leads: pd.DataFrame, uri: str):
    leads.head(0).to_parquet(d / "in.parquet", index=False)
    return _args(uri, d / "in.parquet", d, "out.parquet"), ["in.parquet", "no data rows"]


def text_named_parquet(d: Path, leads: pd.DataFrame, uri: str):
    (d / "in.parquet").write_text(leads.to_csv(index=False), encoding="utf-8")
    return _args(uri, d / "in.parquet", d), ["in.parquet", "not a readable Parquet file"]


def parquet_named_csv(d: Path, leads: pd.DataFrame, uri: str):
    leads.to_parquet(d / "in.csv", index=False)
    return _args(uri, d / "in.csv", d), ["in.csv", "binary", "Parquet"]


def bad_byte_after_the_sniffed_sample(d: Path, leads: pd.DataFrame, uri: str):
    text = pd.concat([leads] * 20).to_csv(index=False).encode("utf-8")
    cut = text.index(b"\n", 100_000) + 1
    line = text[:cut].count(b"\n") + 1
    at = text.index(b"e", cut)
    data = text[:at] + b"\x81" + text[at + 1 :]
    (d / "in.csv").write_bytes(data)
    return _args(uri, d / "in.csv", d), ["in.csv", "0x81", f"line {line}", "utf-8"]


def model_folder_missing(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads)
    return _args(str(d / "no_model"), src, d), ["no_model", "cannot be loaded"]


def model_run_missing(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads)
    bad = "runs:/0123456789abcdef0123456789abcdef/model"
    return _args(bad, src, d), [bad, "cannot be loaded"]


def input_missing(d: Path, leads: pd.DataFrame, uri: str):
    return _args(uri, d / "none.csv", d), ["none.csv", "not found"]


def input_is_a_folder(d: Path, leads: pd.DataFrame, uri: str):
    (d / "in.csv").mkdir()
    return _args(uri, d / "in.csv", d), ["in.csv", "a folder"]


def output_overwrites_input(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads)
    return _args(uri, src, d, "in.csv"), ["in.csv", "overwrite the input"]


def output_type_unsupported(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads)
    return _args(uri, src, d, "out.xlsx"), ["out.xlsx", "'.xlsx'"]


def chunk_size_zero(d: Path, leads: pd.DataFrame, uri: str):
    src = _csv(d, leads)
    return [*_args(uri, src, d), "--chunk-size", "0"], ["--chunk-size", "at least 1"]


CASES: dict[str, Case] = {
    f.__name__: f
    for f in (
        missing_column,
        text_in_a_number_column,
        not_a_boolean,
        inf_in_a_number_column,
        minus_inf_in_an_integer_column,
        infinity_as_text,
        inf_in_parquet,
        inf_after_the_first_chunks,
        number_too_large,
        not_a_date,
        number_in_a_boolean_column,
        required_columns_missing_from_parquet,
        empty_file,
        header_only,
        empty_parquet,
        text_named_parquet,
        parquet_named_csv,
        bad_byte_after_the_sniffed_sample,
        model_folder_missing,
        model_run_missing,
        input_missing,
        input_is_a_folder,
        output_overwrites_input,
        output_type_unsupported,
        chunk_size_zero,
    )
}


@pytest.fixture
def leads(trained_leads: dict[str, Any]) -> pd.DataFrame:
    return pd.read_csv(trained_leads["data"]).head(60)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_scoring_input_is_refused_cleanly(
    case: str, trained_leads: dict[str, Any], leads: pd.DataFrame, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    uri = trained_leads["uris"]["logistic"]
    args, fragments = CASES[case](tmp_path, leads, uri)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, ["score", *args])
    err = one_paragraph(result)
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in: {err}"
    after = snapshot(tmp_path)
    assert {k: after.get(k) for k in before} == before, "an input changed"
    new = {k for k in set(after) - set(before) if not k.endswith(".salesml.log")}
    assert new == set(), f"written: {new}"
