"""Tests for salesml.io.data: kind inference, read-only loading, atomic writes, target checks."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, TELCO
from salesml.errors import DataError
from salesml.io.data import (
    binary_target,
    check_unique_ids,
    file_sha256,
    load_table,
    read_frame,
    require_columns,
    write_frame,
)
from salesml.io.schema import KINDS

EXTERNAL = ROOT / "data" / "external"
N = 40
BLANK_TOTALS = (3, 17)  # rows whose "total_charges" is a blank, as in Telco's TotalCharges

EXPECTED_KINDS = {
    "amount": "numeric",
    "region": "categorical",
    "created_at": "datetime",
    "active": "boolean",
    "flag": "boolean",
    "code": "id",
    "note": "text",
    "total_charges": "numeric",
}


def _rows() -> list[dict[str, str]]:
    regions = ("north", "south", "east")
    rows = []
    for i in range(N):
        rows.append(
            {
                "amount": f"{10 + i * 2.5:.2f}",
                "region": regions[i % 3],
                "created_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T08:{i:02d}:00",
                "active": "yes" if i % 3 else "no",
                "flag": str(i % 2),
                "code": f"CUST-{i:05d}",
                "note": f"Customer {i} asked about the annual plan and a discount for {i + 2} seats",
                "total_charges": " " if i in BLANK_TOTALS else f"{i * 30.25:.2f}",
                "eu_date": f"{1 + i % 28:02d}-{1 + i % 12:02d}-2023",
            }
        )
    return rows


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    """A hand-made CSV with one column of every kind (plus a dd-mm-YYYY date)."""
    path = tmp_path / "mixed.csv"
    rows = _rows()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- kind inference ---------------------------------------------------------------------


def test_kinds_are_inferred(mixed_csv: Path):
    table = load_table(mixed_csv)
    kinds = table.schema.to_dict()
    assert {k: kinds[k] for k in EXPECTED_KINDS} == EXPECTED_KINDS
    # Without date_format, dd-mm-YYYY is recognised day first, and the schema says so.
    assert kinds["eu_date"] == "datetime"
    assert table.schema.notes["eu_date"] == "dates %d-%m-%Y"
    assert table.frame["eu_date"].iloc[12] == pd.Timestamp(2023, 1, 13)
    assert set(kinds.values()) <= set(KINDS)
    assert list(kinds) == list(_rows()[0])  # file order
    assert table.rows == N


def test_values_are_converted(mixed_csv: Path):
    rows = _rows()
    frame = load_table(mixed_csv).frame
    total = frame["total_charges"]
    assert pd.api.types.is_float_dtype(total)
    assert sorted(np.flatnonzero(total.isna())) == list(BLANK_TOTALS)
    expected = [
        np.nan if i in BLANK_TOTALS else float(r["total_charges"]) for i, r in enumerate(rows)
    ]
    np.testing.assert_array_equal(total.to_numpy(), np.array(expected))
    assert pd.api.types.is_datetime64_any_dtype(frame["created_at"])
    assert frame["created_at"].iloc[5] == pd.Timestamp(
        datetime.fromisoformat(rows[5]["created_at"])
    )
    assert frame["amount"].tolist() == [float(r["amount"]) for r in rows]


def test_custom_date_format(mixed_csv: Path):
    rows = _rows()
    table = load_table(mixed_csv, date_format="%d-%m-%Y")
    assert table.schema.kind("eu_date") == "datetime"
    # Day first: row 12 is "13-01-2023", which only parses as 13 January.
    assert rows[12]["eu_date"] == "13-01-2023"
    assert table.frame["eu_date"].iloc[12] == pd.Timestamp(2023, 1, 13)
    parsed = [datetime.strptime(r["eu_date"], "%d-%m-%Y") for r in rows]
    assert table.frame["eu_date"].tolist() == [pd.Timestamp(d) for d in parsed]
    # date_format is for the non-ISO columns: ISO dates are still dates.
    assert table.schema.kind("created_at") == "datetime"
    assert table.schema.kind("amount") == "numeric"


def test_printable_schema_lists_every_column_with_its_kind(mixed_csv: Path):
    table = load_table(mixed_csv)
    text = str(table.schema)
    lines = text.splitlines()
    assert len(lines) == 1 + len(table.frame.columns)
    assert lines[0].split()[:2] == ["column", "kind"]
    for line, name in zip(lines[1:], table.frame.columns, strict=True):
        assert line.split()[:2] == [name, table.schema.kind(name)]
    assert table.schema.names("numeric") == ["amount", "total_charges"]
    with pytest.raises(KeyError):
        table.schema.kind("nope")


def test_sha256_is_the_file_hash(mixed_csv: Path):
    expected = hashlib.sha256(mixed_csv.read_bytes()).hexdigest()
    assert load_table(mixed_csv).sha256 == expected
    assert file_sha256(mixed_csv) == expected


def test_loading_never_modifies_the_file(mixed_csv: Path):
    old = 1_600_000_000
    os.utime(mixed_csv, (old, old))
    before_bytes, before_stat = mixed_csv.read_bytes(), mixed_csv.stat()
    before_files = sorted(mixed_csv.parent.iterdir())
    table = load_table(mixed_csv, date_format="%d-%m-%Y")
    table.frame.iloc[0, 0] = -1.0  # mutating the frame does not reach the file
    assert mixed_csv.read_bytes() == before_bytes
    after = mixed_csv.stat()
    assert after.st_mtime_ns == before_stat.st_mtime_ns
    assert after.st_size == before_stat.st_size
    assert sorted(mixed_csv.parent.iterdir()) == before_files


def test_hex_hash_ids_do_not_crash_the_interpreter(tmp_path: Path):
    """pandas < 3 segfaults parsing '<digits>e<huge exponent>' (GH 62617/63650); a hex id
    like Olist's '401013266745e5661589292315434968' must stay an id. Run in a subprocess
    so a crash fails this test instead of killing the session."""
    path = tmp_path / "hashes.csv"
    rng = np.random.default_rng(0)
    ids = ["".join(rng.choice(list("0123456789abcdef"), 32)) for _ in range(30)]
    ids[5] = "401013266745e5661589292315434968"
    ids[9] = "8e2569614270f3d8b9e7038efac9f116"
    pd.DataFrame({"mql_id": ids, "score": range(30)}).to_csv(path, index=False)
    code = (
        "import sys; from salesml.io.data import load_table; "
        "print(load_table(sys.argv[1]).schema.kind('mql_id'))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    assert proc.stdout.strip() == "id"


def test_numbers_before_a_huge_exponent_do_not_crash_the_csv_reader(tmp_path: Path):
    """pandas' own CSV parser crashes when numbers precede '<digits>e<huge>' in a column."""
    path = tmp_path / "risky.csv"
    path.write_text("a,b\n1,x\n401013266745e5661589292315434968,y\n2.5,z\n")
    code = (
        "import sys; from salesml.io.data import read_frame; f = read_frame(sys.argv[1]); "
        "print(f['a'].tolist(), f['b'].tolist())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    assert proc.stdout.strip() == "['1', '401013266745e5661589292315434968', '2.5'] ['x', 'y', 'z']"


def test_the_safe_csv_path_types_columns_like_pandas(tmp_path: Path):
    path = tmp_path / "typed.csv"
    path.write_text(
        "i,f,flag,text,empty,risky\n1,1.5,True,a,,9e99999\n2,,False,b,,x\n3,2e3,True,,,y\n"
    )
    frame = read_frame(path)
    assert frame["i"].dtype == np.int64
    assert frame["f"].dtype == float and np.isnan(frame["f"][1]) and frame["f"][2] == 2000.0
    assert frame["flag"].dtype == bool
    assert frame["empty"].isna().all()
    assert frame["text"].tolist()[:2] == ["a", "b"] and pd.isna(frame["text"][2])


# --- writing ----------------------------------------------------------------------------


def test_parquet_round_trip(mixed_csv: Path, tmp_path: Path):
    table = load_table(mixed_csv, date_format="%d-%m-%Y")
    out = write_frame(table.frame, tmp_path / "out" / "mixed.parquet")
    assert out == tmp_path / "out" / "mixed.parquet"
    again = load_table(out)
    pd.testing.assert_frame_equal(again.frame, table.frame)
    assert again.schema.to_dict() == table.schema.to_dict()
    assert again.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()


def test_csv_write_and_overwrite(tmp_path: Path):
    path = tmp_path / "f.csv"
    write_frame(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}), path)
    write_frame(pd.DataFrame({"a": [3], "c": [0.5]}), path)
    assert path.read_text(encoding="utf-8").splitlines() == ["a,c", "3,0.5"]


