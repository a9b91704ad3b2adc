"""The odd-format catalogue: numbers, headers and dates as people write them (issue 19).

Every case goes through the real command line (in-process): ``run``, ``data
inspect``, ``funnel`` and ``score`` (a forecast model's input is read by the
same reader). Refused inputs must exit with code 2 and one paragraph on
stderr, no traceback, naming the file, the column and the value (or type); they
write nothing but the run's log file and leave every input byte for byte as it
was. Accepted odd inputs (thousands separators, currencies, percentages, UTC
offsets across a daylight-saving change, zip codes) must be read as the right
numbers and dates: the same as the plainly written file, or the exact values.

The rules are in ``data/README.md`` and :mod:`salesml.io.data`.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from conftest import refused_cleanly, snapshot
from salesml.cli import app
from salesml.io.data import load_table

Case = Callable[[Path], tuple[list[str], list[str]]]
"""Builds the inputs in a folder; returns the CLI arguments and the fragments the error names."""


def leads_frame(rows: int = 40, seed: int = 7) -> pd.DataFrame:
    """A small, seeded lead table: id, a source, amounts, a date and a yes/no outcome."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(rows)],
            "source": rng.choice(["web", "referral", "event"], rows),
            "amount": rng.uniform(100, 90_000, rows).round(2),
            "created_at": pd.date_range("2024-03-15 08:00", periods=rows, freq="17h").strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "converted": np.where(np.arange(rows) % 3 == 0, "yes", "no"),
        }
    )


def berlin(values: pd.Series) -> pd.Series:
    """Naive UTC timestamps as ISO text in Europe/Berlin with their offsets (+01:00, +02:00)."""
    local = pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text.str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True).where(values.notna())


