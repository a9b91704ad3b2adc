"""Funnel metrics against hand computations, on synthetic and real (Olist) data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from salesml.cli import app
from salesml.errors import ConfigError, DataError
from salesml.funnel.analysis import FunnelSpec, analyse_funnel, retention_curves
from salesml.funnel.source import detect_spec


def _tiny() -> pd.DataFrame:
    """Six deals through lead -> demo -> proposal; four closed (two won), two open."""
    t = pd.Timestamp("2024-01-01")
    d = pd.Timedelta
    return pd.DataFrame(
        {
            "created_at": [t, t, t, t + d(days=40), t + d(days=40), t + d(days=40)],
            "lead_at": [t, t, t, t + d(days=40), t + d(days=40), t + d(days=40)],
            "demo_at": [t + d(days=2), t + d(days=4), t + d(days=6), t + d(days=42), None, None],
            "proposal_at": [t + d(days=10), t + d(days=20), None, None, None, None],
            "closed_at": [
                t + d(days=30),
                t + d(days=50),
                t + d(days=9),
                None,
                t + d(days=41),
                None,
            ],
            "outcome": ["won", "won", "lost", "open", "lost", "open"],
            "amount": [1000.0, 3000.0, 500.0, 800.0, 200.0, 400.0],
            "segment": ["smb", "ent", "smb", "ent", "smb", "smb"],
            "response_hours": [0.5, 2.0, 30.0, 0.2, 80.0, 5.0],
        }
    )


SPEC = FunnelSpec(
    stages=["lead_at", "demo_at", "proposal_at"],
    created="created_at",
    closed="closed_at",
    outcome="outcome",
    amount="amount",
    segment="segment",
    first_response_hours="response_hours",
)


def test_stage_conversion_and_time_in_stage_by_hand():
    report = analyse_funnel(_tiny(), SPEC)
    st = report.stages.set_index("stage")
    assert st["reached"].tolist() == [6, 4, 2]
    assert st.loc["lead", "to_next"] == pytest.approx(4 / 6)
    assert st.loc["demo", "to_next"] == pytest.approx(2 / 4)
    assert st.loc["proposal", "to_next"] == pytest.approx(1.0)  # both proposals were won
    assert st.loc["demo", "drop_off"] == pytest.approx(0.5)
    assert st.loc["lead", "days_median"] == pytest.approx(np.median([2, 4, 6, 2]))
    assert st.loc["demo", "days_median"] == pytest.approx(np.median([8, 16]))


def test_headline_win_rate_cycle_and_velocity_by_hand():
    h = analyse_funnel(_tiny(), SPEC).headline
    assert (h["rows"], h["won"], h["closed"], h["open"]) == (6, 2, 4, 2)
    assert h["win_rate"] == pytest.approx(2 / 4)
    assert h["cycle_days_median"] == pytest.approx(40.0)  # won after 30 and 50 days
    assert h["avg_deal"] == pytest.approx(2000.0)
    assert h["open_pipeline"] == pytest.approx(1200.0)
    # open deals x win rate x average won deal / average cycle
    assert h["velocity_per_day"] == pytest.approx(2 * 0.5 * 2000.0 / 40.0)


def test_segments_cohorts_and_speed_to_lead():
    report = analyse_funnel(_tiny(), SPEC)
    seg = report.by_segment
    assert seg.loc["smb", "win_rate"] == pytest.approx(1 / 3)
    assert seg.loc["ent", "win_rate"] == pytest.approx(1.0)
    assert list(report.by_cohort.index) == ["2024-01", "2024-02"]
    sp = report.speed_to_lead.set_index("band")
    assert sp.loc["< 1 h", "closed"] == 1 and sp.loc["< 1 h", "win_rate"] == 1.0
    assert sp.loc["> 3 days", "win_rate"] == 0.0
    assert sorted(report.cycle_days) == [30.0, 50.0]


def test_without_an_outcome_stale_rows_count_as_lost():
    frame = _tiny().drop(columns=["outcome"])
    spec = FunnelSpec(stages=["lead_at", "proposal_at"], created="created_at", stale_after_days=20)
    h = analyse_funnel(frame, spec).headline
    # won = reached the last stage (2); latest date is 2024-02-19, so rows created
    # before 2024-01-30 and not won are lost (1), the February rows are open (3)
    assert (h["won"], h["closed"], h["open"]) == (2, 3, 3)


def test_bad_columns_are_named():
    with pytest.raises(DataError, match="'nope' not in the data"):
        analyse_funnel(_tiny(), FunnelSpec(stages=["nope"], created="created_at"))
    frame = _tiny().assign(demo_at=["soon"] * 6)
    with pytest.raises(DataError, match="'demo_at' has values that are not ISO dates"):
        analyse_funnel(frame, SPEC)


def test_synthetic_pipeline_tells_the_speed_to_lead_story():
    from salesml.synthetic import generate_opportunities

    frame = generate_opportunities(4000, seed=5)
    spec = detect_spec(frame, "opportunities")
    assert spec.stages[0] == "prospecting_at" and spec.stages[-1] == "objection_handling_at"
    assert (spec.created, spec.closed, spec.outcome) == ("created_at", "closed_at", "outcome")
    report = analyse_funnel(frame, spec)
    assert 0.10 < report.headline["win_rate"] < 0.30  # a B2B close rate
    sp = report.speed_to_lead
    assert sp["win_rate"].iloc[0] > 2 * sp["win_rate"].iloc[3]  # the first to respond wins
    seg = report.by_segment
    assert seg.loc["enterprise", "cycle_days_median"] > seg.loc["smb", "cycle_days_median"]


def test_retention_curves_are_monotone_and_ordered_by_contract():
    from salesml.synthetic import generate_customers

    curves = retention_curves(generate_customers(6000, seed=4), segment="contract_type")
    assert (curves.iloc[0] == 1.0).all()
    assert (curves.diff().iloc[1:] <= 1e-12).all().all()
    at_year = curves.loc[12]
    assert at_year["month-to-month"] < at_year["one_year"] < at_year["two_year"]


@pytest.mark.slow
def test_cli_funnel_on_the_real_olist_funnel(tmp_path: Path):
    result = CliRunner().invoke(
        app, ["funnel", str(ROOT / "experiments/funnel/olist.yaml"), "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    headline = json.loads((tmp_path / "headline.json").read_text())
    closed = pd.read_csv(ROOT / "data/external/olist_funnel/olist_closed_deals_dataset.csv")
    mqls = pd.read_csv(
        ROOT / "data/external/olist_funnel/olist_marketing_qualified_leads_dataset.csv"
    )
    assert headline["rows"] == len(mqls)
    assert headline["won"] == closed["mql_id"].isin(mqls["mql_id"]).sum()
    joined = mqls.merge(closed, on="mql_id")
    days = pd.to_datetime(joined["won_date"]) - pd.to_datetime(joined["first_contact_date"])
    days = days.dt.total_seconds() / 86400
    # real exports hold deals won before their first contact: flagged, left out of the cycle
    assert (days < 0).sum() > 0
    assert headline["cycle_days_median"] == pytest.approx(days[days >= 0].median())
    n = int((days < 0).sum())
    assert (
        f"{n:,} {'row' if n == 1 else 'rows'} with won_date before first_contact_date"
        in " ".join(result.stdout.split())
    )
    assert "won" in result.stdout and "Deals stall most after" in result.stdout
    for name in ("funnel.png", "stages.csv", "by_segment.csv", "by_cohort.csv"):
        assert (tmp_path / name).stat().st_size > 0


def test_cli_funnel_on_an_export_and_bad_configs(tmp_path: Path, write_yaml):
    from salesml.synthetic import generate_opportunities

    src = tmp_path / "opps.csv"
    generate_opportunities(800, seed=2).to_csv(src, index=False)
    result = CliRunner().invoke(app, ["funnel", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "speed_to_lead.csv").exists()
    bad = write_yaml({"name": "x", "data": {"path": "opps.csv"}, "stages": ["a"], "colour": 1})
    result = CliRunner().invoke(app, ["funnel", str(bad)])
    assert result.exit_code == 2 and "colour: unknown key" in result.stderr
    with pytest.raises(ConfigError):
        from salesml.funnel.source import load_funnel_config

        load_funnel_config(write_yaml({"name": "x"}, "f.yaml"))


def test_impossible_timelines_are_flagged_and_left_out_of_durations():
    """A deal closing before it was created, a demo before the lead: counted with examples,
    and never a negative cycle length or time in stage."""
    frame = _tiny()
    t = pd.Timestamp("2024-01-01")
    frame.loc[1, "closed_at"] = t - pd.Timedelta(days=5)  # won, closed before created
    frame.loc[2, "demo_at"] = t - pd.Timedelta(days=3)  # demo before the lead stage
    report = analyse_funnel(frame, SPEC)
    flags = {(f.earlier, f.later): f for f in report.timeline}
    assert set(flags) == {
        ("created_at", "closed_at"),
        ("created_at", "demo_at"),
        ("lead_at", "demo_at"),
    }
    closing = flags[("created_at", "closed_at")]
    assert closing.rows == 1 and closing.examples[0].startswith("data row 2: closed_at 2023-12-27")
    assert "closed_at before created_at" in closing.line()
    assert report.cycle_days.tolist() == [30.0]  # the other won deal is left out
    assert (report.stages[["days_median", "days_p90"]].dropna() >= 0).all().all()
    st = report.stages.set_index("stage")
    assert st.loc["lead", "days_median"] == pytest.approx(np.median([2, 4, 2]))
    assert analyse_funnel(_tiny(), SPEC).timeline == []


def test_cli_funnel_shows_impossible_timelines(tmp_path: Path):
    from salesml.synthetic import generate_opportunities

    frame = generate_opportunities(300, seed=4)
    created = next(c for c in frame.columns if c.startswith("created"))
    closed = next(c for c in frame.columns if c.startswith("closed"))
    rows = frame.index[frame[closed].notna()][:7]
    frame.loc[rows, closed] = "2000-01-01"
    src = tmp_path / "opps.csv"
    frame.to_csv(src, index=False)
    result = CliRunner().invoke(app, ["funnel", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"7 rows with {closed} before {created}" in text
    saved = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert {"earlier": created, "later": closed, "rows": 7} == {
        k: saved[0][k] for k in ("earlier", "later", "rows")
    }
    headline = json.loads((tmp_path / "out" / "headline.json").read_text())
    assert headline["cycle_days_median"] >= 0
