"""A CRM export whose stage column says Won, Lost or an open stage: the win rate is read from it.

Shaped like a real public CRM pipeline export (8,800 opportunities:
``opportunity_id, sales_agent, product, account, deal_stage, engage_date,
close_date, close_value``): lost deals have a close date too, prospecting
deals have no engage date, open ones no close date.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from salesml.funnel.run import run_funnel

COUNTS = {"Won": 4238, "Lost": 2473, "Engaging": 1589, "Prospecting": 500}


def crm_export() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    stage = np.repeat(list(COUNTS), list(COUNTS.values()))
    rng.shuffle(stage)
    n = len(stage)
    engage = pd.Timestamp("2016-10-20") + pd.to_timedelta(rng.integers(0, 430, n), unit="D")
    close = engage + pd.to_timedelta(rng.integers(1, 130, n), unit="D")
    closed = np.isin(stage, ["Won", "Lost"])
    value = np.where(stage == "Won", rng.integers(40, 30_000, n), 0).astype(float)
    return pd.DataFrame(
        {
            "opportunity_id": [f"{i:08X}" for i in rng.integers(0, 2**32, n)],
            "sales_agent": rng.choice(["Moses Frase", "Darcel Schlecht", "Zane Levy"], n),
            "product": rng.choice(["GTX Basic", "MG Special", "GTK 500"], n),
            "account": rng.choice(["Cancity", "Hottechi", ""], n),
            "deal_stage": stage,
            "engage_date": pd.Series(engage).where(stage != "Prospecting").dt.date,
            "close_date": pd.Series(close).where(closed).dt.date,
            "close_value": np.where(closed, value, np.nan),
        }
    )


@pytest.mark.parametrize("sep", [",", ";"])
def test_the_win_rate_comes_from_the_stage_column(tmp_path: Path, sep: str):
    path = tmp_path / "sales_pipeline.csv"
    crm_export().to_csv(path, index=False, sep=sep)
    screen = Console(file=open(tmp_path / "screen.txt", "w"), width=200)  # noqa: SIM115
    run = run_funnel(path, tmp_path / "out", console=screen)
    screen.file.close()
    h = run.report.headline
    won, lost = COUNTS["Won"], COUNTS["Lost"]
    assert (h["won"], h["closed"], h["open"]) == (won, won + lost, 1589 + 500)
    assert h["win_rate"] == pytest.approx(won / (won + lost))  # 63 %, not 100 %
    assert run.report.spec.outcome == "deal_stage"
    assert run.report.spec.created == "engage_date" and run.report.spec.closed == "close_date"
    assert run.report.spec.segment == "product"
    text = (tmp_path / "screen.txt").read_text()
    assert "63.2%" in text


def test_a_close_date_the_day_a_deal_was_created_is_in_order_and_an_expected_one_is_not_reached():
    from salesml.funnel.analysis import analyse_funnel
    from salesml.funnel.source import detect_spec

    frame = pd.DataFrame(
        {
            "Id": ["a", "b", "c", "d"],
            "StageName": ["Closed Won", "Closed Lost", "Negotiation", "Closed Won"],
            "CreatedDate": pd.to_datetime(
                ["2024-03-01 14:57", "2024-03-02 09:00", "2024-03-03 10:00", "2024-03-05 08:00"]
            ),
            "CloseDate": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-04-30", "2024-03-15"]),
        }
    )
    report = analyse_funnel(frame, detect_spec(frame, "sf.csv"), "sf.csv")
    flags = report.timeline
    assert len(flags) == 1 and flags[0].rows == 1  # only b: closed the day before it was made
    assert sorted(report.cycle_days.round(2)) == [0.0, 9.67]
    close = report.stages.set_index("stage").loc["CloseDate"]
    assert close["reached"] == 3  # c's close date is only expected