def sales_frame(series: int = 2, days: int = 70, seed: int = 5) -> pd.DataFrame:
    """Daily sales across the March 2024 daylight-saving change, long format."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-02-15", periods=days, freq="D")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(series)], days),
            "ds": np.tile(ds.strftime("%Y-%m-%d"), series),
            "y": rng.uniform(900, 9000, series * days).round(2),
        }
    )


def midnight_offsets(ds: pd.Series) -> pd.Series:
    """Dates as midnight Europe/Berlin timestamps with offsets, as some CRMs export days."""
    local = pd.to_datetime(ds).dt.tz_localize("Europe/Berlin")
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text.str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True)


def leads_config(path: str = "leads.csv", **data: Any) -> dict[str, Any]:
    return {
        "name": "bad-formats",
        "task": "lead_conversion",
        "data": {"path": path, "target": "converted", "positive": "yes", "id": "lead_id", **data},
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }


def sales_config(path: str = "sales.csv") -> dict[str, Any]:
    return {
        "name": "bad-format-sales",
        "task": "forecast",
        "data": {"path": path, "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 7,
        "backtest": {"windows": 1},
        "baselines": ["naive"],
    }


def _yaml(folder: Path, config: Any, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _text(folder: Path, text: str, name: str, encoding: str = "utf-8") -> Path:
    (folder / name).write_bytes(text.encode(encoding))
    return folder / name


def _run(folder: Path, config: dict[str, Any]) -> list[str]:
    return ["run", str(_yaml(folder, config)), "-o", str(folder / "out")]


def _leads_text(folder: Path, text: str, name: str = "leads.csv", **data: Any) -> list[str]:
    _text(folder, text, name)
    return _run(folder, leads_config(name, **data))


def _leads_rows(sep: str, amounts: list[str], header: str = "") -> str:
    """A small lead CSV whose amount column holds ``amounts`` (cycled), written by hand."""
    head = header or sep.join(["lead_id", "source", "amount", "created_at", "converted"])
    lines = [head]
    for i in range(30):
        outcome = "yes" if i % 3 == 0 else "no"
        source = ("web", "event")[i % 2]
        lines.append(
            sep.join(
                [f"L{i:03d}", source, amounts[i % len(amounts)], f"2024-01-{i + 1:02d}", outcome]
            )  # fmt: skip
        )
    return "\n".join(lines) + "\n"


def _nested_parquet(folder: Path, name: str, column: Any) -> Path:
    frame = leads_frame()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.append_column("extra", column(len(frame)))
    pq.write_table(table, folder / name)
    return folder / name


def _list_column(n: int) -> pa.Array:
    return pa.array([["crm", "q1"]] * n)


def _struct_column(n: int) -> pa.Array:
    return pa.array([{"owner": "ana", "team": 3}] * n)


def _map_column(n: int) -> pa.Array:
    return pa.array([[("k", 1)]] * n, type=pa.map_(pa.string(), pa.int64()))


# --- run: classification --------------------------------------------------------------------


def run_thousands_comma_undecidable(d: Path):
    args = _leads_text(d, _leads_rows(";", ["1,234", "5,678", "12,000"]))
    return args, ["leads.csv", "column 'amount'", "ambiguous", "'1,234' (data row 1)",
                  "1.234", "1234", "data.read.decimal"]  # fmt: skip


def run_thousands_point_undecidable(d: Path):
    args = _leads_text(d, _leads_rows(";", ["1.234", "5.678", "12.000"]))
    return args, ["leads.csv", "column 'amount'", "ambiguous", "'1.234'", "data.read.decimal"]


def run_mixed_currencies(d: Path):
    args = _leads_text(d, _leads_rows(",", ['"€1,234.50"', '"$2,000.00"']))
    return args, ["leads.csv", "column 'amount'", "mixes currencies", "'€1,234.50' (data row 1)",
                  "'$2,000.00' (data row 2)"]  # fmt: skip


def run_percent_beside_plain_numbers(d: Path):
    args = _leads_text(d, _leads_rows(",", ["12.5%", "0.3", "7%"]))
    return args, ["leads.csv", "column 'amount'", "mixes percentages", "'12.5%'", "'0.3'"]


def run_duplicate_header(d: Path):
    header = "lead_id,source,amount,created_at,converted,source"
    text = _leads_rows(",", ["12.5"], header).replace("\n", ",x\n").replace(f"{header},x", header)
    args = _leads_text(d, text)
    return args, ["leads.csv", "column 'source' twice", "columns 2 and 6", "'source.1'"]


def run_duplicate_header_cp1252(d: Path):
    header = "lead_id;Umsatz;Umsatz;created_at;converted"
    text = _leads_rows(";", ["1.234,50 €"], header)
    _text(d, text, "leads.csv", encoding="cp1252")
    return _run(d, leads_config()), ["leads.csv", "column 'Umsatz' twice", "columns 2 and 3"]


def run_duplicate_header_excel(d: Path):
    path = d / "leads.xlsx"
    frame = leads_frame()
    frame.columns = ["lead_id", "amount", "amount", "created_at", "converted"]
    frame.to_excel(path, index=False)
    args = _run(d, leads_config("leads.xlsx"))
    return args, ["leads.xlsx", "column 'amount' twice", "columns 2 and 3"]


def run_nested_list_parquet(d: Path):
    _nested_parquet(d, "leads.parquet", _list_column)
    args = _run(d, leads_config("leads.parquet"))
    return args, ["leads.parquet", "column 'extra' (column 6)", "list<element: string>"]


def run_nested_struct_parquet(d: Path):
    _nested_parquet(d, "leads.parquet", _struct_column)
    args = _run(d, leads_config("leads.parquet"))
    return args, ["leads.parquet", "column 'extra'", "struct<owner: string, team: int64>"]


def run_time_split_offsets_and_none(d: Path):
    frame = leads_frame()
    frame["created_at"] = berlin(frame["created_at"])
    frame.loc[5, "created_at"] = "2024-03-18T13:00:00"
    frame.to_csv(d / "leads.csv", index=False)
    args = _run(d, {**leads_config(time="created_at"), "split": {"method": "time"}})
    return args, ["leads.csv", "column 'created_at'", "with a UTC offset", "without one",
                  "'2024-03-18T13:00:00' in data row 6"]  # fmt: skip


# --- run: forecast --------------------------------------------------------------------------


def sales_offsets_and_none(d: Path):
    frame = sales_frame()
    frame["ds"] = midnight_offsets(frame["ds"])
    frame.loc[3, "ds"] = "2024-02-18"
    frame.to_csv(d / "sales.csv", index=False)
    return _run(d, sales_config()), ["sales.csv", "column 'ds'", "with a UTC offset",
                                     "'2024-02-18' in data row 4"]  # fmt: skip


def sales_ambiguous_target(d: Path):
    frame = sales_frame().assign(y=lambda f: f["y"].map(lambda v: f"{v:,.0f}"))  # 1,234 or 1.234?
    frame.to_csv(d / "sales.csv", sep="\t", index=False)
    config = sales_config()
    return _run(d, config), ["sales.csv", "column 'y'", "ambiguous", "thousands separator ','"]


def sales_duplicate_header(d: Path):
    frame = sales_frame()
    frame.columns = ["unique_id", "ds", "ds"]
    frame.to_csv(d / "sales.csv", index=False)
    return _run(d, sales_config()), ["sales.csv", "column 'ds' twice", "columns 2 and 3"]


def sales_nested_map_parquet(d: Path):
    table = pa.Table.from_pandas(sales_frame(), preserve_index=False)
    pq.write_table(table.append_column("tags", _map_column(len(table))), d / "sales.parquet")
    return _run(d, sales_config("sales.parquet")), ["sales.parquet", "column 'tags' (column 4)",
                                                     "map<string, int64"]  # fmt: skip


# --- data inspect -------------------------------------------------------------------------


def inspect_duplicate_header(d: Path):
    _text(d, "id|amount|note|amount\n1|2|x|3\n", "crm.csv")
    return ["data", "inspect", str(d / "crm.csv")], ["crm.csv", "'amount' twice", "columns 2 and 4"]


def inspect_nested_list(d: Path):
    _nested_parquet(d, "crm.parquet", _list_column)
    return ["data", "inspect", str(d / "crm.parquet")], ["crm.parquet", "'extra'", "list<"]


def inspect_ambiguous(d: Path):
    _text(d, "id;amount\n1;1,250\n2;3,500\n3;2,000\n", "crm.csv")
    return ["data", "inspect", str(d / "crm.csv")], ["crm.csv", "'amount'", "'1,250' (data row 1)",
                                                     "1.25", "1250"]  # fmt: skip


def inspect_mixed_currencies(d: Path):
    _text(d, "id;amount\n1;1.250,00 EUR\n2;3.500,00 GBP\n", "crm.csv")
    return ["data", "inspect", str(d / "crm.csv")], ["crm.csv", "'amount'", "mixes currencies",
                                                     "'3.500,00 GBP' (data row 2)"]  # fmt: skip


# --- funnel -------------------------------------------------------------------------------


def _opportunities(rows: int = 150, seed: int = 4) -> pd.DataFrame:
    from salesml.synthetic import generate

    return generate("opportunities", rows, seed)


def funnel_duplicate_header(d: Path):
    frame = _opportunities()
    frame.columns = [*frame.columns[:-1], "amount"]
    frame.to_csv(d / "opps.csv", index=False)
    return ["funnel", str(d / "opps.csv"), "-o", str(d / "out")], ["opps.csv", "'amount' twice",
                                                                   "columns 5 and 15"]  # fmt: skip


def funnel_mixed_currencies(d: Path):
    frame = _opportunities()
    frame["amount"] = [
        f"€{v:,.2f}" if i % 2 else f"${v:,.2f}" for i, v in enumerate(frame["amount"])
    ]
    frame.to_csv(d / "opps.csv", index=False)
    return ["funnel", str(d / "opps.csv"), "-o", str(d / "out")], ["opps.csv", "'amount'",
                                                                   "mixes currencies"]  # fmt: skip


def funnel_nested_struct(d: Path):
    table = pa.Table.from_pandas(_opportunities(), preserve_index=False)
    pq.write_table(table.append_column("meta", _struct_column(len(table))), d / "opps.parquet")
    return ["funnel", str(d / "opps.parquet"), "-o", str(d / "out")], ["opps.parquet", "'meta'",
                                                                       "struct<"]  # fmt: skip


def funnel_offsets_and_none(d: Path):
    frame = _opportunities()
    frame["created_at"] = berlin(frame["created_at"])
    frame.loc[2, "created_at"] = "2023-01-09 10:00:00"
    frame.to_csv(d / "opps.csv", index=False)
    return ["funnel", str(d / "opps.csv"), "-o", str(d / "out")], ["opps.csv", "'created_at'",
                                                                   "data row 3"]  # fmt: skip


CASES: dict[str, Case] = {
    f.__name__: f
    for f in (
        run_thousands_comma_undecidable,
        run_thousands_point_undecidable,
        run_mixed_currencies,
        run_percent_beside_plain_numbers,
        run_duplicate_header,
        run_duplicate_header_cp1252,
        run_duplicate_header_excel,
        run_nested_list_parquet,
        run_nested_struct_parquet,
        run_time_split_offsets_and_none,
        sales_offsets_and_none,
        sales_ambiguous_target,
        sales_duplicate_header,
        sales_nested_map_parquet,
        inspect_duplicate_header,
        inspect_nested_list,
        inspect_ambiguous,
        inspect_mixed_currencies,
        funnel_duplicate_header,
        funnel_mixed_currencies,
        funnel_nested_struct,
        funnel_offsets_and_none,
    )
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_odd_format_is_refused_cleanly(case: str, tmp_path: Path, tracking: str):
    args, fragments = CASES[case](tmp_path)
    refused_cleanly(args, fragments, tmp_path)


def test_the_catalogue_is_big_enough():
    assert len(CASES) + len(ACCEPTED) >= 20
    assert len(CASES) >= 20


# --- accepted odd inputs: the right numbers and dates ---------------------------------------


def _quiet(args: list[str]) -> Any:
    """Invoke the CLI and fail on any warning but deprecations (they would reach the screen)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)
        result = CliRunner().invoke(app, args)
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _inspect(path: Path) -> dict[str, list[str]]:
    """``data inspect`` rows by column name: the row's words."""
    result = _quiet(["data", "inspect", str(path)])
    lines = result.stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("column "))
    return {ln.split()[0]: ln.split() for ln in lines[start + 1 :]}


