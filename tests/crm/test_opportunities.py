"""CRM exports read into one model: roles recognised, won/lost/open from the stage values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesml.crm.opportunities import (
    OpportunityColumns,
    StatusValues,
    find_columns,
    read_opportunities,
)
from salesml.errors import DataError


def _salesforce() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Id": ["006A", "006B", "006C", "006D"],
            "Opportunity Owner": ["Ann", "Bo", "Ann", "Cy"],
            "StageName": ["Closed Won", "Closed Lost", "Negotiation/Review", "Prospecting"],
            "Amount": [12_000.0, 5_000.0, 40_000.0, np.nan],
            "CreatedDate": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-02-01", "2024-03-01"]),
            "CloseDate": pd.to_datetime(["2024-02-10", "2024-02-01", "2024-04-30", "2024-06-30"]),
            "Type": ["New Business", "Existing Business", "New Business", "New Business"],
        }
    )


def test_salesforce_names_and_values_are_recognised():
    cols = find_columns(_salesforce())
    assert cols == OpportunityColumns(
        id="Id",
        created="CreatedDate",
        close="CloseDate",
        stage="StageName",
        amount="Amount",
        owner="Opportunity Owner",
        segment="Type",
    )
    opps = read_opportunities(_salesforce(), "sf.csv")
    assert list(opps.frame["status"]) == ["won", "lost", "open", "open"]
    assert opps.counts() == {"won": 1, "lost": 1, "open": 2}
    assert opps.win_rate() == 0.5


def test_hubspot_stage_ids_and_a_status_column_under_any_name():
    frame = pd.DataFrame(
        {
            "Record ID": [1, 2, 3],
            "Deal Stage": ["closedwon", "closedlost", "appointmentscheduled"],
            "Create Date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "Close Date": pd.to_datetime(["2024-02-01", "2024-02-02", pd.NaT]),
            "Amount": [100.0, 200.0, 300.0],
        }
    )
    assert list(read_opportunities(frame).frame["status"]) == ["won", "lost", "open"]
    renamed = frame.rename(columns={"Deal Stage": "pipeline_position"})
    assert find_columns(renamed).stage == "pipeline_position"  # found by its values


def test_configured_values_replace_the_defaults():
    frame = _salesforce().assign(StageName=["Booked!", "Gone", "Open", "Open"])
    with pytest.raises(DataError, match="no stage or status column holding both won and lost"):
        read_opportunities(frame, "sf.csv")
    opps = read_opportunities(frame, "sf.csv", status=StatusValues(("booked!",), ("gone",)))
    assert opps.counts() == {"won": 1, "lost": 1, "open": 2}


def test_refusals_name_the_file_and_column():
    dup = _salesforce().assign(Id=["006A", "006A", "006C", "006D"])
    with pytest.raises(DataError, match=r"sf\.csv: column 'Id' repeats the id '006A'"):
        read_opportunities(dup, "sf.csv")
    text = _salesforce().assign(CreatedDate=["2024-01-02", "soon", "2024-02-01", "2024-03-01"])
    with pytest.raises(DataError, match=r"sf\.csv: column 'CreatedDate' has values that are not"):
        read_opportunities(text, "sf.csv", OpportunityColumns(created="CreatedDate"))
    with pytest.raises(DataError, match="no created"):
        read_opportunities(_salesforce().drop(columns="CreatedDate"), "sf.csv")


def test_time_zones_become_utc():
    frame = _salesforce()
    frame["CreatedDate"] = frame["CreatedDate"].dt.tz_localize("Europe/Paris")
    created = read_opportunities(frame).frame["created"]
    assert created.dt.tz is None and created.iloc[0] == pd.Timestamp("2024-01-01 23:00")


def test_leads_and_the_deals_won_from_them_get_a_status_by_a_stated_rule():
    from salesml.crm.opportunities import STATUS, status_from_dates

    frame = pd.DataFrame(
        {
            "lead": ["a", "b", "c", "d"],
            "first_contact": ["2024-01-01", "2024-01-01", "2024-05-01", "2024-06-20"],
            "won": ["2024-02-01 10:00", None, None, "2024-07-01"],
        }
    )
    out = status_from_dates(frame, "first_contact", "won", 90, "leads.csv")
    assert list(out[STATUS]) == ["won", "lost", "open", "won"]
    # b counts as lost the day its 90 days ran out; c has not had its 90 days by 2024-07-01
    assert out.loc[1, "won"] == pd.Timestamp("2024-03-31") and pd.isna(out.loc[2, "won"])
    opps = read_opportunities(
        out,
        "leads.csv",
        OpportunityColumns(id="lead", created="first_contact", close="won", stage=STATUS),
    )
    assert opps.counts() == {"won": 2, "lost": 1, "open": 1}
    with pytest.raises(DataError, match=r"leads\.csv: column 'won' has values that are not dates"):
        status_from_dates(
            frame.assign(won=["soon", None, None, None]), "first_contact", "won", 90, "leads.csv"
        )
