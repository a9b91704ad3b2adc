"""The leakage guard's detection: each kind on constructed data, the shipped experiments,
the synthetic ``last_stage_reached`` and a real trap built from the Olist closed deals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import ROOT
from salesml.classify.leakage import KINDS, find_leaks
from salesml.classify.ranking import roc_auc
from salesml.classify.task import ClassificationTask
from salesml.errors import ConfigError, DataError
from salesml.experiment.config import load_experiment

OLIST = ROOT / "data" / "external" / "olist_funnel"
EXPERIMENTS = ROOT / "experiments"


def _flags(frame: pd.DataFrame, **kw) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in find_leaks(frame, "y", **kw):
        assert f.kind in KINDS
        out.setdefault(f.column, set()).add(f.kind)
    return out


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    """4,000 rows: a 15 % positive target and columns that carry modest honest signal."""
    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.15).astype(int)
    return pd.DataFrame(
        {
            "y": y,
            "signal": rng.normal(0, 1, n) + 0.8 * y,  # ROC-AUC about 0.72
            "noise": rng.normal(50, 10, n).round(2),
            "segment": rng.choice(list("ABCDE"), n),
            "many_levels": rng.integers(0, 1500, n).astype(str),  # ~3 rows per level
            "flag": rng.random(n) < 0.3,
            "count": rng.poisson(2 + y, n),
        }
    )


def test_roc_auc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    score = rng.integers(0, 7, 500).astype(float) + 0.5 * y
    assert roc_auc(score, y) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert roc_auc(score, np.zeros(500)) == 0.5


def test_honest_columns_raise_no_flag(base):
    assert _flags(base) == {}


def test_a_strong_numeric_column_is_flagged_by_its_single_feature_auc(base):
    rng = np.random.default_rng(2)
    frame = base.assign(amount=base["y"] * 2 + rng.normal(0, 0.75, len(base)))
    flags = find_leaks(frame, "y")
    assert [(f.column, f.kind) for f in flags] == [("amount", "single_feature_auc")]
    assert 0.95 <= flags[0].value < 0.999
    assert "ROC-AUC" in flags[0].evidence
    # The threshold is the config's: above the column's AUC, no flag.
    assert _flags(frame, auc_threshold=0.999) == {}


def test_a_column_missing_exactly_when_the_label_is_0_is_flagged(base):
    rng = np.random.default_rng(3)
    paid = np.where(base["y"] == 1, rng.normal(100, 30, len(base)), np.nan)
    flags = {f.kind: f for f in find_leaks(base.assign(amount_paid=paid), "y")}
    assert set(flags) == {"single_feature_auc", "target_derived"}
    assert flags["single_feature_auc"].value == pytest.approx(1.0)
    assert "missing alone gives 1.000" in flags["single_feature_auc"].evidence
    assert "(missing) holds 100% of the negatives" in flags["target_derived"].evidence


def test_a_noisy_category_flags_its_auc_but_is_not_target_derived(base):
    rng = np.random.default_rng(4)
    flip = rng.random(len(base)) < 0.03
    status = np.where((base["y"] == 1) ^ flip, "won", "lost")
    assert _flags(base.assign(status=status)) == {"status": {"single_feature_auc"}}


def test_a_copy_of_the_target_is_target_derived(base):
    flags = find_leaks(base.assign(outcome=np.where(base["y"] == 1, "yes", "no")), "y")
    kinds = {f.kind: f for f in flags if f.column == "outcome"}
    assert set(kinds) == {"single_feature_auc", "target_derived"}
    assert kinds["target_derived"].value == 1.0


def test_a_value_seen_only_with_positives_at_high_support_is_target_derived(base):
    # Recorded for a fifth of the converted rows only: weak as a ranking, certain as a sign.
    rng = np.random.default_rng(5)
    has_contract = np.where((base["y"] == 1) & (rng.random(len(base)) < 0.2), "yes", None)
    flags = find_leaks(base.assign(has_contract=has_contract), "y")
    assert [(f.column, f.kind) for f in flags] == [("has_contract", "target_derived")]
    assert (
        "value 'yes'" in flags[0].evidence and "never occurs with a negative" in flags[0].evidence
    )


def test_high_cardinality_categories_do_not_flag_falsely(base):
    """Out-of-fold target rates: a level seen in few rows cannot rank by memorising them."""
    rng = np.random.default_rng(6)
    frame = base.assign(page=rng.integers(0, 3000, len(base)).astype(str))
    assert _flags(frame) == {}


def test_id_like_columns_are_flagged_and_measurements_are_not(base):
    rng = np.random.default_rng(7)
    frame = base.assign(
        row_number=np.arange(1, len(base) + 1),
        ref=[f"R{i:06d}x" for i in rng.permutation(len(base))],
        revenue=rng.lognormal(8, 1, len(base)).round(2),  # distinct floats: a measurement
    )
    flags = {(f.column, f.kind): f for f in find_leaks(frame, "y")}
    assert set(flags) == {("row_number", "id_like"), ("ref", "id_like")}
    assert "a sequence from 1 to 4000" in flags[("row_number", "id_like")].evidence
    assert flags[("ref", "id_like")].value == 1.0


def test_dates_after_the_label_time_are_flagged(base):
    rng = np.random.default_rng(8)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, len(base)), "D")
    frame = base.assign(
        created=created,
        closed_at=created + pd.to_timedelta(rng.integers(5, 60, len(base)), "D"),
        first_touch=created - pd.to_timedelta(rng.integers(1, 30, len(base)), "D"),
        # the same day as a date-only label time, some hours in: not later
        form_at=created + pd.to_timedelta(rng.integers(1, 20, len(base)), "h"),
        # a time to the second: distinct in every row, yet no id
        seen_at=created - pd.to_timedelta(rng.permutation(len(base)) + 1, "s"),
    )
    flags = find_leaks(frame, "y", label_time="created")
    assert [(f.column, f.kind) for f in flags] == [("closed_at", "after_label_time")]
    assert flags[0].value == 1.0
    assert "later than created in 100%" in flags[0].evidence
    # Without a label time no date is judged by time.
    assert _flags(frame) == {}


def test_a_leaky_name_alone_is_no_evidence(base):
    """A column named like a leak but holding noise is not flagged."""
    rng = np.random.default_rng(9)
    assert _flags(base.assign(won_date_closed_status=rng.normal(0, 1, len(base)))) == {}


# --- the shipped experiments ---------------------------------------------------------


def _prepare(path: Path, tmp_path: Path, overrides: list[str] | None = None):
    config = load_experiment(path, overrides or [])
    if config.data.generate is not None:  # generate into tmp, never into the repository
        config.data.path = tmp_path / config.data.path.name
    task = ClassificationTask(config)
    return task, task.prepare().info


@pytest.mark.parametrize(
    "config",
    [
        "lead_conversion/demo.yaml",
        "lead_conversion/olist.yaml",
        "churn/demo.yaml",
        "churn/telco.yaml",
    ],
)
def test_no_flags_on_the_shipped_experiments_as_configured(config: str, tmp_path: Path):
    task, info = _prepare(EXPERIMENTS / config, tmp_path)
    assert info.leakage is not None
    assert info.leakage["flags"] == [], info.leakage["flags"]
    assert info.leakage["columns_checked"] == len(info.features) > 0
    assert task.notes() and task.notes()[0].startswith("leakage guard: no flags")


def test_the_synthetic_last_stage_reached_is_caught_when_not_dropped(tmp_path: Path):
    _, info = _prepare(
        EXPERIMENTS / "lead_conversion/demo.yaml",
        tmp_path,
        ["data.drop=[job_title]", "data.generate.rows=5000"],
    )
    flags = info.leakage["flags"]
    assert {f["column"] for f in flags} == {"last_stage_reached"}
    kinds = {f["kind"]: f for f in flags}
    assert set(kinds) == {"single_feature_auc", "target_derived"}
    assert "value 'closed_won' holds 100% of the positives" in kinds["target_derived"]["evidence"]
    assert all(f["action"] == "warned" for f in flags)
    assert "last_stage_reached" in info.features  # warn trains on


# --- a real trap: the Olist closed-deal columns joined onto the MQLs -----------------

DEAL_COLUMNS = [
    "won_date", "business_segment", "lead_type", "lead_behaviour_profile", "has_company",
    "has_gtin", "average_stock", "business_type", "declared_product_catalog_size",
    "declared_monthly_revenue", "sdr_id", "sr_id",
]  # fmt: skip


@pytest.fixture(scope="module")
def olist_trap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MQLs with every closed-deal column joined on: present only for leads that closed."""
    folder = tmp_path_factory.mktemp("olist_trap")
    mqls = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")
    joined = mqls.merge(deals.drop(columns=["seller_id"]), on="mql_id", how="left")
    joined.to_csv(folder / "mqls_with_deals.csv", index=False)
    config = (EXPERIMENTS / "lead_conversion/olist.yaml").read_text(encoding="utf-8")
    config = config.replace(
        "../../data/external/olist_funnel/olist_marketing_qualified_leads_dataset.csv",
        str(folder / "mqls_with_deals.csv"),
    ).replace("../../data/external/olist_funnel/", f"{OLIST}/")
    path = folder / "olist_trap.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def test_the_olist_trap_is_caught(olist_trap: Path, tmp_path: Path):
    _, info = _prepare(olist_trap, tmp_path)
    by_column: dict[str, set[str]] = {}
    for f in info.leakage["flags"]:
        by_column.setdefault(f["column"], set()).add(f["kind"])
    # Every deal column is flagged but the two empty for almost every deal; no MQL column is.
    assert set(by_column) == set(DEAL_COLUMNS) - {"average_stock", "declared_product_catalog_size"}
    assert {"single_feature_auc", "target_derived", "after_label_time"} <= by_column["won_date"]
    assert info.leakage["label_time"] == "first_contact_date"
    late = next(f for f in info.leakage["flags"] if f["kind"] == "after_label_time")
    assert late["column"] == "won_date" and late["value"] > 0.9


