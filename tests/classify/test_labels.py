"""Labels from CRM stages, class counts before fitting, small-data warnings (unit tests).

:func:`salesml.classify.labels.map_labels`, :mod:`salesml.classify.class_counts`
and the config keys ``data.positive`` / ``data.negative``; the command-line
catalogue is ``tests/classify/test_bad_labels.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from salesml.classify.class_counts import (
    RELIABLE_MINORITY,
    RELIABLE_ROWS,
    check_class_counts,
    class_rows,
    fold_needs,
    small_data_warnings,
)
from salesml.classify.config import label_key
from salesml.classify.labels import map_labels, value_counts
from salesml.classify.prepare import prepare_rows
from salesml.errors import ConfigError, DataError
from salesml.experiment.config import parse_experiment
from salesml.experiment.evaluation import MIN_UNITS
from salesml.experiment.results import ClassificationData, ExperimentInfo, Summary

STAGES = ["Won", "Lost", "Engaging", "Prospecting"]


def stages(n: int = 400, seed: int = 3, open_share: float = 0.3) -> pd.Series:
    """A seeded pipeline stage column: about ``open_share`` open, the rest won or lost."""
    rng = np.random.default_rng(seed)
    closed = np.where(rng.random(n) < 0.4, "Won", "Lost")
    still = np.where(rng.random(n) < 0.5, "Engaging", "Prospecting")
    return pd.Series(np.where(rng.random(n) < open_share, still, closed), name="stage")


def config(**data: Any) -> Any:
    """A validated lead-conversion config (not read from a file)."""
    raw = {
        "name": "labels",
        "task": "lead_conversion",
        "data": {"path": "deals.csv", "target": "stage", **data},
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }
    return parse_experiment(raw, "labels.yaml")


# --------------------------------------------------------------------------- label_key


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, "1"), (1, 1.0), (True, 1), ("true", True), ("FALSE", 0), (np.int64(3), "3.0")],
)
def test_numbers_and_booleans_compare_as_numbers(a, b):
    assert label_key(a) == label_key(b)


@pytest.mark.parametrize(("a", "b"), [("Won", "won"), ("Won", "Won "), ("1", "one"), ("nan", 0)])
def test_text_compares_exactly(a, b):
    assert label_key(a) != label_key(b)


# --------------------------------------------------------------------------- the mapping


def test_won_against_lost_leaves_open_deals_out_and_counts_them():
    values = stages()
    labels = map_labels(values, "Won", "Lost", "deals.csv")
    counts = values.value_counts()
    assert labels.positive_rows == counts["Won"] and labels.negative_rows == counts["Lost"]
    assert labels.open_rows == counts["Engaging"] + counts["Prospecting"]
    assert labels.open_values == {
        k: int(counts[k]) for k in sorted(["Engaging", "Prospecting"], key=lambda k: -counts[k])
    }
    # the kept rows are exactly the closed ones, in file order, labelled 1 when won
    assert np.array_equal(labels.kept, np.flatnonzero(values.isin(["Won", "Lost"])))
    assert np.array_equal(labels.y, (values.iloc[labels.kept] == "Won").to_numpy().astype(int))
    assert labels.record() == {
        "target": "stage",
        "positive": ["Won"],
        "negative": ["Lost"],
        "positive_rows": counts["Won"],
        "negative_rows": counts["Lost"],
    }
    line = labels.line()
    assert f"{labels.open_rows:,} open rows left out" in line and "'Engaging'" in line


def test_several_values_make_a_class():
    values = pd.Series(["Won", "Closed Won", "Lost", "Closed Lost", "Open", "Won"], name="stage")
    labels = map_labels(values, ["Won", "Closed Won"], ["Lost", "Closed Lost"], "f.csv")
    assert labels.y.tolist() == [1, 1, 0, 0, 1]
    assert labels.kept.tolist() == [0, 1, 2, 3, 5]
    assert labels.open_values == {"Open": 1}
    assert labels.describe(1) == "stage in Won, Closed Won"


def test_blank_targets_are_open_when_negative_is_given():
    values = pd.Series(["Won", None, "Lost", np.nan, "Won"], name="stage")
    labels = map_labels(values, "Won", "Lost", "f.csv")
    assert labels.open_values == {"(blank)": 2}
    assert labels.y.tolist() == [1, 0, 1]


def test_numeric_and_boolean_columns_match_configured_values():
    codes = pd.Series([1, 0, 2, 1, 0, 2], name="status")  # 2: still open
    labels = map_labels(codes, "1", [0], "f.csv")
    assert labels.y.tolist() == [1, 0, 1, 0] and labels.open_values == {"2": 2}
    flags = pd.Series([True, False, True], name="churned")
    assert map_labels(flags, "true", None, "f.csv").y.tolist() == [1, 0, 1]
    assert map_labels(flags, None, None, "f.csv").y.tolist() == [1, 0, 1]


def test_without_negative_everything_not_positive_is_zero():
    values = pd.Series(["yes", "no", "no", "yes"], name="converted")
    labels = map_labels(values, "yes", None, "f.csv")
    assert labels.y.tolist() == [1, 0, 0, 1] and labels.open_rows == 0
    assert labels.line() is None  # nothing to say: today's behaviour
    assert labels.record()["negative"] is None and labels.describe(0) == "converted = no"
    two = map_labels(
        pd.Series(["Won", "Closed Won", "Lost"], name="s"), ["Won", "Closed Won"], None, "f"
    )
    assert two.y.tolist() == [1, 1, 0] and two.describe(0) == "s = Lost"


@pytest.mark.parametrize(
    ("positive", "negative", "fragments"),
    [
        ("Won", None, ["'stage'", "4 distinct values", "must be binary", "data.negative"]),
        (["Won", "Engaging"], None, ["'stage'", "4 distinct values", "data.negative"]),
        ("Closed Won", "Lost", ["'Closed Won'", "never occurs", "data.positive", "'Lost' ("]),
        ("Won", ["Lost", "Closed Lost"], ["'Closed Lost'", "data.negative", "never occurs"]),
        ("won", "Lost", ["'won'", "did you mean 'Won'?"]),
    ],
)
def test_refusals_name_the_file_column_and_value(positive, negative, fragments):
    with pytest.raises(DataError) as info:
        map_labels(stages(), positive, negative, "deals.csv")
    message = str(info.value)
    assert message.startswith("deals.csv: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_values_present_are_listed_most_frequent_first_and_truncated():
    values = pd.Series([f"s{i}" for i in range(12) for _ in range(12 - i)], name="stage")
    counts = value_counts(values)
    assert list(counts) == [f"s{i}" for i in range(12)]
    with pytest.raises(DataError) as info:
        map_labels(values, "Won", "s1", "deals.csv")
    message = str(info.value)
    assert "'s0' (12), 's1' (11)" in message and "and 4 more" in message
    assert "'s9'" not in message


def test_every_value_positive_is_one_class():
    with pytest.raises(DataError, match="no row would count as 0"):
        map_labels(pd.Series(["Won", "Closed Won"], name="s"), ["Won", "Closed Won"], None, "f")


# --------------------------------------------------------------------------- the config


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"positive": "Won", "negative": ["Lost", "Won"]}, "both name 'Won'"),
        ({"positive": 1, "negative": "1"}, "both name 1"),
        ({"positive": [], "negative": "Lost"}, "positive: the list is empty"),
        ({"negative": "Lost"}, "positive is not given"),
        ({"positive": ["Won", "Won"]}, "'Won' is named more than once"),
        (
            {"positive": 1, "negative": 0, "label_from": {"path": "d.csv", "key": "id"}},
            "label_from",
        ),
    ],
)
def test_config_refuses_overlapping_or_empty_labels(data, fragment):
    with pytest.raises(ConfigError) as info:
        config(**data)
    assert "labels.yaml: data" in str(info.value) and fragment in str(info.value)


def test_config_keeps_the_yaml_types():
    cfg = config(positive=["Won", True], negative=[0, "Lost", 2.5])
    assert cfg.data.positive == ["Won", True] and type(cfg.data.positive[1]) is bool
    assert [type(v) for v in cfg.data.negative] == [int, str, float]


# --------------------------------------------------------------------------- class counts


def _labels(pos: int, neg: int) -> Any:
    values = pd.Series(["yes"] * pos + ["no"] * neg, name="converted")
    return map_labels(values, "yes", None, "f.csv")


def test_fold_needs_follow_the_candidates():
    cfg = config(positive="Won")
    assert [(n.candidate, n.what, n.folds) for n in fold_needs(cfg)] == [
        ("logistic", "calibration", 5)
    ]
    raw = cfg.model_dump(mode="json", by_alias=True)
    raw["models"] = [
        {"type": "logistic", "calibration": "none"},
        {"type": "lightgbm", "calibration": "none", "search": {"n_trials": 2, "cv": 4}},
    ]
    needs = fold_needs(parse_experiment(raw))
    assert [(n.candidate, n.what, n.folds) for n in needs] == [("lightgbm", "search", 4)]
    raw["models"] = [{"type": "logistic", "calibration": "none"}]
    assert fold_needs(parse_experiment(raw)) == []


def test_too_few_positives_for_the_folds_are_refused_with_the_counts():
    labels = _labels(3, 4997)
    rows = {"train": {"positive": 2, "negative": 3748}, "test": {"positive": 1, "negative": 1249}}
    with pytest.raises(DataError) as info:
        check_class_counts(labels, rows, config(positive="Won"), "leads.csv")
    message = str(info.value)
    assert message.startswith("leads.csv: target column 'converted'")
    assert "3 positive rows (converted = yes) in 5,000" in message
    assert "2 in the training part, 1 in the test part" in message
    assert "5-fold calibration of `logistic` needs at least 5" in message
    assert "negative rows" not in message  # only the short class is named


def test_enough_rows_for_the_folds_pass_and_are_counted():
    rows = class_rows(np.array([1] * 5 + [0] * 30), np.array([1, 0, 0]))
    assert rows == {
        "train": {"positive": 5, "negative": 30},
        "test": {"positive": 1, "negative": 2},
    }
    check_class_counts(_labels(6, 32), rows, config(positive="Won"), "leads.csv")  # no error
    short = {"train": {"positive": 4, "negative": 30}, "test": rows["test"]}
    with pytest.raises(DataError, match="4 in the training part"):
        check_class_counts(_labels(5, 32), short, config(positive="Won"), "leads.csv")


def test_baselines_alone_need_no_folds():
    raw = config(positive="Won").model_dump(mode="json", by_alias=True)
    raw["models"] = []
    rows = {"train": {"positive": 1, "negative": 30}, "test": {"positive": 1, "negative": 9}}
    check_class_counts(_labels(2, 39), rows, parse_experiment(raw), "leads.csv")


# --------------------------------------------------------------------------- small data


def test_small_data_warns_once_with_the_numbers():
    labels = _labels(45, 555)
    rows = class_rows(np.array([1] * 34 + [0] * 416), np.array([1] * 11 + [0] * 139))
    (line,) = small_data_warnings(labels, rows, config(positive="Won"))
    assert line.startswith("small data: 600 labelled rows, 45 of them positive (converted = yes)")
    assert f"{RELIABLE_ROWS:,} rows with {RELIABLE_MINORITY}" in line and "Salesforce" in line
    assert "test part" not in line  # 11 and 139 test rows: enough for a CI


def test_a_test_part_too_small_for_a_ci_is_part_of_the_warning():
    labels = _labels(200, 1800)
    rows = {"train": {"positive": 195, "negative": 1700}, "test": {"positive": 5, "negative": 100}}
    (line,) = small_data_warnings(labels, rows, config(positive="Won"))
    assert "labelled rows" not in line  # 2,000 rows and 200 positives are enough
    assert f"the test part has 5 positive rows, fewer than the {MIN_UNITS}" in line


def test_enough_data_gives_no_warning():
    labels = _labels(RELIABLE_MINORITY, RELIABLE_ROWS - RELIABLE_MINORITY)
    rows = {"train": {"positive": 90, "negative": 660}, "test": {"positive": 30, "negative": 220}}
    assert small_data_warnings(labels, rows, config(positive="Won")) == []


# --------------------------------------------------------------------------- prepare_rows


def _deals(folder: Path, n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "deal_id": [f"D{i:04d}" for i in range(n)],
            "amount": rng.gamma(2.0, 500.0, n).round(2),
            "segment": rng.choice(["smb", "mid", "ent"], n),
            "stage": stages(n, seed),
        }
    )
    frame.to_csv(folder / "deals.csv", index=False)
    return frame


def test_prepare_leaves_open_deals_out_and_keeps_file_positions(tmp_path: Path):
    frame = _deals(tmp_path)
    cfg = config(positive="Won", negative="Lost", id="deal_id")
    cfg.data.path = tmp_path / "deals.csv"
    prepared = prepare_rows(cfg)
    info = prepared.info
    closed = frame["stage"].isin(["Won", "Lost"])
    assert isinstance(info, ClassificationData) and info.rows == len(frame)
    assert info.open_rows == int((~closed).sum()) > 0
    assert info.train_rows + info.test_rows == int(closed.sum())
    assert info.positive_rate == round(float((frame.loc[closed, "stage"] == "Won").mean()), 4)
    assert info.class_rows["test"]["positive"] == int(prepared.y_test.sum())
    # every test row is a closed deal, keyed by its position in the file, labelled right
    keys = prepared.test_keys
    assert frame["stage"].iloc[keys["row"]].isin(["Won", "Lost"]).all()
    assert (frame["deal_id"].iloc[keys["row"]].to_numpy() == keys["deal_id"].to_numpy()).all()
    won = (frame["stage"].iloc[keys["row"]] == "Won").to_numpy().astype(int)
    assert np.array_equal(won, prepared.y_test)
    assert prepared.notes[0].startswith("labels: ") and prepared.notes[1].startswith("small data")
    assert prepared.guard_lines == prepared.notes
    # summary.json's data block carries the labels and the counts
    experiment = ExperimentInfo("x", "lead_conversion", "roc_auc", 0.95)
    summary = Summary(experiment, info, [])
    data = summary.to_dict()["data"]
    assert data["open_rows"] == info.open_rows and data["labels"]["negative"] == ["Lost"]
    assert data["open_values"] == info.open_values and data["class_rows"] == info.class_rows
    # and is read back whole: the tasks' registered data class is this one
    assert Summary.from_dict(summary.to_dict()).data == info


def test_prepare_without_negative_is_unchanged(tmp_path: Path):
    frame = _deals(tmp_path)
    frame["stage"] = np.where(frame["stage"] == "Won", "Won", "Other")
    frame.to_csv(tmp_path / "deals.csv", index=False)
    cfg = config(positive="Won", id="deal_id")
    cfg.data.path = tmp_path / "deals.csv"
    prepared = prepare_rows(cfg)
    assert prepared.info.open_rows == 0 and prepared.info.labels["negative"] is None
    assert prepared.info.train_rows + prepared.info.test_rows == len(frame)
    assert prepared.test_keys["row"].is_monotonic_increasing
    assert not any(n.startswith("labels: ") for n in prepared.notes)


def test_a_class_missing_from_a_part_is_refused_with_the_counts(tmp_path: Path):
    frame = _deals(tmp_path, 400).assign(created=pd.date_range("2025-01-01", periods=400))
    late = frame.index >= 200
    frame.loc[late & (frame["stage"] == "Won"), "stage"] = "Engaging"  # the late deals: none won
    frame.to_csv(tmp_path / "deals.csv", index=False)
    cfg = config(positive="Won", negative="Lost", id="deal_id", time="created")
    cfg = cfg.model_copy(update={"split": cfg.split.model_copy(update={"method": "time"})})
    cfg.data.path = tmp_path / "deals.csv"
    with pytest.raises(DataError) as info:
        prepare_rows(cfg)
    won = int((frame["stage"] == "Won").sum())
    message = str(info.value)
    assert "'stage' has one class only in the test part" in message
    assert "(0 positive, " in message and f"{won:,} positive (stage = Won)" in message


# --- a binary column without data.negative (what binary_target did before) ------------


def _binary(values: pd.Series, positive: object, where: str) -> pd.Series:
    labels = map_labels(values, positive, None, where)
    assert labels.kept.tolist() == list(range(len(values)))  # no row left out
    return pd.Series(labels.y)


def test_binary_column_yes_no_with_positive():
    values = pd.Series(["yes", "no", "no", "yes", "no"], name="churned", index=[10, 11, 12, 13, 14])
    y = _binary(values, "yes", "f.csv")
    assert y.tolist() == [1, 0, 0, 1, 0]


@pytest.mark.parametrize(
    "values",
    [[0, 1, 1, 0], [0.0, 1.0, 1.0, 0.0], [False, True, True, False]],
    ids=["int", "float", "bool"],
)
def test_binary_column_zero_one_without_positive(values):
    assert _binary(pd.Series(values, name="y"), None, "f.csv").tolist() == [0, 1, 1, 0]


def test_binary_column_positive_zero_flips_the_classes():
    assert _binary(pd.Series([0, 1, 1], name="y"), 0, "f.csv").tolist() == [1, 0, 0]


def test_binary_column_positive_as_text_matches_numbers():
    """A quoted ``positive: "1"`` in YAML must still match an integer column."""
    assert _binary(pd.Series([1, 0, 1], name="y"), "1", "f.csv").tolist() == [1, 0, 1]


def _target_error(values: list, positive: object) -> str:
    with pytest.raises(DataError) as info:
        _binary(pd.Series(values, name="Churn"), positive, "where.csv")
    message = str(info.value)
    assert "where.csv" in message and "'Churn'" in message
    return message


def test_binary_column_three_values():
    message = _target_error(["Yes", "No", "Maybe", "No"], "Yes")
    assert "3 distinct" in message and "'Maybe'" in message and "binary" in message


def test_binary_column_positive_never_occurs():
    message = _target_error(["Yes", "No", "No"], "yes")
    assert "'yes'" in message and "never occurs" in message and "Yes" in message


def test_binary_column_text_without_positive_asks_for_it():
    assert "data.positive" in _target_error(["Yes", "No"], None)


def test_binary_column_missing_values():
    message = _target_error(["Yes", None, "No", np.nan], "Yes")
    assert "2 missing" in message