@pytest.mark.parametrize("name", ["f.csv", "f.parquet"])
def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path, name: str):
    folder = tmp_path / "new" / "folder"
    write_frame(pd.DataFrame({"a": range(5)}), folder / name)
    assert [p.name for p in folder.iterdir()] == [name]


@pytest.mark.parametrize("name", ["f.csv", "f.parquet"])
def test_written_file_has_the_usual_permissions(tmp_path: Path, name: str):
    """Like any file the user creates (umask-based), not the 0600 of a temp file."""
    reference = tmp_path / "reference.txt"
    reference.write_text("x")
    path = write_frame(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert path.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


@pytest.mark.parametrize("name", ["f.txt", "f.xlsx", "f"])
def test_write_unsupported_suffix(tmp_path: Path, name: str):
    with pytest.raises(DataError, match=re.escape(str(tmp_path / name))):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_write_where_the_folder_is_a_file(tmp_path: Path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(DataError, match="cannot write"):
        write_frame(pd.DataFrame({"a": [1]}), blocker / "f.csv")
    assert blocker.read_text() == "x"


def test_failing_write_keeps_the_old_file(tmp_path: Path):
    import pyarrow as pa

    path = tmp_path / "keep.parquet"
    write_frame(pd.DataFrame({"a": [1, 2, 3]}), path)
    before = path.read_bytes()
    mixed = pd.DataFrame({"a": [1, "two", 3.0]})  # object column parquet cannot store
    with pytest.raises(pa.ArrowException):
        write_frame(mixed, path)
    assert path.read_bytes() == before
    assert read_frame(path)["a"].tolist() == [1, 2, 3]
    assert [p.name for p in tmp_path.iterdir()] == ["keep.parquet"]


# --- read errors ------------------------------------------------------------------------


def _data_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_table(path)
    message = str(info.value)
    assert message.count(str(path)) == 1, message
    return message.replace(str(path), "<file>")


def test_missing_file(tmp_path: Path):
    assert "not found" in _data_error(tmp_path / "nope.csv")


def test_directory_is_not_a_data_file(tmp_path: Path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert "is a folder, not a data file" in _data_error(folder)


@pytest.mark.parametrize("name", ["data.txt", "data.xls", "data.json"])
def test_unsupported_suffix(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text("a,b\n1,2\n")
    message = _data_error(path)
    assert "unsupported" in message and Path(name).suffix in message


@pytest.mark.parametrize(
    ("name", "content"), [("e.csv", b""), ("e.csv", b"\n\n\n"), ("e.parquet", b"")]
)
def test_empty_file(tmp_path: Path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    _data_error(path)


def test_header_only_file(tmp_path: Path):
    path = tmp_path / "h.csv"
    path.write_text("id,plan,churned\n")
    assert "no data rows" in _data_error(path)


def test_uppercase_suffix_is_read(tmp_path: Path):
    path = tmp_path / "UPPER.CSV"
    path.write_text("a,b\n1,x\n2,y\n")
    assert load_table(path).frame["a"].tolist() == [1, 2]


# --- targets, ids, columns --------------------------------------------------------------


def test_binary_target_yes_no_with_positive():
    values = pd.Series(["yes", "no", "no", "yes", "no"], name="churned", index=[10, 11, 12, 13, 14])
    y = binary_target(values, "yes", "f.csv")
    assert y.tolist() == [1, 0, 0, 1, 0]
    assert y.name == "churned"
    assert y.index.tolist() == [10, 11, 12, 13, 14]


@pytest.mark.parametrize(
    "values",
    [[0, 1, 1, 0], [0.0, 1.0, 1.0, 0.0], [False, True, True, False]],
    ids=["int", "float", "bool"],
)
def test_binary_target_zero_one_without_positive(values):
    assert binary_target(pd.Series(values, name="y"), None, "f.csv").tolist() == [0, 1, 1, 0]


def test_binary_target_positive_zero_flips_the_classes():
    assert binary_target(pd.Series([0, 1, 1], name="y"), 0, "f.csv").tolist() == [1, 0, 0]


def test_binary_target_positive_as_text_matches_numbers():
    """A quoted ``positive: "1"`` in YAML must still match an integer column."""
    assert binary_target(pd.Series([1, 0, 1], name="y"), "1", "f.csv").tolist() == [1, 0, 1]


def _target_error(values: list, positive: object) -> str:
    with pytest.raises(DataError) as info:
        binary_target(pd.Series(values, name="Churn"), positive, "where.csv")
    message = str(info.value)
    assert "where.csv" in message and "'Churn'" in message
    return message


def test_binary_target_three_values():
    message = _target_error(["Yes", "No", "Maybe", "No"], "Yes")
    assert "3 distinct" in message and "'Maybe'" in message and "binary" in message


def test_binary_target_positive_never_occurs():
    message = _target_error(["Yes", "No", "No"], "yes")
    assert "'yes'" in message and "never occurs" in message and "Yes" in message


def test_binary_target_text_without_positive_asks_for_it():
    assert "data.positive" in _target_error(["Yes", "No"], None)


def test_binary_target_missing_values():
    message = _target_error(["Yes", None, "No", np.nan], "Yes")
    assert "2 missing" in message


def test_check_unique_ids():
    frame = pd.DataFrame({"id": ["a", "b", "c", "b"], "shop": [1, 1, 2, 2], "v": range(4)})
    check_unique_ids(frame.iloc[:3], ["id"], "f.csv")
    check_unique_ids(frame, ["id", "shop"], "f.csv")  # (b, 1) and (b, 2) differ
    with pytest.raises(DataError) as info:
        check_unique_ids(frame, ["id"], "f.csv")
    message = str(info.value)
    assert "f.csv" in message and "id" in message and "'b'" in message and "2 rows" in message
    with pytest.raises(DataError, match="id, shop"):
        check_unique_ids(pd.concat([frame, frame.iloc[[0]]]), ["id", "shop"], "f.csv")


def test_require_columns():
    frame = pd.DataFrame({"id": [1], "plan": ["x"]})
    require_columns(frame, ["id", "plan"], "f.csv", "feature")
    with pytest.raises(DataError) as info:
        require_columns(frame, ["plan", "Churn", "tenure"], "f.csv", "target")
    message = str(info.value)
    assert "f.csv" in message and "target" in message
    assert "'Churn'" in message and "'tenure'" in message and "'plan'" not in message
    assert "id, plan" in message  # what is available


# --- the shipped real data --------------------------------------------------------------


@pytest.fixture(scope="module")
def telco():
    return load_table(TELCO)


def test_telco_schema(telco):
    assert telco.rows == 7043
    kinds = telco.schema
    assert kinds.kind("customerID") == "id"
    assert kinds.kind("tenure") == "numeric"
    assert kinds.kind("Churn") == "boolean"
    assert kinds.kind("TotalCharges") == "numeric"
    assert int(telco.frame["TotalCharges"].isna().sum()) == 11
    # The blanks are exactly the tenure-0 customers (SOURCE.md).
    blank = telco.frame["TotalCharges"].isna()
    assert (telco.frame.loc[blank, "tenure"] == 0).all()


def test_telco_positive_rate_matches_source_md(telco):
    text = (TELCO.parent / "SOURCE.md").read_text(encoding="utf-8")
    positives, total = map(int, re.search(r"has (\d+) of (\d+) rows", text).groups())
    y = binary_target(telco.frame["Churn"], "Yes", str(TELCO))
    assert (int(y.sum()), len(y)) == (positives, total)


def _source_rows() -> list[tuple[Path, int, str, int, int]]:
    """(file, bytes, sha256, data rows, columns) from every data/external/*/SOURCE.md table."""
    pattern = re.compile(
        r"^\|\s*([^|\s]+)\s*\|\s*(\d+)\s*\|\s*`([0-9a-f]{64})`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|",
        re.MULTILINE,
    )
    rows = []
    for source in sorted(EXTERNAL.glob("*/SOURCE.md")):
        found = pattern.findall(source.read_text(encoding="utf-8"))
        assert found, f"no file table in {source}"
        for name, size, sha, n_rows, n_cols in found:
            rows.append((source.parent / name, int(size), sha, int(n_rows), int(n_cols)))
    return rows


SOURCE_ROWS = _source_rows()


def test_every_external_dataset_has_a_recorded_hash():
    names = {p.name for p, *_ in SOURCE_ROWS}
    assert {
        "WA_Fn-UseC_-Telco-Customer-Churn.csv",
        "olist_marketing_qualified_leads_dataset.csv",
        "olist_closed_deals_dataset.csv",
        "Walmart_Store_sales.csv",
    } <= names


@pytest.mark.parametrize(
    ("path", "size", "sha", "n_rows", "n_cols"), SOURCE_ROWS, ids=[p.name for p, *_ in SOURCE_ROWS]
)
def test_external_file_matches_source_md(path: Path, size: int, sha: str, n_rows: int, n_cols: int):
    assert path.stat().st_size == size
    assert file_sha256(path) == sha
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert read_frame(path).shape == (n_rows, n_cols)


def test_olist_and_walmart_load_with_sensible_kinds():
    """In a subprocess: the Olist ids once crashed pandas (see the hex-hash test)."""
    code = """
import json, sys
from salesml.io.data import load_table
root = sys.argv[1]
mql = load_table(root + "/olist_funnel/olist_marketing_qualified_leads_dataset.csv")
walmart = load_table(root + "/walmart_sales/Walmart_Store_sales.csv", date_format="%d-%m-%Y")
print(json.dumps({"mql": mql.schema.to_dict(), "walmart": walmart.schema.to_dict(),
                  "first": str(walmart.frame["Date"].min().date()),
                  "last": str(walmart.frame["Date"].max().date())}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code, str(EXTERNAL)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    import json

    got = json.loads(proc.stdout)
    assert got["mql"]["mql_id"] == "id"
    assert got["mql"]["first_contact_date"] == "datetime"
    assert got["walmart"]["Date"] == "datetime"
    assert got["walmart"]["Weekly_Sales"] == "numeric"
    assert got["walmart"]["Holiday_Flag"] == "boolean"
    # SOURCE.md: 2010-02-05 to 2012-10-26 (dd-mm-YYYY read day first).
    assert (got["first"], got["last"]) == ("2010-02-05", "2012-10-26")