def test_the_olist_trap_fails_before_training_with_on_flag_fail(olist_trap: Path, tmp_path: Path):
    with pytest.raises(DataError) as err:
        _prepare(olist_trap, tmp_path, ["leakage.on_flag=fail"])
    text = str(err.value)
    assert "mqls_with_deals.csv" in text and "nothing was trained" in text
    assert "'won_date' (" in text and "after_label_time" in text
    assert "data.drop" in text and "leakage.allow" in text


def test_drop_leaves_the_mql_columns(olist_trap: Path, tmp_path: Path):
    _, info = _prepare(olist_trap, tmp_path, ["leakage.on_flag=drop"])
    assert set(info.features) == {"first_contact_date", "landing_page_id", "origin"} | (
        set(DEAL_COLUMNS) - {f["column"] for f in info.leakage["flags"]}
    )
    assert info.excluded["won_date"].startswith("leakage: ")
    assert {f["action"] for f in info.leakage["flags"]} == {"dropped"}


def test_allow_silences_a_known_flag(olist_trap: Path, tmp_path: Path):
    flagged = {f["column"] for f in _prepare(olist_trap, tmp_path)[1].leakage["flags"]}
    allow = "[" + ",".join(sorted(flagged)) + "]"
    task, info = _prepare(olist_trap, tmp_path, ["leakage.on_flag=fail", f"leakage.allow={allow}"])
    assert {f["action"] for f in info.leakage["flags"]} == {"allowed"}
    assert "won_date" in info.features
    assert "allowed by leakage.allow: " in task.notes()[-1]