def _dry_run(folder: Path, config: dict[str, Any]) -> str:
    result = _quiet(["run", str(_yaml(folder, config)), "--dry-run"])
    return " ".join(result.stdout.split())


def _same_plan(out: str, path: Path) -> str:
    """A dry run's plan without what differs between two files of the same data."""
    out = out.replace(str(path), "FILE").replace(load_table(path).sha256[:12], "SHA")
    return re.sub(r"in \d+\.\d+ s", "in - s", out)


AMOUNT_STYLES = {
    "us": (",", "utf-8", lambda v: f"{v:,.2f}", "thousands separator ',' and decimal '.'"),
    "german-euro": (";", "cp1252", lambda v: f"{v:,.2f} €".replace(",", "_").replace(".", ",")
                    .replace("_", "."), "thousands separator '.' and decimal ','"),
    "french-nbsp": (";", "utf-8", lambda v: f"{v:,.2f}".replace(",", "\u202f").replace(".", ","),
                    "thousands separator space and decimal ','"),
    "swiss": (",", "utf-8", lambda v: f"CHF {v:,.2f}".replace(",", "'"),
              "thousands separator \"'\" and decimal '.', currency 'CHF' dropped"),
    "usd-prefix": (",", "utf-8", lambda v: f"USD {v:,.2f}", "currency 'USD' dropped"),
}  # fmt: skip


