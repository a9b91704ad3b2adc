"""The label catalogue: targets from CRM stages and class counts, through the real command line.

Every refused case goes through ``salesml run`` in-process and must exit with
code 2 and one paragraph on stderr, no traceback, naming the file (data or
config), the key or column and the offending value; it writes nothing but the
run's log file and leaves every input byte for byte as it was (the pattern of
``tests/test_bad_inputs.py``). The accepted cases, a pipeline export whose
stage column holds ``Won``, ``Lost`` and open stages, assert the counts the
dry run prints, and one end-to-end run asserts them in ``summary.json``, then
scores the open deals with the exported model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import dry_run, refused_cleanly, snapshot
from salesml.cli import app

Case = Callable[[Path], tuple[list[str], list[str]]]
OPEN = ("Engaging", "Prospecting")
CODES = {"Won": 1, "Lost": 0}  # stage codes of a numeric export; open deals are 2


def deals_frame(rows: int = 300, seed: int = 8, open_share: float = 0.3) -> pd.DataFrame:
    """A seeded opportunity export: won and lost deals, and open ones (Engaging, Prospecting)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    closed = np.where(rng.random(rows) < 1 / (1 + np.exp(-1.5 * x)), "Won", "Lost")
    still = rng.choice(OPEN, rows)
    return pd.DataFrame(
        {
            "deal_id": [f"D{i:05d}" for i in range(rows)],
            "amount": np.round(np.exp(7 + 0.5 * x + rng.normal(0, 0.5, rows)), 2),
            "segment": rng.choice(["smb", "mid", "ent"], rows),
            "stage": np.where(rng.random(rows) < open_share, still, closed),
        }
    )


def leads_frame(rows: int, positives: int, seed: int = 8) -> pd.DataFrame:
    """A lead table with exactly ``positives`` converted leads, spread through the file."""
    rng = np.random.default_rng(seed)
    converted = np.full(rows, "no", dtype=object)
    converted[np.linspace(0, rows - 1, positives).astype(int)] = "yes"
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(rows)],
            "employees": rng.integers(1, 500, rows),
            "source": rng.choice(["web", "referral", "event"], rows),
            "converted": converted,
        }
    )


def config(path: str = "deals.csv", target: str = "stage", **data: Any) -> dict[str, Any]:
    return {
        "name": "bad-labels",
        "task": "lead_conversion",
        "data": {"path": path, "target": target, "id": _id(path), **data},
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }


def _id(path: str) -> str:
    return "lead_id" if path.startswith("leads") else "deal_id"


def _args(folder: Path, cfg: dict[str, Any], frame: pd.DataFrame | None = None) -> list[str]:
    """Write ``cfg`` (and ``frame`` as its data file); the ``run`` arguments."""
    if frame is not None:
        frame.to_csv(folder / cfg["data"]["path"], index=False)
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return ["run", str(path), "-o", str(folder / "out")]


def _deals(folder: Path, frame: pd.DataFrame | None = None, **data: Any) -> list[str]:
    return _args(folder, config(**data), deals_frame() if frame is None else frame)


def _leads(folder: Path, frame: pd.DataFrame, models: list[Any] | None = None, **data: Any):
    cfg = config("leads.csv", "converted", positive="yes", **data)
    if models is not None:
        cfg["models"] = models
    return _args(folder, cfg, frame)


# --- labels from stages -------------------------------------------------------------------


def stages_without_negative(d: Path):
    return _deals(d, positive="Won"), [
        "deals.csv",
        "'stage'",
        "4 distinct values",
        "'Engaging'",
        "data.negative",
    ]


def two_positive_stages_without_negative(d: Path):
    return _deals(d, positive=["Won", "Engaging"]), ["deals.csv", "'stage'", "data.negative"]


def positive_stage_never_occurs(d: Path):
    return _deals(d, positive=["Won", "Closed Won"], negative="Lost"), [
        "deals.csv",
        "data.positive",
        "'Closed Won'",
        "'stage'",
        "never occurs",
        "'Lost' (",  # the values present, with their rows
    ]


def negative_stage_never_occurs(d: Path):
    return _deals(d, positive="Won", negative=["Lost", "Closed Lost"]), [
        "deals.csv",
        "data.negative",
        "'Closed Lost'",
        "'stage'",
    ]


def stage_in_the_wrong_case(d: Path):
    return _deals(d, positive="won", negative="Lost"), [
        "deals.csv",
        "'won'",
        "'stage'",
        "did you mean 'Won'?",
    ]


def numeric_code_never_occurs(d: Path):
    frame = deals_frame().assign(stage=lambda f: f["stage"].map(CODES).fillna(2).astype(int))
    return _deals(d, frame, positive=1, negative=[0, 3]), [
        "deals.csv",
        "negative label 3 never occurs in target column 'stage'",
        "data.negative",
        "'0' (",
    ]


