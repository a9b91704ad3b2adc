"""CSV files as CRMs and Excel export them: delimiters, decimal commas, encodings, day-first dates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import TELCO
from salesml.cli import app
from salesml.io.data import load_table, read_frame
from salesml.io.dialect import sniff_csv

FRAME = pd.DataFrame(
    {
        "Kunde": ["Müller GmbH", "Café Zürich", "Ørsted A/S", "Señor Ñu SL", "Ångström AB"] * 4,
        "Umsatz": [1234.5, 99.25, 0.5, 1000.0, 12.75] * 4,
        "Anzahl": [3, 1, 7, 2, 5] * 4,
        "Datum": ["05-02-2010", "13-02-2010", "28-02-2010", "01-03-2010", "31-03-2010"] * 4,
    }
)


def _write(path: Path, sep: str, decimal: str, encoding: str) -> Path:
    FRAME.to_csv(path, sep=sep, decimal=decimal, encoding=encoding, index=False)
    return path


@pytest.mark.parametrize(
    ("sep", "decimal", "encoding"),
    [
        (";", ",", "cp1252"),  # Excel in German, Italian, French locales
        (";", ",", "utf-8-sig"),  # the same with a UTF-8 byte-order mark
        ("\t", ".", "utf-8"),
        ("|", ".", "utf-8"),
        (",", ".", "utf-8"),
    ],
    ids=["semicolon-cp1252", "semicolon-bom", "tab", "pipe", "comma"],
)
def test_dialects_are_sniffed_and_values_survive(tmp_path: Path, sep, decimal, encoding):
    path = _write(tmp_path / "export.csv", sep, decimal, encoding)
    dialect = sniff_csv(path)
    assert (dialect.sep, dialect.decimal, dialect.encoding) == (sep, decimal, encoding)
    assert dialect.guessed == ("sep", "decimal", "encoding")
    table = load_table(path)
    frame = table.frame
    assert list(frame.columns) == list(FRAME.columns)
    assert frame["Kunde"].tolist() == FRAME["Kunde"].tolist()  # accents intact
    assert frame["Umsatz"].tolist() == FRAME["Umsatz"].tolist()  # decimal commas are numbers
    assert table.schema.kind("Datum") == "datetime"
    assert frame["Datum"].iloc[1] == pd.Timestamp(2010, 2, 13)  # day first
    assert frame["Datum"].iloc[0] == pd.Timestamp(2010, 2, 5)  # 05-02-2010 is 5 February


def test_given_settings_win_and_are_not_marked_guessed(tmp_path: Path):
    path = _write(tmp_path / "export.csv", ";", ",", "cp1252")
    dialect = sniff_csv(path, sep=";", encoding="latin-1")
    assert dialect.guessed == ("decimal",)
    assert dialect.describe() == "delimiter ';', decimal ',' (guessed), encoding latin-1"

    class Read:
        sep, decimal, encoding = ";", ".", "cp1252"

    frame = read_frame(path, read=Read())
    assert frame["Umsatz"].dtype == object  # decimal '.' given: "1234,5" stays text


def test_a_semicolon_telco_export_runs_like_the_original(tmp_path: Path, write_yaml):
    raw = pd.read_csv(TELCO)
    raw.to_csv(tmp_path / "telco_de.csv", sep=";", decimal=",", encoding="cp1252", index=False)
    config = {
        "name": "telco-de",
        "task": "churn",
        "data": {"path": "telco_de.csv", "target": "Churn", "positive": "Yes", "id": "customerID"},
        "baselines": ["prior"],
        "models": ["logistic"],
    }
    result = CliRunner().invoke(app, ["run", "--dry-run", str(write_yaml(config))])
    assert result.exit_code == 0, result.output
    original = load_table(TELCO).frame
    european = load_table(tmp_path / "telco_de.csv").frame
    pd.testing.assert_frame_equal(european, original, check_dtype=False)
    inspect = CliRunner().invoke(app, ["data", "inspect", str(tmp_path / "telco_de.csv")])
    # Telco is plain ASCII, so UTF-8 reads it as well as cp1252 would
    assert "delimiter ';' (guessed), decimal ',' (guessed), encoding utf-8 (guessed)" in (
        inspect.stdout
    )


def test_read_overrides_are_validated(write_yaml):
    from salesml.errors import ConfigError
    from salesml.experiment.config import load_experiment

    base = {"name": "x", "task": "churn", "baselines": ["prior"]}
    ok = load_experiment(
        write_yaml({**base, "data": {"path": "a.csv", "target": "y", "read": {"sep": ";"}}})
    )
    assert ok.data.read.sep == ";"
    with pytest.raises(ConfigError, match="data.read.sep"):
        load_experiment(
            write_yaml({**base, "data": {"path": "a.csv", "target": "y", "read": {"sep": "#"}}})
        )


def test_excel_sheets_are_read_by_name_or_position(tmp_path: Path, write_yaml):
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xl, sheet_name="Info", index=False)
        FRAME.to_excel(xl, sheet_name="Leads", index=False)

    class Sheet:
        sheet = "Leads"

    frame = load_table(path, read=Sheet()).frame
    assert frame["Umsatz"].tolist() == FRAME["Umsatz"].tolist()
    assert frame["Kunde"].tolist() == FRAME["Kunde"].tolist()
    assert frame["Datum"].iloc[1] == pd.Timestamp(2010, 2, 13)
    assert list(read_frame(path).columns) == ["note"]  # default: the first sheet

    from salesml.errors import DataError

    Sheet.sheet = "Deals"
    with pytest.raises(DataError, match="no sheet 'Deals'; the workbook has 'Info', 'Leads'"):
        read_frame(path, read=Sheet())
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable Excel workbook"):
        read_frame(broken)