@pytest.mark.parametrize("style", list(AMOUNT_STYLES))
def test_formatted_amounts_train_like_plain_ones(style: str, tmp_path: Path):
    sep, encoding, fmt, note = AMOUNT_STYLES[style]
    plain = leads_frame()
    plain.to_csv(tmp_path / "plain.csv", index=False)
    odd = plain.assign(amount=plain["amount"].map(fmt))
    odd.to_csv(tmp_path / "leads.csv", sep=sep, encoding=encoding, index=False)
    before = snapshot(tmp_path)
    rows = _inspect(tmp_path / "leads.csv")
    assert rows["amount"][1:3] == ["numeric", "float64"]
    assert note in " ".join(rows["amount"])
    out, same = (
        _same_plan(_dry_run(tmp_path, leads_config(name)), tmp_path / name)
        for name in ("leads.csv", "plain.csv")
    )
    assert out == same  # the same features, split and plan as the plainly written file
    assert "amount (id column)" not in out and "3 features" in out
    read = load_table(tmp_path / "leads.csv").frame["amount"]
    assert read.tolist() == plain["amount"].tolist()
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before


def test_percentages_are_fractions(tmp_path: Path):
    rates = ["12.5%", "7%", "0.25%", "100%"]
    _text(tmp_path, _leads_rows(",", rates).replace("amount", "discount"), "leads.csv")
    rows = _inspect(tmp_path / "leads.csv")
    assert "percentages as fractions (12.5% = 0.125)" in " ".join(rows["discount"])
    assert load_table(tmp_path / "leads.csv").frame["discount"].tolist()[:4] == [
        0.125, 0.07, 0.0025, 1.0]  # fmt: skip
    assert "left out" not in _dry_run(tmp_path, leads_config())


