"""The checks for noisy leaks: near-pure values and the quick model's lift.

Two traps are built from the shipped real data, each with a generative story and
realistic noise (seeded):

- Telco + ``retention_call_minutes``: minutes on the phone with the retention
  team around the renewal date, recorded after a customer gives notice. 75 % of
  churners and 25 % of stayers have a call; churners' calls are longer, with
  heavy spread. Alone it ranks churners with a ROC-AUC of about 0.8, under the
  value checks' 0.95 threshold, like a phone campaign's call ``duration``.
- Olist + the sales team's annotations: a free-text ``sales_tag`` ("closed by
  sdr", "contract sent", "no answer", ...) mistyped now and then, so no tag is
  one class only, and a ``lead_grade`` A-D given with hindsight.

The tests assert the traps are flagged, with the numbers in the evidence, and
that none of the shipped experiments gets a flag from the new checks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import ROOT, TELCO
from salesml.classify import leakage_model as lm
from salesml.classify.leakage import NEAR_PURE_ODDS, find_leaks
from salesml.classify.leakage_model import ColumnLift, ModelCheck, model_check
from salesml.classify.leakage_scan import scan_leaks
from salesml.classify.task import ClassificationTask
from salesml.errors import DataError
from salesml.experiment.config import load_experiment

OLIST = ROOT / "data" / "external" / "olist_funnel"
EXPERIMENTS = ROOT / "experiments"
SHIPPED = [
    "lead_conversion/demo.yaml",
    "lead_conversion/olist.yaml",
    "churn/demo.yaml",
    "churn/telco.yaml",
]
NEW_KINDS = {"near_pure_value", "model_lift"}


# --- the traps -------------------------------------------------------------------------


def retention_call_minutes(churned: np.ndarray, seed: int = 0) -> np.ndarray:
    """Minutes with the retention team, recorded once a customer has given notice (or not)."""
    rng = np.random.default_rng(seed)
    n = len(churned)
    called = np.where(churned == 1, rng.random(n) < 0.75, rng.random(n) < 0.25)
    minutes = np.where(churned == 1, rng.lognormal(2.4, 0.6, n), rng.lognormal(1.7, 0.6, n))
    return np.where(called, minutes.round(1), 0.0)


SALES_TAGS = {  # tag: (share among leads that closed, share among those that did not)
    "closed by sdr": (0.50, 0.0015),
    "contract sent": (0.22, 0.0008),
    "interested": (0.08, 0.1424),
    "call back": (0.08, 0.1423),
    "no answer": (0.03, 0.26),
    "not interested": (0.02, 0.20),
    "lost to competitor": (0.01, 0.18),
    None: (0.06, 0.074),
}
GRADES = {"A": (0.45, 0.03), "B": (0.35, 0.17), "C": (0.15, 0.40), "D": (0.05, 0.40)}


def _annotate(table: dict, closed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    out = np.empty(len(closed), dtype=object)
    for cls, col in ((1, 0), (0, 1)):
        p = np.array([v[col] for v in table.values()])
        rows = np.flatnonzero(closed == cls)
        out[rows] = keys[rng.choice(len(keys), len(rows), p=p / p.sum())]
    return out


def sales_annotations(closed: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """A sales team's notes on each lead, written as the deal played out."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sales_tag": _annotate(SALES_TAGS, closed, rng),
            "lead_grade": _annotate(GRADES, closed, rng),
        }
    )


def _write_config(source: str, data: Path, folder: Path, name: str, old: str) -> Path:
    text = (EXPERIMENTS / source).read_text(encoding="utf-8").replace(old, str(data))
    text = text.replace("../../data/external/olist_funnel/", f"{OLIST}/")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def telco_trap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("telco_trap")
    frame = pd.read_csv(TELCO)
    churned = (frame["Churn"] == "Yes").to_numpy(dtype=int)
    frame.insert(len(frame.columns) - 1, "retention_call_minutes", retention_call_minutes(churned))
    frame.to_csv(folder / "telco_trap.csv", index=False)
    old = "../../data/external/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"
    return _write_config("churn/telco.yaml", folder / "telco_trap.csv", folder, "telco.yaml", old)


@pytest.fixture(scope="module")
def olist_trap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("olist_notes")
    mqls = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    notes = sales_annotations(_olist_closed())
    pd.concat([mqls, notes], axis=1).to_csv(folder / "mqls_notes.csv", index=False)
    old = "../../data/external/olist_funnel/olist_marketing_qualified_leads_dataset.csv"
    return _write_config(
        "lead_conversion/olist.yaml", folder / "mqls_notes.csv", folder, "olist.yaml", old
    )