# --- config and bad input ------------------------------------------------------------


def test_leakage_config_is_validated(tmp_path: Path):
    path = EXPERIMENTS / "lead_conversion/olist.yaml"
    with pytest.raises(ConfigError, match="leakage.on_flag"):
        load_experiment(path, ["leakage.on_flag=ignore"])
    with pytest.raises(ConfigError, match="leakage.auc_threshold"):
        load_experiment(path, ["leakage.auc_threshold=0.4"])
    with pytest.raises(ConfigError, match="leakage.bogus: unknown key"):
        load_experiment(path, ["leakage.bogus=1"])
    forecast = EXPERIMENTS / "forecast/demo.yaml"
    with pytest.raises(ConfigError, match="leakage: unknown key"):
        load_experiment(forecast, ["leakage.on_flag=fail"])
    config = load_experiment(path)
    assert (config.leakage.on_flag, config.leakage.auc_threshold) == ("warn", 0.95)


def test_allow_and_label_time_must_name_columns_of_the_data(tmp_path: Path):
    path = EXPERIMENTS / "lead_conversion/olist.yaml"
    with pytest.raises(DataError, match=r"leakage.allow column\(s\) 'nope' not in the data"):
        _prepare(path, tmp_path, ["leakage.allow=[nope]"])
    with pytest.raises(DataError, match="data.label_time column 'origin' is not a date column"):
        _prepare(path, tmp_path, ["data.label_time=origin"])