def every_value_positive(d: Path):
    frame = deals_frame()
    frame["stage"] = np.where(frame["stage"] == "Won", "Won", "Closed Won")
    return _deals(d, frame, positive=["Won", "Closed Won"]), [
        "deals.csv",
        "'stage'",
        "no row would count as 0",
    ]


def blank_target_without_negative(d: Path):
    frame = deals_frame()
    frame["stage"] = np.where(frame["stage"] == "Won", "Won", "Lost")
    frame.loc[[3, 7, 11], "stage"] = None
    return _deals(d, frame, positive="Won"), [
        "deals.csv",
        "'stage'",
        "3 missing values (e.g. data row 4)",
        "data.negative",
    ]


# --- the config -----------------------------------------------------------------------------


def positive_and_negative_overlap(d: Path):
    return _deals(d, positive=["Won", "Lost"], negative="Lost"), [
        "experiment.yaml",
        "data",
        "both name 'Lost'",
    ]


def number_and_text_overlap(d: Path):
    return _deals(d, positive=1, negative=["0", "1"]), ["experiment.yaml", "data", "both name 1"]


def negative_without_positive(d: Path):
    return _deals(d, negative="Lost"), [
        "experiment.yaml",
        "data",
        "'Lost'",
        "positive is not given",
    ]


def empty_positive_list(d: Path):
    return _deals(d, positive=[], negative="Lost"), ["experiment.yaml", "data", "positive", "empty"]


def stage_named_twice(d: Path):
    return _deals(d, positive=["Won", "Won"], negative="Lost"), [
        "experiment.yaml",
        "'Won'",
        "more than once",
    ]


def negative_with_label_from(d: Path):
    (d / "closed.csv").write_text("deal_id\nD00001\n", encoding="utf-8")
    cfg = config(target="won", positive=1, negative=0)
    cfg["data"]["label_from"] = {"path": "closed.csv", "key": "deal_id"}
    return _args(d, cfg, deals_frame()), ["experiment.yaml", "negative", "label_from"]


# --- class counts -------------------------------------------------------------------------


def three_positives_in_five_thousand(d: Path):
    return _leads(d, leads_frame(5000, 3)), [
        "leads.csv",
        "'converted'",
        "3 positive rows (converted = yes) in 5,000",
        "2 in the training part, 1 in the test part",
        "5-fold calibration of `logistic` needs at least 5",
    ]


def too_few_for_a_ten_fold_search(d: Path):
    search = {"type": "logistic", "calibration": "none", "search": {"n_trials": 2, "cv": 10}}
    return _leads(d, leads_frame(800, 12), [search]), [
        "leads.csv",
        "'converted'",
        "12 positive rows (converted = yes) in 800",
        "10-fold search of `logistic` needs at least 10",
    ]


def too_few_lost_deals(d: Path):
    frame = deals_frame(2000)
    lost = np.flatnonzero(frame["stage"] == "Lost")
    frame.loc[lost[4:], "stage"] = "Won"  # four lost deals left
    return _deals(d, frame, positive="Won", negative="Lost"), [
        "deals.csv",
        "'stage'",
        "4 negative rows (stage = Lost)",
        "open left out",
        "needs at least 5",
    ]


def too_few_won_once_open_deals_are_left_out(d: Path):
    frame = deals_frame(1200, open_share=0.0)
    won = np.flatnonzero(frame["stage"] == "Won")
    frame.loc[won[3:], "stage"] = "Engaging"  # three won; every other winner still open
    n_closed = int(frame["stage"].isin(["Won", "Lost"]).sum())
    return _deals(d, frame, positive="Won", negative="Lost"), [
        "deals.csv",
        f"3 positive rows (stage = Won) in {n_closed:,} labelled rows",
        f"({len(frame) - n_closed:,} open left out)",
    ]


CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        stages_without_negative,
        two_positive_stages_without_negative,
        positive_stage_never_occurs,
        negative_stage_never_occurs,
        stage_in_the_wrong_case,
        numeric_code_never_occurs,
        every_value_positive,
        blank_target_without_negative,
        positive_and_negative_overlap,
        number_and_text_overlap,
        negative_without_positive,
        empty_positive_list,
        stage_named_twice,
        negative_with_label_from,
        three_positives_in_five_thousand,
        too_few_for_a_ten_fold_search,
        too_few_lost_deals,
        too_few_won_once_open_deals_are_left_out,
    )
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_labels_are_refused_cleanly(case: str, tmp_path: Path, tracking: str):
    args, fragments = CASES[case](tmp_path)
    refused_cleanly(args, fragments, tmp_path)


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 12


# --- accepted: the dry run shows the counts -----------------------------------------------


def test_won_against_lost_leaves_open_deals_out(tmp_path: Path):
    frame = deals_frame()
    out = dry_run(_deals(tmp_path, frame, positive="Won", negative="Lost"))
    counts = frame["stage"].value_counts()
    opened = counts[list(OPEN)].sort_values(ascending=False, kind="stable")
    assert (
        f"labels: {counts['Won']} positive (stage = Won), {counts['Lost']} negative "
        f"(stage = Lost); {opened.sum()} open rows left out of training and evaluation "
        f"('{opened.index[0]}' ({opened.iloc[0]}), '{opened.index[1]}' ({opened.iloc[1]}))"
    ) in out
    train, test = (int(v.replace(",", "")) for v in _sizes(out))
    assert train + test == counts["Won"] + counts["Lost"]
    assert f"small data: {counts['Won'] + counts['Lost']} labelled rows" in out