def _prepare(path: Path, tmp_path: Path, overrides: list[str] | None = None):
    config = load_experiment(path, overrides or [])
    if config.data.generate is not None:  # generate into tmp, never into the repository
        config.data.path = tmp_path / config.data.path.name
    task = ClassificationTask(config)
    return task, task.prepare().info


def _by_kind(record: dict) -> dict[tuple[str, str], dict]:
    return {(f["column"], f["kind"]): f for f in record["flags"]}


# --- the traps are realistic: value checks alone miss them -----------------------------


def test_the_telco_trap_is_noisy_and_missed_by_the_value_checks():
    frame = pd.read_csv(TELCO)
    churned = (frame["Churn"] == "Yes").to_numpy(dtype=int)
    minutes = retention_call_minutes(churned)
    assert 0.75 < roc_auc_score(churned, minutes) < 0.85
    frame = frame.drop(columns="customerID").assign(y=churned, minutes=minutes)
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"], errors="coerce")
    assert find_leaks(frame.drop(columns="Churn"), "y") == []


def _olist_closed() -> np.ndarray:
    mqls = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")
    return mqls["mql_id"].isin(deals["mql_id"]).to_numpy(dtype=int)


def test_the_olist_tags_are_nearly_but_never_quite_one_class():
    closed = _olist_closed()
    notes = sales_annotations(closed).assign(y=closed)
    rates = notes.groupby(notes["sales_tag"].fillna("-"))["y"].agg(["size", "mean"])
    closed_by = rates.loc["closed by sdr"]
    assert 0.95 <= closed_by["mean"] < 1 and closed_by["size"] > 300
    assert rates["mean"].between(0, 1, inclusive="neither").all()  # no tag is one class only
    assert roc_auc_score(notes["y"], notes["sales_tag"].map(rates["mean"]).fillna(0.0)) < 0.95


# --- the traps are caught --------------------------------------------------------------


def test_the_telco_trap_is_flagged_by_the_model_check(telco_trap: Path, tmp_path: Path):
    task, info = _prepare(telco_trap, tmp_path)
    record = info.leakage
    flags = _by_kind(record)
    assert set(flags) == {("retention_call_minutes", "model_lift")}
    flag = flags[("retention_call_minutes", "model_lift")]
    model = flag["model"]
    assert model["lift"] >= lm.LIFT_MIN and model["error_share"] >= lm.ERROR_SHARE_MIN
    assert model["auc_with"] > 0.88 and model["auc_without"] < 0.86
    assert flag["value"] == pytest.approx(model["lift"], abs=1e-3)
    text = flag["evidence"]
    assert f"jumps from {model['auc_without']:.2f} to {model['auc_with']:.2f}" in text
    assert "of the ranking errors the other 19 columns leave" in text
    assert "known when a row is scored?" in text
    assert record["model_check"]["columns"] == 20 and record["model_check"]["rows"] == 5282
    assert flag["action"] == "warned" and "retention_call_minutes" in info.features
    warned = [n for n in task.notes() if n.startswith("leakage warning: ")]
    assert warned == [f"leakage warning: retention_call_minutes (model_lift): {text}"]


def test_the_telco_trap_is_dropped_or_fails_as_configured(telco_trap: Path, tmp_path: Path):
    _, info = _prepare(telco_trap, tmp_path, ["leakage.on_flag=drop"])
    assert "retention_call_minutes" not in info.features
    assert info.excluded["retention_call_minutes"] == "leakage: model_lift"
    with pytest.raises(DataError, match=r"'retention_call_minutes' \(model_lift: with"):
        _prepare(telco_trap, tmp_path, ["leakage.on_flag=fail"])
    _, info = _prepare(
        telco_trap, tmp_path, ["leakage.on_flag=fail", "leakage.allow=[retention_call_minutes]"]
    )
    assert [f["action"] for f in info.leakage["flags"]] == ["allowed"]


def test_the_olist_annotations_are_flagged(olist_trap: Path, tmp_path: Path):
    _, info = _prepare(olist_trap, tmp_path)
    flags = _by_kind(info.leakage)
    assert set(flags) == {("sales_tag", "near_pure_value"), ("lead_grade", "model_lift")}
    tag = flags[("sales_tag", "near_pure_value")]
    assert 0.95 <= tag["value"] < 1
    assert (
        "value 'closed by sdr':" in tag["evidence"]
        and "are positives, against 10." in tag["evidence"]
    )
    odds = float(tag["evidence"].split("at least ")[1].split(" times")[0].replace(",", ""))
    assert odds >= NEAR_PURE_ODDS
    # what the tag adds to a model of the unflagged columns is in its flag and its evidence
    assert tag["model"]["lift"] > 0.03 and "cross-validated ROC-AUC goes from" in tag["evidence"]
    grade = flags[("lead_grade", "model_lift")]
    assert grade["model"]["auc_with"] > 0.85 and grade["model"]["error_share"] > 0.4
    assert "the other 3 columns leave" in grade["evidence"]
    lifts = {x["column"]: x for x in info.leakage["model_check"]["lifts"]}
    assert lifts["sales_tag"]["how"] == "added" and lifts["lead_grade"]["how"] == "removed"