def test_zip_codes_stay_text(tmp_path: Path):
    frame = leads_frame().assign(zip=[f"{(i * 7919) % 99999:05d}" for i in range(40)])
    frame.to_csv(tmp_path / "leads.csv", index=False)
    rows = _inspect(tmp_path / "leads.csv")
    assert rows["zip"][1] in ("id", "categorical") and rows["zip"][2] == "object"
    assert "codes with leading zeros (e.g. '00000')" in " ".join(rows["zip"])
    assert load_table(tmp_path / "leads.csv").frame["zip"].tolist() == frame["zip"].tolist()


def test_a_time_split_reads_offsets_across_daylight_saving(tmp_path: Path):
    plain = leads_frame()
    plain.to_csv(tmp_path / "plain.csv", index=False)
    odd = plain.assign(created_at=berlin(plain["created_at"]))
    assert odd["created_at"].str.endswith("+01:00").any() and odd["created_at"].str.endswith(
        "+02:00").any()  # fmt: skip
    odd.to_csv(tmp_path / "leads.csv", index=False)
    rows = _inspect(tmp_path / "leads.csv")
    assert rows["created_at"][1:3] == ["datetime", "datetime64[ns]"]
    assert "dates with UTC offsets (+01:00, +02:00), converted to UTC" in " ".join(
        rows["created_at"])  # fmt: skip
    split = {**leads_config(time="created_at"), "split": {"method": "time", "test_size": 0.25}}
    out = _dry_run(tmp_path, split)
    assert "split: time, train 30 rows, test 10 rows" in out
    assert load_table(tmp_path / "leads.csv").frame["created_at"].tolist() == list(
        pd.to_datetime(plain["created_at"]))  # fmt: skip


