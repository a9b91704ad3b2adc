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


# --- numbers as people write them (salesml.io.numbers) ------------------------------------


def _csv(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "values", "note"),
    [
        ('id,amount\n1,"1,234.56"\n2,999.5\n3,"12,345,678.9"\n', [1234.56, 999.5, 12345678.9],
         "numbers with thousands separator ',' and decimal '.'"),
        ("id;amount;x\n1;1.234,56;a\n2;999,5;b\n3;12.345.678,9;c\n", [1234.56, 999.5, 12345678.9],
         "numbers with thousands separator '.' and decimal ','"),
        ("id;amount\n1;1 234,56\n2;1\u00a0234,5\n3;12\u202f345,25\n", [1234.56, 1234.5, 12345.25],
         "numbers with thousands separator space and decimal ','"),
        ("id,amount\n1,1'234.56\n2,5'000.25\n3,12.5\n", [1234.56, 5000.25, 12.5],
         "numbers with thousands separator \"'\" and decimal '.'"),
        ('id,amount\n1,"€1,234.56"\n2,€ 99.10\n3,-€5.25\n', [1234.56, 99.1, -5.25],
         "currency '€' dropped"),
        ("id;amount\n1;1.234,56 €\n2;99,10 EUR\n3;-5,25 €\n", [1234.56, 99.1, -5.25],
         "currency '€' dropped"),
        ('id,amount\n1,"USD 1,200"\n2,USD 950\n3,"$3,000"\n', [1200, 950, 3000],
         "numbers with thousands separator ','"),
        ("id,rate\n1,12.5%\n2,7.1%\n3,100 %\n", [0.125, 0.071, 1.0],
         "percentages as fractions (12.5% = 0.125)"),
        ("id;rate\n1;12,5%\n2;-3%\n3;0,5%\n", [0.125, -0.03, 0.005], "decimal ','"),
    ],
    ids=["us", "german", "spaces", "swiss", "euro-prefix", "euro-suffix", "usd", "percent",
         "percent-comma"],
)  # fmt: skip
def test_formatted_numbers_are_read_exactly(tmp_path: Path, text: str, values, note: str):
    table = load_table(_csv(tmp_path, text))
    name = table.frame.columns[1]
    assert table.frame[name].tolist() == values
    assert table.schema.kind(name) == "numeric"
    assert note in table.schema.notes[name]


def test_whole_formatted_numbers_are_integers_and_blanks_missing(tmp_path: Path):
    frame = load_table(_csv(tmp_path, 'id,n\n1,"1,200"\n2,"3,400"\n3,"15,000"\n')).frame
    assert frame["n"].dtype == "int64" and frame["n"].tolist() == [1200, 3400, 15000]
    blanks = load_table(_csv(tmp_path, 'id,n\n1,"1,200"\n2,\n3,"15,000"\n', "b.csv")).frame
    assert blanks["n"].dtype == float and blanks["n"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ('id,n\n1,"1,234"\n2,"5,678"\n', [1234, 5678]),  # a comma-delimited file: decimal points
        ("id;n;p\n1;1,234;2,5\n2;5,678;3,75\n", [1.234, 5.678]),  # decimal commas elsewhere
        ("id;n;p\n1;1.234;2,5\n2;5.678;3,75\n", [1234, 5678]),  # so '.' separates thousands
        ("id;n;p\n1;1,234;1.234,5\n2;5,678;3,75\n", [1.234, 5.678]),
        ("id;n;p\n1;1,234;1,234.5\n2;5,678;9.75\n", [1234, 5678]),
    ],
    ids=["comma-file", "comma-decimals-beside", "dot-thousands", "german-beside", "us-beside"],
)
def test_an_ambiguous_column_is_decided_by_the_file(tmp_path: Path, text: str, values):
    assert load_table(_csv(tmp_path, text)).frame["n"].tolist() == values


@pytest.mark.parametrize(
    "text",
    ["id;n\n1;1,234\n2;5,678\n", "id;n\n1;1.234\n2;5.678\n", "id\tn\n1\t12,345\n2\t1,000\n"],
    ids=["comma", "point", "tab"],
)
def test_an_undecidable_column_is_refused(tmp_path: Path, text: str):
    from salesml.errors import DataError

    with pytest.raises(
        DataError, match=r"export.csv: column 'n' is ambiguous: '1[,.]\d{3}|12,345'"
    ):
        load_table(_csv(tmp_path, text))


