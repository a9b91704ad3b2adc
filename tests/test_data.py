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
    y = telco.frame["Churn"].eq("Yes")
    assert set(telco.frame["Churn"]) == {"Yes", "No"}
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


# --- headers, nested Parquet columns (salesml.io.columns) ---------------------------------


def test_a_repeated_header_is_refused_naming_both_columns(tmp_path: Path):
    path = tmp_path / "dup.csv"
    path.write_text("id,src,amount,src\n1,web,3,event\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_frame(path)
    message = str(err.value)
    assert message.startswith(f"{path}: the header names column 'src' twice, in columns 2 and 4")
    assert "'src.1'" in message


def test_a_header_repeated_three_times_lists_every_column(tmp_path: Path):
    path = tmp_path / "dup.csv"
    path.write_text("a;b;a;a\n1;2;3;4\n", encoding="utf-8")
    with pytest.raises(DataError, match="column 'a' twice, in columns 1, 3, 4"):
        read_frame(path)


def test_a_genuine_dot_one_name_is_not_a_duplicate(tmp_path: Path):
    path = tmp_path / "ok.csv"
    path.write_text("src,src.1\nweb,event\n", encoding="utf-8")
    assert list(read_frame(path).columns) == ["src", "src.1"]


def test_repeated_headers_in_excel_and_parquet_are_refused(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id", "amount", "amount"])
    book.active.append([1, 2, 3])
    book.save(tmp_path / "dup.xlsx")
    with pytest.raises(DataError, match="'amount' twice, in columns 2 and 3"):
        read_frame(tmp_path / "dup.xlsx")
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match="'x' twice, in columns 1 and 2"):
        read_frame(tmp_path / "dup.parquet")


@pytest.mark.parametrize(
    ("values", "type_text"),
    [
        ([["a", "b"], ["c"]], "list<element: string>"),
        ([{"k": 1}, {"k": 2}], "struct<k: int64>"),
        ([[("a", 1)], [("b", 2)]], "map<string, int64"),
    ],
    ids=["list", "struct", "map"],
)
def test_nested_parquet_columns_are_refused(tmp_path: Path, values, type_text: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    kind = pa.map_(pa.string(), pa.int64()) if "map" in type_text else None
    table = pa.table({"id": [1, 2], "tags": pa.array(values, type=kind)})
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    with pytest.raises(DataError) as err:
        load_table(path)
    assert str(err.value).startswith(
        f"{path}: column 'tags' (column 2) holds nested values of type {type_text}"
    )
    assert read_frame(path, columns=["id"])["id"].tolist() == [1, 2]  # not asked for: fine


def test_a_corrupt_parquet_file_is_refused_once(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(DataError) as err:
        read_frame(path)
    assert str(err.value).count(str(path)) == 1 and "cannot be parsed" in str(err.value)


# --- UTC offsets and daylight saving (salesml.io.timestamps) ------------------------------

DST = ["2024-03-30T10:00:00+01:00", "2024-03-31T10:00:00+02:00", "2024-03-31T17:30:00+02:00"]


def test_mixed_offsets_are_converted_to_utc_without_a_warning(tmp_path: Path):
    import warnings

    path = tmp_path / "leads.csv"
    pd.DataFrame({"id": [1, 2, 3], "created_at": DST}).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = load_table(path)
    assert table.frame["created_at"].tolist() == [
        pd.Timestamp("2024-03-30 09:00"),
        pd.Timestamp("2024-03-31 08:00"),
        pd.Timestamp("2024-03-31 15:30"),
    ]
    assert table.schema.notes["created_at"] == (
        "dates with UTC offsets (+01:00, +02:00), converted to UTC"
    )


@pytest.mark.parametrize(
    ("values", "expected", "note"),
    [
        (["2024-03-30T00:00:00+01:00", "2024-03-31T00:00:00+02:00", "2024-04-01T00:00:00+0200"],
         ["2024-03-30", "2024-03-31", "2024-04-01"], "kept as local calendar dates"),
        (["2024-03-30 09:00+01:00", "2024-03-31 09:00+02:00"], ["2024-03-30 09:00",
         "2024-03-31 09:00"], "all at 09:00 local time, kept as local dates and times"),
        (["2024-03-30T10:00:00Z", "2024-03-31T10:15:00+02:00"], ["2024-03-30 10:00",
         "2024-03-31 08:15"], "(Z, +02:00), converted to UTC"),
        (["2024-03-30T23:30:00-05:00", None, "2024-03-31T01:00:00-04:00"],
         ["2024-03-31 04:30", None, "2024-03-31 05:00"], "converted to UTC"),
    ],
    ids=["midnight", "same-time", "zulu", "american-with-blank"],
)  # fmt: skip
def test_offsets_are_read_in_one_zone(values, expected, note: str):
    from salesml.io.timestamps import parse_dates

    dates, said = parse_dates(pd.Series(values), "ISO8601", "f.csv", "ts")
    assert dates.tolist() == [pd.Timestamp(v) if v else pd.NaT for v in expected]
    assert note in said


def test_dates_with_and_without_offsets_are_refused(tmp_path: Path):
    path = tmp_path / "leads.csv"
    values = [*DST, "2024-04-01T10:00:00"]
    pd.DataFrame({"id": range(4), "created_at": values}).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load_table(path)
    assert str(err.value).startswith(
        f"{path}: column 'created_at' mixes dates with a UTC offset "
        "('2024-03-30T10:00:00+01:00' in data row 1) and dates without one "
        "('2024-04-01T10:00:00' in data row 4)"
    )


def test_dates_without_offsets_are_read_as_before():
    from salesml.io.timestamps import parse_dates

    dates, note = parse_dates(pd.Series(["2024-03-30", "x"]), "ISO8601")
    assert note is None and dates.tolist() == [pd.Timestamp("2024-03-30"), pd.NaT]


def test_time_zone_aware_columns_become_naive():
    from salesml.io.timestamps import naive

    days = pd.Series(pd.date_range("2024-03-29", periods=4, freq="D", tz="Europe/Berlin"))
    assert naive(days).tolist() == list(pd.date_range("2024-03-29", periods=4, freq="D"))
    events = pd.Series(pd.to_datetime(["2024-03-30 10:00", "2024-03-31 11:00"]).tz_localize(
        "Europe/Berlin"))  # fmt: skip
    assert naive(events).tolist() == [pd.Timestamp("2024-03-30 09:00"),
                                      pd.Timestamp("2024-03-31 09:00")]  # fmt: skip


def test_forecast_dates_keep_their_grid_across_a_daylight_saving_change():
    from salesml.forecast.data import regularize, to_long

    days = pd.date_range("2024-03-25", periods=14, freq="D", tz="Europe/Berlin")
    text = days.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)
    frame = pd.DataFrame({"id": "a", "ds": text, "y": np.arange(14.0)})
    long = to_long(frame, "id", "ds", "y", where="sales.csv")
    assert long["ds"].tolist() == list(pd.date_range("2024-03-25", periods=14, freq="D"))
    _, freq, gaps = regularize(long, where="sales.csv")
    assert freq == "D" and gaps == {}


def test_forecast_refuses_dates_with_and_without_offsets():
    from salesml.forecast.data import to_long

    frame = pd.DataFrame({"id": "a", "ds": ["2024-03-30T00:00+01:00", "2024-03-31"], "y": 1.0})
    with pytest.raises(DataError, match="sales.csv: column 'ds' mixes dates with a UTC offset"):
        to_long(frame, "id", "ds", "y", where="sales.csv")


def test_the_funnel_reads_formatted_amounts(tmp_path: Path):
    from salesml.funnel.source import detect_spec
    from salesml.synthetic import generate

    deals = generate("opportunities", 200, 3)
    formatted = deals.assign(amount=deals["amount"].map(lambda v: f"${v:,.2f}"))
    formatted.to_csv(tmp_path / "opps.csv", index=False)
    frame = load_table(tmp_path / "opps.csv").frame
    assert frame["amount"].tolist() == pytest.approx(deals["amount"].tolist(), abs=0.005)
    assert detect_spec(frame, "opps.csv").amount == "amount"


def test_blank_header_cells_are_not_duplicates(tmp_path: Path):
    path = tmp_path / "excel_export.csv"
    path.write_text("id,amount,,\n1,2,,\n3,4,,\n", encoding="utf-8")
    assert read_frame(path)["amount"].tolist() == [2, 4]


def test_a_blank_id_is_refused_naming_the_rows():
    frame = pd.DataFrame({"id": ["a", "", "c", None, "e"], "v": range(5)})
    with pytest.raises(DataError) as info:
        check_unique_ids(frame, ["id"], "f.csv")
    message = str(info.value)
    assert "f.csv" in message and "'id'" in message and "2 row(s)" in message
    assert "data row 2, 4" in message


def _numeric_like_by_row(values: pd.Series) -> pd.Series | None:
    """The row-by-row reading of numeric-like text that io.schema does by distinct value."""
    from salesml.io.schema import NUMBER

    stripped = values.astype(str).str.strip()
    blank = stripped.eq("") | values.isna()
    is_number = stripped.str.fullmatch(NUMBER)
    if blank.all() or is_number[~blank].mean() < 0.98:
        return None
    if stripped[~blank].str.match(r"[+-]?0\d").any():
        return None
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[is_number] = stripped[is_number].astype(float)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_numbers_read_by_distinct_value_equal_reading_every_row(seed: int):
    rng = np.random.default_rng(seed)
    pool = ["12.5", " 7 ", "-3", "1e3", "", " ", None, np.nan, 4, 2.5, "0.5", "+8", ".25"]
    pool += ["x", "007", "n/a"][: seed % 4]  # text, a leading zero, a word: some refused
    n = int(rng.integers(1, 400))
    values = pd.Series(rng.choice(np.asarray(pool, dtype=object), n), index=rng.permutation(n) + 5)
    if seed % 3 == 0:
        values = values.astype("category") if values.notna().any() else values
    from salesml.io.schema import _numeric_like

    got, expected = _numeric_like(values), _numeric_like_by_row(values)
    assert (expected is not None) == (seed % 4 == 0)  # numbers unless a text value is mixed in
    if expected is None:
        assert got is None
    else:
        pd.testing.assert_series_equal(got, expected)


@pytest.mark.parametrize("text_share", [0.0, 0.005, 0.03])
def test_many_distinct_values_read_in_parts_as_every_row(text_share: float):
    """Columns with more distinct values than one part (ids, amounts) read as row by row."""
    from salesml.io.schema import _numeric_like

    rng = np.random.default_rng(5)
    n = 70_000
    values = pd.Series(np.round(rng.gamma(2, 500, n), 2).astype(str), dtype=object)
    values[rng.random(n) < text_share] = "n/a"
    values[rng.random(n) < 0.01] = None
    got, expected = _numeric_like(values), _numeric_like_by_row(values)
    assert (expected is None) == (text_share > 0.02)
    if expected is None:
        assert got is None
    else:
        pd.testing.assert_series_equal(got, expected)