def test_the_model_check_finds_what_the_value_checks_leave(olist_trap: Path, tmp_path: Path):
    """Without the model check the grade is not flagged: the new check is what catches it."""
    config = load_experiment(olist_trap)
    frame = pd.read_csv(config.data.path, parse_dates=["first_contact_date"])
    closed = frame["mql_id"].isin(pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")["mql_id"])
    frame = frame.drop(columns="mql_id").assign(y=closed.astype(int))
    without = scan_leaks(frame, "y", model=False)
    assert {(f.column, f.kind) for f in without.flags} == {("sales_tag", "near_pure_value")}
    assert without.model is None
    found = scan_leaks(frame, "y")
    assert {(f.column, f.kind) for f in found.flags} == {
        ("sales_tag", "near_pure_value"),
        ("lead_grade", "model_lift"),
    }


# --- honest data is left alone -----------------------------------------------------------


@pytest.mark.parametrize("config", SHIPPED)
def test_no_shipped_experiment_is_flagged_by_the_new_checks(config: str, tmp_path: Path):
    _, info = _prepare(EXPERIMENTS / config, tmp_path)
    record = info.leakage
    assert not {f["kind"] for f in record["flags"]} & NEW_KINDS, record["flags"]
    check = record["model_check"]
    assert check is not None and check["columns"] == len(info.features)
    removed = [x for x in check["lifts"] if x["how"] == "removed"]
    assert len(removed) == lm.TOP
    # every column the model leans on most is far from the thresholds
    assert all(x["error_share"] < lm.ERROR_SHARE_MIN for x in removed), removed


def test_telcos_contract_is_strong_but_not_a_leak(tmp_path: Path):
    """Contract alone ranks churners well, yet the model hardly needs it: tenure and the
    services tell the same story. Its two-year value is 97 % stayers, but against a 73 %
    base rate that is nowhere near the odds a sales annotation shows."""
    _, info = _prepare(EXPERIMENTS / "churn/telco.yaml", tmp_path)
    lifts = {x["column"]: x for x in info.leakage["model_check"]["lifts"]}
    assert "Contract" in lifts
    assert lifts["Contract"]["lift"] < lm.LIFT_MIN
    assert lifts["Contract"]["error_share"] < lm.ERROR_SHARE_MIN / 2
    frame = pd.read_csv(TELCO)
    y = (frame["Churn"] == "Yes").astype(int)
    two_year = y[frame["Contract"] == "Two year"]
    assert len(two_year) > 1000 and 1 - two_year.mean() > 0.95  # near pure, yet honest


# --- the near-pure value check on constructed data ----------------------------------------


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 6000
    y = (rng.random(n) < 0.3).astype(int)
    return pd.DataFrame({"y": y, "signal": rng.normal(0, 1, n) + 0.8 * y})


def _with_value(leads: pd.DataFrame, rows: int, share: float, cls: int, seed: int) -> pd.DataFrame:
    """Mark ``rows`` rows "x", ``share`` of them of class ``cls``; every other row "o"."""
    rng = np.random.default_rng(seed)
    hits = round(rows * share)
    same = rng.choice(np.flatnonzero(leads["y"] == cls), hits, replace=False)
    other = rng.choice(np.flatnonzero(leads["y"] != cls), rows - hits, replace=False)
    note = np.full(len(leads), "o", dtype=object)
    note[np.concatenate([same, other])] = "x"
    return leads.assign(note=note)


@pytest.mark.parametrize(
    ("rows", "share", "cls", "flagged"),
    [
        (400, 0.97, 1, True),  # an annotation: 97 % converted against 30 %
        (250, 0.97, 1, False),  # over 250 rows chance allows odds under 20 times the base
        (60, 0.99, 1, False),  # too few rows to call it
        (400, 0.90, 1, False),  # strong, but not nearly one class
        (1500, 0.97, 0, False),  # 97 % non-converted against 70 %: a strong honest value
        (1500, 0.998, 0, True),  # ... at 99.8 % over 1,500 rows the odds are beyond chance
    ],
)
def test_near_pure_values(leads, rows, share, cls, flagged):
    frame = _with_value(leads, rows, share, cls, seed=rows)
    kinds = {f.kind for f in find_leaks(frame, "y") if f.column == "note"}
    assert ("near_pure_value" in kinds) is flagged, kinds
    assert "target_derived" not in kinds


# --- the model check itself --------------------------------------------------------------


def test_column_lift_arithmetic():
    lift = ColumnLift("x", "removed", auc_with=0.95, auc_without=0.80)
    assert lift.lift == pytest.approx(0.15)
    assert lift.error_share == pytest.approx(0.75)
    assert lift.strong
    assert not ColumnLift("x", "removed", 0.99, 0.98).strong  # half the errors, but tiny
    assert not ColumnLift("x", "removed", 0.75, 0.65).strong  # a weak model lifted, not made right


def test_a_strong_column_must_dominate_the_others_unless_they_are_strong_too():
    def check(*lifts: ColumnLift) -> ModelCheck:
        return ModelCheck(
            rows=1000, folds=3, trees=60, columns=("a", "b", "c"), auc=0.95, lifts=lifts
        )

    a = ColumnLift("a", "removed", 0.86, 0.78)  # strong: +0.08, 36 % of the errors
    assert a.strong
    far = ColumnLift("b", "removed", 0.86, 0.85)  # plain: an eighth of a's lift
    assert check(a, far).suspicious(a) and not check(a, far).suspicious(far)
    rival = ColumnLift("b", "removed", 0.86, 0.83)  # plain (18 % of the errors), but 0.03
    assert not rival.strong and not check(a, rival).suspicious(a)
    twin = ColumnLift("b", "removed", 0.86, 0.77)  # a second leak: both flagged
    assert check(a, twin).suspicious(a) and check(a, twin).suspicious(twin)
    added = ColumnLift("a", "added", 0.95, 0.80)  # added columns come with another flag
    assert not check(added).suspicious(added)


def _noisy_leak(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Recorded after the outcome for 80 % of rows: larger for positives, heavily spread."""
    n = len(y)
    return np.where(y == 1, rng.gamma(5, 2, n), rng.gamma(2, 2, n)) * (rng.random(n) < 0.8)


def test_a_leak_does_not_make_an_honest_column_look_decisive():
    """Next to a leak the model is nearly right, so leaving out an honest column removes a
    large share of the few errors left; the check runs again without the leak and the honest
    column, a modest predictor of a weak model, is left alone. A second leak still shows."""
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.random(n) < 0.3).astype(int)
    frame = pd.DataFrame({"honest": rng.normal(size=n) + y, "noise": rng.normal(size=n), "y": y})
    frame["leak"] = _noisy_leak(y, rng)
    scan = scan_leaks(frame, "y")
    assert [(f.column, f.kind) for f in scan.flags] == [("leak", "model_lift")]
    first = {x.column: x for x in scan.rounds[0].lifts}
    assert first["honest"].strong  # would be flagged if judged next to the leak
    assert len(scan.rounds) == 2 and "leak" not in scan.rounds[1].columns
    frame["leak_too"] = _noisy_leak(y, rng)
    scan = scan_leaks(frame, "y")
    assert {(f.column, f.kind) for f in scan.flags} == {
        ("leak", "model_lift"),
        ("leak_too", "model_lift"),
    }
    assert len(scan.rounds) == 3


def test_the_model_check_is_seeded_quiet_and_subsampled(capfd):
    rng = np.random.default_rng(3)
    n = 4000
    y = (rng.random(n) < 0.25).astype(int)
    frame = pd.DataFrame(
        {
            "a": rng.normal(0, 1, n) + y,
            "b": rng.choice(list("pqrs"), n),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "leak": np.where(y == 1, rng.gamma(4, 3, n), rng.gamma(2, 2, n))
            * (rng.random(n) < 0.8),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = model_check(frame, y, list(frame.columns), seed=5, max_rows=3000)
        again = model_check(frame, y, list(frame.columns), seed=5, max_rows=3000, n_jobs=2)
        added = model_check(frame, y, ["a", "b", "when"], ["leak"], seed=5, n_jobs=2)
        serial = model_check(frame, y, ["a", "b", "when"], ["leak"], seed=5, n_jobs=1)
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    assert first is not None and again is not None
    assert first.rows == 3000
    assert first.auc == again.auc and first.lifts == again.lifts  # threads change nothing
    assert added is not None and serial is not None and added.lifts == serial.lifts
    assert [(x.column, x.how) for x in added.lifts][-1] == ("leak", "added")
    assert model_check(frame, y, ["a"]) is None  # one column: nothing to compare
    assert model_check(frame.iloc[:50], y[:50], ["a", "b"]) is None  # too few positives