def test_a_given_decimal_mark_decides_and_is_never_overruled(tmp_path: Path):
    path = _csv(tmp_path, "id;n\n1;1,234\n2;5,678\n")

    class Read:
        sep, decimal, encoding = ";", ",", None

    assert read_frame(path, read=Read())["n"].tolist() == [1.234, 5.678]
    Read.decimal = "."
    assert read_frame(path, read=Read())["n"].tolist() == [1234, 5678]
    german = _csv(tmp_path, "id;n\n1;1.234,5\n2;7,25\n", "german.csv")
    assert read_frame(german, read=Read())["n"].tolist() == ["1.234,5", "7,25"]  # stays text


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('id,amount\n1,"€1,234.56"\n2,$99.00\n', ["mixes currencies", "'€1,234.56' (data row 1)",
                                                  "'$99.00' (data row 2)"]),
        ("id,rate\n1,12.5%\n2,0.3\n", ["mixes percentages", "'12.5%'", "'0.3'"]),
    ],
    ids=["currencies", "percent-and-plain"],
)  # fmt: skip
def test_mixed_columns_are_refused(tmp_path: Path, text: str, fragments):
    from salesml.errors import DataError

    with pytest.raises(DataError) as err:
        load_table(_csv(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "id,zip\n1,01067\n2,10115\n3,80331\n",
        "id,code\n1,00123\n2,00456\n3,\n",
        'id,code\n1,"01,234"\n2,"1,000"\n',
        "id,sku\n1,50-200\n2,12\n",
    ],
    ids=["zip", "padded-id-with-blank", "leading-zero-grouped", "range"],
)
def test_codes_and_other_text_stay_text(tmp_path: Path, text: str):
    path = _csv(tmp_path, text)
    frame = load_table(path).frame
    raw = pd.read_csv(path, dtype=str)
    col = raw.columns[1]
    assert frame[col].tolist() == raw[col].tolist(), frame[col].tolist()


def test_zip_codes_stay_text_on_the_safe_csv_path_too(tmp_path: Path):
    from salesml.io.data import _typed_columns

    raw = pd.DataFrame({"zip": ["01067", "10115", None], "n": ["1", "2", "3"]})
    typed = _typed_columns(raw)
    assert typed["zip"].tolist() == ["01067", "10115", None]
    assert typed["n"].tolist() == [1, 2, 3]


def test_zip_code_note_is_shown(tmp_path: Path):
    table = load_table(_csv(tmp_path, "id,zip\n1,01067\n2,10115\n3,80331\n"))
    assert table.schema.notes["zip"] == "text: codes with leading zeros (e.g. '01067')"


def test_excel_text_amounts_are_numbers(tmp_path: Path):
    path = tmp_path / "crm.xlsx"
    pd.DataFrame({"id": [1, 2], "amount": ["1.234,56 €", "99,50 €"], "zip": ["01067", "10115"]}
                 ).to_excel(path, index=False)  # fmt: skip
    frame = load_table(path).frame
    assert frame["amount"].tolist() == [1234.56, 99.5]
    assert frame["zip"].tolist() == ["01067", "10115"]


@pytest.mark.parametrize(
    ("cell", "mark"),
    [("12,5", ","), ("1.234,56", ","), ("1 234,5 €", ","), ("0,123", ","), ("12.5", "."),
     ("1,234.56", "."), ("$1,234.5", "."), ("1,234", None), ("1.234", None), ("1234", None),
     ("01.234", None), ("abc", None), ("2024-01-05", None)],
)  # fmt: skip
def test_decimal_evidence(cell: str, mark):
    from salesml.io.numbers import decimal_evidence

    assert decimal_evidence(cell) == mark


def test_thousands_separators_do_not_hide_a_decimal_comma(tmp_path: Path):
    rows = "".join(f"{i};{i}.{i:03d},{i % 100:02d};{i * 7}\n" for i in range(1, 40))
    path = _csv(tmp_path, "id;Umsatz;Anzahl\n" + rows)
    dialect = sniff_csv(path)
    assert (dialect.sep, dialect.decimal, dialect.decimal_shown) == (";", ",", True)
    table = load_table(path)
    assert table.frame["Umsatz"].iloc[0] == 1001.01
    assert table.schema.notes["Umsatz"] == "numbers with thousands separator '.' and decimal ','"


def test_a_sample_without_decimals_shows_no_decimal_mark(tmp_path: Path):
    path = _csv(tmp_path, "id;n\n1;1.234\n2;5\n")
    assert sniff_csv(path).decimal_shown is False
    assert sniff_csv(_csv(tmp_path, "id,n\n1,2\n", "c.csv")).decimal_shown is True


def test_notes_say_how_an_ambiguous_column_was_decided(tmp_path: Path):
    notes = load_table(_csv(tmp_path, 'id,n\n1,"1,234"\n2,"5,678"\n')).schema.notes
    assert notes["n"] == (
        "numbers with thousands separator ',' (ambiguous; decimal '.' from the CSV dialect)"
    )
    notes = load_table(_csv(tmp_path, "id;n;p\n1;1.234;2,5\n2;5.678;3,75\n", "b.csv")).schema.notes
    assert notes["n"] == (
        "numbers with thousands separator '.' (ambiguous; decimal ',' from the CSV dialect)"
    )
    assert notes["p"] == "numbers with decimal ','"
    path = tmp_path / "crm.xlsx"
    pd.DataFrame({"n": ["1,234", "5,678"], "p": ["1.234,5", "3,75"]}).to_excel(path, index=False)
    table = load_table(path)
    assert table.frame["n"].tolist() == [1.234, 5.678]
    assert (
        table.schema.notes["n"]
        == "numbers with decimal ',' (ambiguous; decimal ',' from the other columns)"
    )
    pd.DataFrame({"n": ["1,234", "5,678"]}).to_excel(path, index=False)
    from salesml.errors import DataError

    with pytest.raises(
        DataError, match="crm.xlsx: column 'n' is ambiguous: '1,234' \\(data row 1\\)"
    ):
        load_table(path)
