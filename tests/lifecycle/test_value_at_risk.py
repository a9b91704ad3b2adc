"""Value at risk: ranking customers by chance of leaving times value, in Python and on the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesml.cli import app
from salesml.errors import DataError
from salesml.lifecycle.value_at_risk import share_held, value_at_risk

RISK = pd.DataFrame({"id": ["a", "b", "c", "x"], "p": [0.9, 0.5, 0.1, 0.3]})
VALUE = pd.DataFrame({"id": ["a", "b", "c", "y"], "v": [10.0, 100.0, 1000.0, 5.0]})


def test_ranks_by_chance_times_value():
    ranked = value_at_risk(RISK, VALUE, "id", "p", "v")
    assert ranked["id"].tolist() == ["c", "b", "a"]  # 100, 50, 9
    np.testing.assert_allclose(ranked["value_at_risk"], [100.0, 50.0, 9.0])
    np.testing.assert_allclose(ranked["share_of_total"], np.cumsum([100, 50, 9]) / 159)
    assert ranked.attrs["unmatched"] == 2
    assert share_held(ranked, 0.1) == pytest.approx(100 / 159)  # the top customer of three
    assert share_held(ranked, 0.5) == pytest.approx(150 / 159)


def test_customers_already_gone_are_left_out_and_counted():
    risk = RISK.assign(p=[0.9, None, 0.1, 0.3])  # b left: the survival model scores no risk
    ranked = value_at_risk(risk, VALUE, "id", "p", "v")
    assert ranked["id"].tolist() == ["c", "a"]
    assert (ranked.attrs["unscored"], ranked.attrs["unmatched"]) == (1, 2)


def test_differently_named_ids_join():
    value = VALUE.rename(columns={"id": "customer"})
    ranked = value_at_risk(RISK, value, "id", "p", "v", value_on="customer")
    assert ranked["id"].tolist() == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (RISK.assign(p=[1.5, 0, 0, 0]), r"risk scores: 'p' must be probabilities.*data row 1\)"),
        (pd.concat([RISK, RISK]), r"risk scores: id column\(s\) id must be unique"),
        (
            RISK.assign(p=["0.9", "high", "0.1", "0.3"]),
            r"'p' must be numeric.*'high' in data row 2",
        ),
        (RISK.drop(columns="p"), r"risk scores: value-at-risk column\(s\) 'p' not in the data"),
        (RISK.assign(id=["a", None, "c", "x"]), r"risk scores: id column 'id' is blank"),
    ],
)
def test_bad_scores_are_refused_by_name(risk, message):
    with pytest.raises(DataError, match=message):
        value_at_risk(risk, VALUE, "id", "p", "v")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """A survival model's scores (`,`) and a value file as a finance team exports it (`;`)."""
    rng = np.random.default_rng(3)
    ids = [f"C{i:04d}" for i in range(200)]
    risk = pd.DataFrame({"customerID": ids, "p_leave_6": rng.uniform(0, 1, 200).round(4)})
    risk.loc[:9, "p_leave_6"] = np.nan  # already gone: not scored
    risk_path = tmp_path / "survival_scores.csv"
    risk.to_csv(risk_path, index=False)
    value = pd.DataFrame({"Kunde": ids[50:] + ["Z1"], "Umsatz": rng.gamma(2, 600, 151).round(2)})
    value_path = tmp_path / "umsatz.csv"
    value_path.write_text(value.to_csv(sep=";", index=False, decimal=","), encoding="utf-8")
    return risk_path, value_path


def _cli(risk: Path, value: Path, out: Path, *extra: str):
    return CliRunner().invoke(
        app,
        ["value-at-risk", "--risk", str(risk), "--risk-column", "p_leave_6", "--value",
         str(value), "--value-column", "Umsatz", "--id", "customerID", "-o", str(out), *extra],
    )  # fmt: skip


def test_cli_ranks_two_score_files(tmp_path: Path):
    risk_path, value_path = _files(tmp_path)
    out = tmp_path / "ranked.csv"
    result = _cli(risk_path, value_path, out, "--value-id", "Kunde")
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(out)
    risk, value = pd.read_csv(risk_path), pd.read_csv(value_path, sep=";", decimal=",")
    expected = risk.merge(value, left_on="customerID", right_on="Kunde").dropna()
    expected = (expected["p_leave_6"] * expected["Umsatz"]).sort_values(ascending=False)
    assert len(ranked) == len(expected) == 150
    np.testing.assert_allclose(ranked["value_at_risk"], expected.to_numpy())
    assert ranked["value_at_risk"].is_monotonic_decreasing
    share = expected.iloc[:15].sum() / expected.sum()
    assert "ranked 150 customers" in result.stdout
    assert f"the top 10 % hold {share:.1%}" in result.stdout
    assert "51 customer(s) in one file only, 0 with a blank" in result.stdout


def test_cli_refuses_a_missing_column_naming_the_file_and_writes_nothing(tmp_path: Path):
    risk_path, value_path = _files(tmp_path)
    out = tmp_path / "ranked.csv"
    result = _cli(risk_path, value_path, out)  # the value file's id is Kunde, not customerID
    assert result.exit_code == 2
    assert str(value_path) in result.output and "'customerID'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_cli_refuses_files_without_a_shared_customer(tmp_path: Path):
    risk_path, value_path = _files(tmp_path)
    other = tmp_path / "other.csv"
    pd.DataFrame({"customerID": ["nobody"], "Umsatz": [1.0]}).to_csv(other, index=False)
    out = tmp_path / "ranked.csv"
    result = _cli(risk_path, other, out)
    assert result.exit_code == 2
    assert "no customer id in 'customerID' has both" in result.output
    assert not out.exists()
