"""The bad-input catalogue: configs and data files that ``salesml run`` must refuse cleanly.

Every case goes through the real command line (in-process) and must exit with
code 2 and one paragraph on stderr, no traceback, naming the file (or config),
the key or column and the offending value; it writes nothing but the run's log
file and leaves every input byte for byte as it was. A few awkward inputs are
legitimately accepted (a feature entirely missing or constant is left out with
a note); those cases assert that documented behaviour instead.

Scoring inputs are catalogued in ``tests/scoring/test_bad_score_inputs.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import dry_run, refused_cleanly
from salesml.cli import app

Case = Callable[[Path], tuple[list[str], list[str]]]
"""Builds the inputs in a folder; returns the CLI arguments and the fragments the error names."""


def leads_frame(rows: int = 40, seed: int = 5) -> pd.DataFrame:
    """A small, seeded lead table: id, two features, a date and a yes/no outcome."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(rows)],
            "source": rng.choice(["web", "referral", "event"], rows),
            "employees": rng.integers(1, 500, rows),
            "created_at": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "converted": np.where(np.arange(rows) % 3 == 0, "yes", "no"),
        }
    )


def sales_frame(series: int = 2, months: int = 30, seed: int = 5) -> pd.DataFrame:
    """Monthly sales of a few series in the long format."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2021-01-01", periods=months, freq="MS").strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(series)], months),
            "ds": np.tile(ds, series),
            "y": rng.poisson(50, series * months).astype(float),
        }
    )


def leads_config(**data: Any) -> dict[str, Any]:
    return {
        "name": "bad-inputs",
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "target": "converted",
            "positive": "yes",
            "id": "lead_id",
            **data,
        },
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
    }


def sales_config(**top: Any) -> dict[str, Any]:
    return {
        "name": "bad-sales",
        "task": "forecast",
        "data": {"path": "sales.csv", "id": "unique_id", "time": "ds", "target": "y"},
        "horizon": 3,
        "backtest": {"windows": 1},
        "baselines": ["naive"],
        **top,
    }


def _yaml(folder: Path, config: Any, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _run(folder: Path, config: Any, frame: pd.DataFrame | None = None) -> list[str]:
    """Write ``config`` (and ``frame`` as leads.csv), return ``run`` arguments."""
    if frame is not None:
        frame.to_csv(folder / "leads.csv", index=False)
    return ["run", str(_yaml(folder, config)), "-o", str(folder / "out")]


def _leads(folder: Path, frame: pd.DataFrame, **data: Any) -> list[str]:
    return _run(folder, leads_config(**data), frame)


def _sales(folder: Path, frame: pd.DataFrame, **top: Any) -> list[str]:
    frame.to_csv(folder / "sales.csv", index=False)
    return _run(folder, sales_config(**top))


def _raw(folder: Path, content: bytes, name: str = "leads.csv", **data: Any) -> list[str]:
    (folder / name).write_bytes(content)
    return _run(folder, leads_config(path=name, **data))


# --- configs -----------------------------------------------------------------------------


def config_is_a_list(d: Path):
    return _run(d, [leads_config()]), ["experiment.yaml", "mapping", "list"]


def config_is_empty(d: Path):
    (d / "experiment.yaml").write_text("# nothing yet\n", encoding="utf-8")
    return ["run", str(d / "experiment.yaml")], ["experiment.yaml", "empty"]


def config_is_not_yaml(d: Path):
    (d / "experiment.yaml").write_text("name: x\ndata: {path: [\n", encoding="utf-8")
    return ["run", str(d / "experiment.yaml")], ["experiment.yaml", "not valid YAML", "line"]


def config_not_utf8(d: Path):
    (d / "experiment.yaml").write_bytes(b"name: caf\xe9\ntask: churn\n")
    return ["run", str(d / "experiment.yaml")], ["experiment.yaml", "UTF-8", "byte 9"]


def config_missing(d: Path):
    return ["run", str(d / "nope.yaml")], ["nope.yaml", "not found"]


def config_is_a_folder(d: Path):
    (d / "exp.yaml").mkdir()
    return ["run", str(d / "exp.yaml")], ["exp.yaml", "a folder, not a config file"]


def config_unknown_key(d: Path):
    return _run(d, {**leads_config(), "colour": "red"}), ["experiment.yaml", "colour", "unknown"]


def config_unknown_task(d: Path):
    return _run(d, {**leads_config(), "task": "upsell"}), ["experiment.yaml", "task", "'upsell'"]


def config_wrong_type(d: Path):
    cfg = {**leads_config(), "split": {"test_size": "big"}}
    return _run(d, cfg), ["experiment.yaml", "split.test_size", "'big'"]


def config_bad_seed_type(d: Path):
    cfg = {**leads_config(), "split": {"seed": "forty-two"}}
    return _run(d, cfg), ["experiment.yaml", "split.seed", "'forty-two'"]


def config_metric_cannot_rank(d: Path):
    cfg = {**leads_config(), "evaluation": {"bootstrap": 50, "metric": "accuracy"}}
    return _run(d, cfg), ["experiment.yaml", "evaluation.metric", "'accuracy'", "roc_auc"]


def config_horizon_zero(d: Path):
    return _sales(d, sales_frame(), horizon=0), ["experiment.yaml", "horizon", "got 0"]


def config_bootstrap_too_small(d: Path):
    cfg = {**leads_config(), "evaluation": {"bootstrap": 5}}
    return _run(d, cfg), ["experiment.yaml", "evaluation.bootstrap", "50", "got 5)"]


def config_unknown_candidate(d: Path):
    cfg = {**leads_config(), "models": ["logistic", "deep_forest"]}
    return _run(d, cfg), ["experiment.yaml", "models", "'deep_forest'"]


def config_duplicate_candidates(d: Path):
    cfg = {**leads_config(), "models": ["logistic", "logistic"]}
    return _run(d, cfg), ["experiment.yaml", "unique", "logistic"]


def config_bad_override(d: Path):
    args = _run(d, leads_config(), leads_frame())
    return [*args, "--set", "split.test_size=[0.3"], ["experiment.yaml", "split.test_size", "[0.3"]


def config_level_out_of_range(d: Path):
    return _sales(d, sales_frame(), levels=[80, 120]), ["experiment.yaml", "levels", "120"]


def config_data_path_missing(d: Path):
    return _run(d, leads_config(path="missing.csv")), ["data.path", "missing.csv", "not found"]


def config_data_path_is_a_folder(d: Path):
    (d / "leads.csv").mkdir()
    return _run(d, leads_config()), ["data.path", "leads.csv", "a folder, not a data file"]


# --- data files --------------------------------------------------------------------------


def data_empty_file(d: Path):
    return _raw(d, b""), ["leads.csv", "empty"]


def data_header_only(d: Path):
    return _raw(d, b"lead_id,source,converted\n"), ["leads.csv", "no data rows"]


def data_one_class(d: Path):
    frame = leads_frame().assign(converted="no")
    return _leads(d, frame), ["leads.csv", "'converted'", "one class", "'no'"]


def data_three_classes(d: Path):
    frame = leads_frame()
    frame.loc[frame.index[::4], "converted"] = "maybe"
    return _leads(d, frame), ["leads.csv", "'converted'", "3 distinct values", "'maybe'"]


def data_duplicate_ids(d: Path):
    frame = leads_frame()
    frame.loc[7, "lead_id"] = frame.loc[3, "lead_id"]
    return _leads(d, frame), ["leads.csv", "lead_id", "unique", "L0003"]


def data_blank_id(d: Path):
    frame = leads_frame().astype({"lead_id": object})
    frame.loc[[5, 9], "lead_id"] = ["", None]
    return _leads(d, frame), ["leads.csv", "'lead_id'", "blank", "data row 6, 10"]


def data_target_missing(d: Path):
    frame = leads_frame().drop(columns="converted")
    return _leads(d, frame), ["leads.csv", "target", "'converted'", "not in the data"]


def data_target_has_blanks(d: Path):
    frame = leads_frame()
    frame.loc[[2, 5], "converted"] = None
    return _leads(d, frame), ["leads.csv", "'converted'", "2 missing values"]


def data_every_feature_missing(d: Path):
    frame = leads_frame()[["lead_id", "converted"]].assign(source=None, employees=np.nan)
    return _leads(d, frame), ["leads.csv", "no feature columns", "source", "entirely missing"]


def data_every_feature_constant(d: Path):
    frame = leads_frame()[["lead_id", "converted"]].assign(source="web", employees=10)
    return _leads(d, frame), ["leads.csv", "no feature columns", "employees", "constant"]


def data_time_not_dates(d: Path):
    frame = leads_frame()
    frame.loc[4, "created_at"] = "last tuesday"
    cfg = {**leads_config(time="created_at"), "split": {"method": "time"}}
    return _run(d, cfg, frame), ["leads.csv", "'created_at'", "'last tuesday'"]


def data_positive_never_occurs(d: Path):
    frame = leads_frame()
    return _leads(d, frame, positive="won"), ["leads.csv", "'won'", "'converted'"]


def data_ten_mb_line(d: Path):
    frame = leads_frame()
    frame.to_csv(d / "leads.csv", index=False)
    line = f"L9999,web,{'9' * 10_000_000},2024-03-01,no"
    with open(d / "leads.csv", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return _run(d, leads_config()), ["leads.csv", "line 42", f"{len(line):,} bytes"]


def data_not_utf8_declared_utf8(d: Path):
    text = leads_frame().to_csv(index=False).encode("utf-8")
    bad = text.replace(b"referral", b"r\xe9f\xe9rral", 1)
    line = text[: text.index(b"referral")].count(b"\n") + 1
    args = _raw(d, bad, read={"encoding": "utf-8"})
    return args, ["leads.csv", "utf-8", "0xe9", f"line {line}", "data.read.encoding"]


def data_binary_file(d: Path):
    rng = np.random.default_rng(3)
    blob = b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    return _raw(d, blob), ["leads.csv", "binary", "not a CSV"]


def data_parquet_named_csv(d: Path):
    leads_frame().to_parquet(d / "real.parquet", index=False)
    return _raw(d, (d / "real.parquet").read_bytes()), ["leads.csv", "Parquet", "rename"]


def data_text_named_parquet(d: Path):
    return _raw(d, leads_frame().to_csv(index=False).encode(), "leads.parquet"), [
        "leads.parquet",
        "Parquet",
    ]


def data_unsupported_suffix(d: Path):
    return _raw(d, b'[{"a": 1}]', "leads.json"), ["leads.json", "'.json'", ".csv"]


def data_excel_missing_sheet(d: Path):
    leads_frame().to_excel(d / "leads.xlsx", index=False, sheet_name="Leads")
    args = _run(d, leads_config(path="leads.xlsx", read={"sheet": "2024"}))
    return args, ["leads.xlsx", "'2024'", "'Leads'"]


def data_broken_quote(d: Path):
    text = leads_frame().to_csv(index=False).replace("referral", '"referral', 1)
    return _raw(d, text.encode()), ["leads.csv", "cannot be parsed"]


def data_drop_column_missing(d: Path):
    return _leads(d, leads_frame(), drop=["phone"]), ["leads.csv", "drop", "'phone'"]


def data_label_from_file_missing(d: Path):
    frame = leads_frame().drop(columns="converted")
    label_from = {"path": "won.csv", "key": "lead_id"}
    return _leads(d, frame, label_from=label_from), ["won.csv", "not found", "data.label_from"]


def data_label_from_key_missing(d: Path):
    frame = leads_frame().drop(columns="converted")
    pd.DataFrame({"deal": ["D1"], "lead": ["L0001"]}).to_csv(d / "won.csv", index=False)
    label_from = {"path": "won.csv", "key": "lead_id"}
    return _leads(d, frame, label_from=label_from), ["won.csv", "lead_id", "data.label_from"]


def sales_dates_do_not_parse(d: Path):
    frame = sales_frame()
    frame.loc[5, "ds"] = "2021-13-01"
    return _sales(d, frame), ["sales.csv", "'ds'", "'2021-13-01'", "row 6"]


def sales_duplicate_pairs(d: Path):
    frame = sales_frame()
    frame = pd.concat([frame, frame.iloc[[3]]])
    return _sales(d, frame), ["sales.csv", "'s0'", "2021-04-01", "repeat"]


def sales_mixed_types_in_target(d: Path):
    frame = sales_frame().astype({"y": object})
    frame.loc[9, "y"] = "twelve"
    return _sales(d, frame), ["sales.csv", "'y'", "numeric", "'twelve'", "row 10"]


def sales_negative_when_refused(d: Path):
    # returns are kept by default (data.negative: keep); a config may refuse them
    frame = sales_frame()
    frame.loc[31, "y"] = -4.0
    cfg = sales_config()
    cfg["data"]["negative"] = "error"
    frame.to_csv(d / "sales.csv", index=False)
    return _run(d, cfg), ["sales.csv", "negative", "'s1'", "2021-02-01"]


def sales_horizon_too_long(d: Path):
    return _sales(d, sales_frame(months=12), horizon=20), ["sales.csv", "horizon 20", "12 periods"]


def sales_exog_entirely_missing(d: Path):
    frame = sales_frame().assign(promo=np.nan)
    cfg = sales_config()
    cfg["data"]["exog"] = ["promo"]
    frame.to_csv(d / "sales.csv", index=False)
    return _run(d, cfg), ["sales.csv", "exog", "'promo'", "entirely missing"]


def sales_unknown_frequency(d: Path):
    cfg = sales_config()
    cfg["data"]["freq"] = "fortnightly"
    sales_frame().to_csv(d / "sales.csv", index=False)
    return _run(d, cfg), ["sales.csv", "data.freq", "'fortnightly'"]


def inspect_a_binary_file(d: Path):
    (d / "export.csv").write_bytes(b"id,name\n1,\x00\x00\x00\n")
    return ["data", "inspect", str(d / "export.csv")], ["export.csv", "binary", "NUL byte"]


CASES: dict[str, Case] = {
    f.__name__: f
    for f in (
        config_is_a_list,
        config_is_empty,
        config_is_not_yaml,
        config_not_utf8,
        config_missing,
        config_is_a_folder,
        config_unknown_key,
        config_unknown_task,
        config_wrong_type,
        config_bad_seed_type,
        config_metric_cannot_rank,
        config_horizon_zero,
        config_bootstrap_too_small,
        config_unknown_candidate,
        config_duplicate_candidates,
        config_bad_override,
        config_level_out_of_range,
        config_data_path_missing,
        config_data_path_is_a_folder,
        data_empty_file,
        data_header_only,
        data_one_class,
        data_three_classes,
        data_duplicate_ids,
        data_blank_id,
        data_target_missing,
        data_target_has_blanks,
        data_every_feature_missing,
        data_every_feature_constant,
        data_time_not_dates,
        data_positive_never_occurs,
        data_ten_mb_line,
        data_not_utf8_declared_utf8,
        data_binary_file,
        data_parquet_named_csv,
        data_text_named_parquet,
        data_unsupported_suffix,
        data_excel_missing_sheet,
        data_broken_quote,
        data_drop_column_missing,
        data_label_from_file_missing,
        data_label_from_key_missing,
        sales_dates_do_not_parse,
        sales_duplicate_pairs,
        sales_mixed_types_in_target,
        sales_negative_when_refused,
        sales_horizon_too_long,
        sales_exog_entirely_missing,
        sales_unknown_frequency,
        inspect_a_binary_file,
    )
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_refused_cleanly(case: str, tmp_path: Path, tracking: str):
    args, fragments = CASES[case](tmp_path)
    refused_cleanly(args, fragments, tmp_path)


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 30


# --- inputs that are accepted, with a note -------------------------------------------------


def test_a_feature_entirely_missing_is_left_out_with_a_note(tmp_path: Path):
    frame = leads_frame().assign(budget=np.nan)
    out = dry_run(_leads(tmp_path, frame))
    assert "left out: budget (entirely missing)" in out
    assert "3 features" in out


def test_constant_features_are_left_out_with_a_note(tmp_path: Path):
    frame = leads_frame().assign(region="EU", plan_tier=3)
    out = dry_run(_leads(tmp_path, frame))
    assert "left out: region (constant: every row is 'EU')" in out
    assert "left out: plan_tier (constant: every row is 3)" in out
    assert "3 features" in out


def test_a_column_of_mixed_text_and_numbers_is_a_category(tmp_path: Path):
    """A CRM column like "employees" holding '12' and '50-200' is read as categories."""
    frame = leads_frame().astype({"employees": object})
    frame.loc[::2, "employees"] = "50-200"
    out = dry_run(_leads(tmp_path, frame))
    assert "3 features" in out and "left out" not in out
    inspect = CliRunner().invoke(app, ["data", "inspect", str(tmp_path / "leads.csv")])
    assert inspect.exit_code == 0
    row = next(ln for ln in inspect.stdout.splitlines() if ln.startswith("employees "))
    assert row.split()[1] == "categorical"