def test_several_stages_per_class_and_blank_stages(tmp_path: Path):
    frame = deals_frame()
    frame.loc[frame.index[::10], "stage"] = (
        frame["stage"].iloc[::10].replace({"Won": "Closed Won", "Lost": "Closed Lost"})
    )
    frame.loc[[1, 2], "stage"] = None
    won = int(frame["stage"].isin(["Won", "Closed Won"]).sum())
    lost = int(frame["stage"].isin(["Lost", "Closed Lost"]).sum())
    args = _deals(tmp_path, frame, positive=["Won", "Closed Won"], negative=["Lost", "Closed Lost"])
    out = dry_run(args)
    assert f"labels: {won} positive (stage in Won, Closed Won), {lost} negative" in out
    assert "(blank) (2)" in out


def test_numeric_stage_codes(tmp_path: Path):
    frame = deals_frame().assign(stage=lambda f: f["stage"].map(CODES).fillna(2).astype(int))
    out = dry_run(_deals(tmp_path, frame, positive="1", negative=0))
    n_open = int((frame["stage"] == 2).sum())
    assert f"{n_open} open rows left out" in out and f"'2' ({n_open})" in out


def _sizes(out: str) -> tuple[str, str]:
    head = out.split("split: ", 1)[1]
    train = head.split("train ", 1)[1].split(" rows", 1)[0]
    test = head.split("test ", 1)[1].split(" rows", 1)[0]
    return train, test


# --- end to end: a run, its summary, and scoring the open deals ---------------------------


def test_a_pipeline_export_runs_and_counts_open_deals(tmp_path: Path, tracking: str):
    frame = deals_frame(600, seed=12)
    args = _deals(tmp_path, frame, positive="Won", negative="Lost")
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    data = summary["data"]
    counts = frame["stage"].value_counts()
    closed = int(counts["Won"] + counts["Lost"])
    assert data["rows"] == len(frame)
    assert data["open_rows"] == int(counts[list(OPEN)].sum()) == len(frame) - closed
    assert data["open_values"] == {k: int(counts[k]) for k in data["open_values"]}
    assert set(data["open_values"]) == set(OPEN)
    assert data["labels"] == {
        "target": "stage",
        "positive": ["Won"],
        "negative": ["Lost"],
        "positive_rows": int(counts["Won"]),
        "negative_rows": int(counts["Lost"]),
    }
    assert data["train_rows"] + data["test_rows"] == closed
    assert sum(data["class_rows"]["test"].values()) == data["test_rows"]
    assert data["warnings"] and data["warnings"][0].startswith(f"small data: {closed} labelled")
    assert f"{data['open_rows']} open rows left out" in " ".join(result.stdout.split())
    assert {c["name"]: c["status"] for c in summary["candidates"]} == {
        "prior": "ok",
        "logistic": "ok",
    }
    # the test predictions are closed deals only, keyed by their row in the file
    preds = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    rows = frame.iloc[preds["row"].unique()]
    assert rows["stage"].isin(["Won", "Lost"]).all()
    assert len(rows) == data["test_rows"]
    assert after_is_unchanged(before, snapshot(tmp_path))
    # scoring takes every row: open deals, and a file without the stage column
    uri = next(c["model_uri"] for c in summary["candidates"] if c["name"] == "logistic")
    open_deals = frame[frame["stage"].isin(OPEN)]
    for name, rows_in in (("open.csv", open_deals), ("new.csv", open_deals.drop(columns="stage"))):
        rows_in.to_csv(tmp_path / name, index=False)
        out = tmp_path / f"scored_{name}"
        scored = CliRunner().invoke(
            app, ["score", "-m", uri, "-i", str(tmp_path / name), "-o", str(out)]
        )
        assert scored.exit_code == 0, (scored.output, scored.exception)
        scores = pd.read_csv(out)
        assert scores["deal_id"].tolist() == open_deals["deal_id"].tolist()
        assert scores["probability"].between(0, 1).all()
    # the hand-over card says what was left out and that the data is small
    exported = CliRunner().invoke(app, ["export", "-m", uri, "--to", str(tmp_path / "handover")])
    assert exported.exit_code == 0, (exported.output, exported.exception)
    card = " ".join((tmp_path / "handover" / "MODEL_CARD.md").read_text(encoding="utf-8").split())
    assert f"left out: {data['open_rows']:,} rows whose outcome is still open" in card
    assert "small data:" in card


def after_is_unchanged(before: dict[str, str], after: dict[str, str]) -> bool:
    """Every input file is byte for byte as it was (the run adds only its outputs)."""
    return {k: after.get(k) for k in before} == before