def test_the_funnel_reads_formatted_amounts_and_offsets_like_plain_ones(tmp_path: Path):
    plain = _opportunities()
    plain.to_csv(tmp_path / "plain.csv", index=False)
    odd = plain.assign(amount=plain["amount"].map(lambda v: f"${v:,.2f}"))
    for col in [c for c in odd.columns if c.endswith("_at")]:
        odd[col] = berlin(odd[col])
    odd.to_csv(tmp_path / "opps.csv", index=False)
    for name in ("plain", "opps"):
        _quiet(["funnel", str(tmp_path / f"{name}.csv"), "-o", str(tmp_path / f"out-{name}")])
    for table in ("headline.json", "stages.csv", "by_segment.csv"):
        assert (tmp_path / "out-opps" / table).read_bytes() == (
            tmp_path / "out-plain" / table
        ).read_bytes(), table
    headline = json.loads((tmp_path / "out-opps" / "headline.json").read_text())
    assert headline


ACCEPTED = (
    *(f"formatted_amounts[{s}]" for s in AMOUNT_STYLES),
    "percentages",
    "zip_codes",
    "time_split_offsets",
    "funnel",
    "forecast_and_score",
)


# --- a forecast trained on formatted, offset data; scored through the shared reader --------


@pytest.fixture(scope="module")
def odd_sales(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One naive forecast run on sales written with offsets and thousands separators."""
    from rich.console import Console

    from salesml import load_experiment, run_experiment

    folder = tmp_path_factory.mktemp("odd_sales")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    plain = sales_frame()
    odd = plain.assign(ds=midnight_offsets(plain["ds"]), y=plain["y"].map(lambda v: f"{v:,.2f}"))
    odd.to_csv(folder / "sales.csv", index=False)
    summary = run_experiment(
        load_experiment(_yaml(folder, sales_config())),
        folder / "out",
        store,
        console=Console(file=io.StringIO()),
    )
    assert not summary.failed, [c.error for c in summary.candidates]
    return {
        "plain": plain,
        "folder": folder,
        "store": store,
        "uri": summary.candidates[0].model_uri,
    }


@pytest.mark.slow
def test_a_forecast_run_and_score_read_offsets_and_separators(
    odd_sales: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder, plain = odd_sales["folder"], odd_sales["plain"]
    data = json.loads((folder / "out" / "summary.json").read_text())["data"]
    assert (data["freq"], data["start"], data["end"]) == ("D", "2024-02-15", "2024-04-24")
    assert data["gaps_filled"] == {}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", odd_sales["store"])
    out = tmp_path / "forecast.csv"
    result = CliRunner().invoke(
        app, ["score", "-m", odd_sales["uri"], "-i", str(folder / "sales.csv"), "-o", str(out)]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    forecast = pd.read_csv(out)
    last = plain.groupby("unique_id")["y"].last()
    assert forecast.groupby("unique_id")["naive"].first().to_dict() == pytest.approx(last.to_dict())
    assert forecast["ds"].iloc[0] == "2024-04-25"


SCORE_CASES = {
    "duplicate_header": lambda d, f: (
        f.set_axis(["unique_id", "ds", "ds"], axis=1).to_csv(d / "in.csv", index=False),
        ["in.csv", "'ds' twice", "columns 2 and 3"],
    ),
    "nested_parquet": lambda d, f: (
        pq.write_table(
            pa.Table.from_pandas(f, preserve_index=False).append_column(
                "tags", _list_column(len(f))
            ),
            d / "in.parquet",
        ),
        ["in.parquet", "'tags' (column 4)", "list<"],
    ),
    "ambiguous_numbers": lambda d, f: (
        f.assign(y=f["y"].map(lambda v: f"{v:,.0f}")).to_csv(d / "in.csv", sep="\t", index=False),
        ["in.csv", "column 'y'", "ambiguous", "data.read.decimal"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(SCORE_CASES))
def test_odd_score_input_is_refused_cleanly(
    case: str, odd_sales: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", odd_sales["store"])
    _, fragments = SCORE_CASES[case](tmp_path, odd_sales["plain"].copy())
    src = next(p for p in tmp_path.iterdir() if p.name.startswith("in."))
    args = ["score", "-m", odd_sales["uri"], "-i", str(src), "-o", str(tmp_path / "out.csv")]
    refused_cleanly(args, fragments, tmp_path)
