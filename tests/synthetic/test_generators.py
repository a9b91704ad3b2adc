"""Tests for the seeded synthetic CRM generators (salesml.synthetic and its modules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_string_dtype,
)
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from salesml.synthetic import (
    GENERATORS,
    OPPORTUNITY_STAGES,
    generate,
    generate_customers,
    generate_leads,
    generate_opportunities,
    generate_sales,
)

LEAD_COLUMNS = {
    "lead_id": "str", "created_at": "datetime", "source": "str", "industry": "str",
    "company_size": "str", "job_title": "str", "seniority": "str", "budget_band": "str",
    "need": "str", "timeline": "str", "email_subscribed": "bool", "email_opens": "int",
    "email_clicks": "int", "web_visits": "int", "pricing_page_visits": "int",
    "demo_requested": "bool", "content_downloads": "int", "hours_to_first_contact": "float",
    "contact_attempts": "int", "email_domain_type": "str", "noise_score": "float",
    "form_variant": "str", "last_stage_reached": "str", "converted": "int",
}  # fmt: skip
CUSTOMER_COLUMNS = {
    "customer_id": "str", "signup_date": "datetime", "plan": "str", "contract_type": "str",
    "monthly_charge": "float", "tenure_months": "int", "seats": "int", "usage_trend": "float",
    "support_tickets_90d": "int", "nps": "float", "late_payments_12m": "int",
    "days_since_last_login": "int", "payment_method": "str", "churned": "int",
}  # fmt: skip
SALES_COLUMNS = {
    "unique_id": "str", "ds": "datetime", "y": "float", "store": "str", "product": "str",
    "price": "float", "promo": "int", "is_holiday": "int",
}  # fmt: skip
STAGE_COLUMNS = [f"{s}_at" for s in OPPORTUNITY_STAGES]
OPPORTUNITY_COLUMNS = {
    "opportunity_id": "str", "owner": "str", "segment": "str", "lead_source": "str",
    "amount": "float", "created_at": "datetime", **dict.fromkeys(STAGE_COLUMNS, "datetime"),
    "last_stage": "str", "outcome": "str", "first_response_hours": "float",
}  # fmt: skip
CHECKS = {
    "str": lambda s: is_string_dtype(s.dropna()) and s.dropna().map(type).eq(str).all(),
    "datetime": is_datetime64_any_dtype,
    "float": is_float_dtype,
    "int": is_integer_dtype,
    "bool": is_bool_dtype,
}
SMALL = {"leads": 500, "customers": 500, "sales": 3, "opportunities": 500, "weekly_sales": 4}
SMALL |= {"pipeline": 300, "pipeline_history": 300, "transactions": 300}


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate_leads(20_000, seed=11)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return generate_customers(10_000, seed=11)


@pytest.fixture(scope="module")
def sales() -> pd.DataFrame:
    return generate_sales(60, seed=11)


@pytest.fixture(scope="module")
def opportunities() -> pd.DataFrame:
    return generate_opportunities(5_000, seed=11)


def _rate(frame: pd.DataFrame, column: str, value: object, target: str) -> float:
    return float(frame.loc[frame[column] == value, target].mean())


def _design(frame: pd.DataFrame, drop: list[str]) -> pd.DataFrame:
    """Numeric design matrix: log1p counts, median-imputed floats + flags, one-hot categories."""
    x = frame.drop(columns=drop)
    parts = []
    for col in x.columns:
        s = x[col]
        if is_bool_dtype(s) or is_integer_dtype(s):
            parts.append(np.log1p(s.astype(float).clip(lower=0)).rename(col))
        elif is_float_dtype(s):
            parts.append(s.isna().astype(float).rename(f"{col}_missing"))
            parts.append(s.fillna(s.median()).rename(col))
        elif is_string_dtype(s):
            parts.append(pd.get_dummies(s.fillna("missing"), prefix=col, dtype=float))
    out = pd.concat(parts, axis=1)
    return (out - out.mean()) / out.std().replace(0, 1)


def _holdout_auc(x: pd.DataFrame, y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """Holdout AUC of a logistic regression on ``x`` and of a fixed ``score``."""
    idx = np.random.default_rng(0).permutation(len(y))
    train, test = idx[: int(0.7 * len(y))], idx[int(0.7 * len(y)) :]
    model = LogisticRegression(max_iter=2000).fit(x.iloc[train], y[train])
    auc_model = roc_auc_score(y[test], model.predict_proba(x.iloc[test])[:, 1])
    return auc_model, roc_auc_score(y[test], score[test])


def bant_points(frame: pd.DataFrame) -> np.ndarray:
    """The classic scorecard: one point each for budget, authority, need and timeline."""
    return (
        frame["budget_band"].isin(["50k-100k", "100k+"]).astype(int)
        + frame["seniority"].isin(["director", "vp", "c_level"]).astype(int)
        + (frame["need"] != "none_stated").astype(int)
        + frame["timeline"].isin(["0-3 months", "3-6 months"]).astype(int)
    ).to_numpy()


# --- every generator ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_same_seed_same_frame_different_seed_different(kind: str) -> None:
    first = generate(kind, SMALL[kind], seed=3)
    pd.testing.assert_frame_equal(first, generate(kind, SMALL[kind], seed=3))
    assert not first.equals(generate(kind, SMALL[kind], seed=4))


@pytest.mark.parametrize(
    ("kind", "columns"),
    [
        ("leads", LEAD_COLUMNS),
        ("customers", CUSTOMER_COLUMNS),
        ("sales", SALES_COLUMNS),
        ("opportunities", OPPORTUNITY_COLUMNS),
    ],
)
def test_columns_and_dtypes(kind: str, columns: dict[str, str]) -> None:
    frame = GENERATORS[kind](SMALL[kind], 0)
    assert list(frame.columns) == list(columns)
    wrong = {c: str(frame[c].dtype) for c, k in columns.items() if not CHECKS[k](frame[c])}
    assert not wrong
    if kind != "sales":
        assert len(frame) == SMALL[kind]


def test_generate_rejects_unknown_kind_and_bad_rows() -> None:
    kinds = {"leads", "customers", "sales", "opportunities", "weekly_sales"}
    assert set(GENERATORS) == kinds | {"pipeline", "pipeline_history", "transactions"}
    with pytest.raises(
        ValueError, match="leads, customers, sales, opportunities, weekly_sales, pip"
    ):
        generate("prospects", 10)
    with pytest.raises(ValueError, match="at least 1"):
        generate("leads", 0)
    with pytest.raises(ValueError, match="at least 1"):
        generate_sales(0)
    assert len(generate("leads", 1)) == 1


# --- leads -------------------------------------------------------------------------------


def test_lead_basics(leads: pd.DataFrame) -> None:
    assert 0.10 <= leads["converted"].mean() <= 0.20
    assert leads["lead_id"].is_unique and leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    created = leads["created_at"]
    assert created.is_monotonic_increasing
    assert created.min() >= pd.Timestamp("2023-01-01") and created.max() < pd.Timestamp(
        "2025-01-01"
    )
    per_day = created.dt.dayofweek.value_counts()
    assert per_day.loc[[0, 1, 2, 3]].min() > 2 * per_day.loc[[5, 6]].max()
    assert (leads["email_clicks"] <= leads["email_opens"]).all()
    assert (leads["pricing_page_visits"] <= leads["web_visits"]).all()
    for col in ["industry", "job_title", "hours_to_first_contact"]:
        assert 0.01 <= leads[col].isna().mean() <= 0.10, col
    assert (
        leads.drop(columns=["industry", "job_title", "hours_to_first_contact"]).notna().all().all()
    )


def test_lead_fields_are_consistent(leads: pd.DataFrame) -> None:
    titles = leads.dropna(subset=["job_title"])
    vp = titles.loc[titles["seniority"] == "vp", "job_title"].str.lower()
    assert vp.str.contains("vp").all()
    ic = titles.loc[titles["seniority"] == "individual_contributor", "job_title"].str.lower()
    assert not ic.str.contains("vp|chief|director|ceo").any()
    big = leads.groupby("company_size")["budget_band"].apply(lambda s: (s == "100k+").mean())
    assert big["1000+"] > 3 * big["1-10"]
    free = leads.groupby("company_size")["email_domain_type"].apply(lambda s: (s == "free").mean())
    assert free["1-10"] > free["1000+"]


def test_bant_fields_drive_conversion(leads: pd.DataFrame) -> None:
    def rate(col: str, value: str) -> float:
        return _rate(leads, col, value, "converted")

    assert rate("budget_band", "100k+") > rate("budget_band", "<10k") + 0.05
    assert rate("seniority", "c_level") > rate("seniority", "individual_contributor")
    assert rate("seniority", "vp") > rate("seniority", "individual_contributor")
    assert rate("timeline", "0-3 months") > 2 * rate("timeline", "12+ months")
    assert rate("need", "none_stated") < rate("need", "automation") - 0.05
    assert rate("source", "referral") > rate("source", "cold_outbound") + 0.05
    assert rate("email_domain_type", "work") > rate("email_domain_type", "free")
    assert rate("demo_requested", True) > 2 * rate("demo_requested", False)


def test_clicks_beat_opens_and_fast_contact_wins(leads: pd.DataFrame) -> None:
    y = leads["converted"]
    auc_clicks = roc_auc_score(y, leads["email_clicks"])
    auc_opens = roc_auc_score(y, leads["email_opens"])
    assert auc_clicks > auc_opens + 0.02
    assert auc_opens > 0.55
    hours = leads["hours_to_first_contact"]
    assert y[hours < 1].mean() > 1.8 * y[hours > 24].mean()


def test_conversion_drifts_slowly(leads: pd.DataFrame) -> None:
    quarterly = leads.groupby(leads["created_at"].dt.to_period("Q"))["converted"].mean()
    assert len(quarterly) == 8
    first_half = quarterly.iloc[:2].mean()
    last_half = quarterly.iloc[-2:].mean()
    assert 0.01 < first_half - last_half < 0.08
    assert quarterly.diff().abs().max() < 0.05


def test_bant_is_informative_but_a_model_beats_it(leads: pd.DataFrame) -> None:
    y = leads["converted"].to_numpy()
    x = _design(leads, ["lead_id", "created_at", "job_title", "last_stage_reached", "converted"])
    auc_model, auc_bant = _holdout_auc(x, y, bant_points(leads))
    assert 0.60 <= auc_bant <= 0.75
    assert auc_model >= auc_bant + 0.05
    assert auc_model >= 0.78


def test_leaky_column_is_near_perfect_and_noise_is_noise(leads: pd.DataFrame) -> None:
    y = leads["converted"]
    won = leads["last_stage_reached"] == "closed_won"
    assert (won == y.astype(bool)).all()
    assert roc_auc_score(y, won) > 0.99
    assert leads.loc[~won, "last_stage_reached"].nunique() >= 5
    assert abs(roc_auc_score(y, leads["noise_score"]) - 0.5) < 0.03
    table = pd.crosstab(leads["form_variant"], y)
    assert stats.chi2_contingency(table).pvalue > 0.001
    by_variant = leads.groupby("form_variant")["converted"].mean()
    assert by_variant.max() - by_variant.min() < 0.03


# --- customers ---------------------------------------------------------------------------


def test_customer_basics(customers: pd.DataFrame) -> None:
    assert 0.10 <= customers["churned"].mean() <= 0.25
    assert customers["customer_id"].is_unique
    days = (pd.Timestamp("2025-01-01") - customers["signup_date"]).dt.days
    assert (customers["tenure_months"] == np.floor(days / 30.4375)).all()
    assert 0.50 <= customers["nps"].isna().mean() <= 0.60
    assert customers["nps"].dropna().between(0, 10).all()
    assert (customers["seats"] >= 1).all() and (customers["monthly_charge"] > 0).all()
    per_seat = customers.groupby("plan").apply(
        lambda g: (g["monthly_charge"] / g["seats"]).median(), include_groups=False
    )
    assert per_seat["starter"] < per_seat["pro"] < per_seat["business"]


def test_churn_drivers(customers: pd.DataFrame) -> None:
    def rate(col: str, value: str) -> float:
        return _rate(customers, col, value, "churned")

    assert rate("contract_type", "month-to-month") > 2 * rate("contract_type", "two_year")
    assert rate("contract_type", "one_year") > rate("contract_type", "two_year")
    churn = customers["churned"]
    assert (
        churn[customers["tenure_months"] < 6].mean() > churn[customers["tenure_months"] > 24].mean()
    )
    assert (
        churn[customers["usage_trend"] < -20].mean() > churn[customers["usage_trend"] > 20].mean()
    )
    assert churn[customers["nps"] <= 6].mean() > churn[customers["nps"] >= 9].mean()
    assert (
        churn[customers["late_payments_12m"] > 0].mean()
        > churn[customers["late_payments_12m"] == 0].mean()
    )


def test_contract_tenure_rules_are_beatable(customers: pd.DataFrame) -> None:
    y = customers["churned"].to_numpy()
    rules = (
        2 * (customers["contract_type"] == "month-to-month") + (customers["tenure_months"] < 12)
    ).to_numpy()
    x = _design(customers, ["customer_id", "signup_date", "churned"])
    auc_model, auc_rules = _holdout_auc(x, y, rules)
    assert 0.60 <= auc_rules <= 0.78
    assert auc_model >= auc_rules + 0.03


# --- sales -------------------------------------------------------------------------------


def _zero_share(sales: pd.DataFrame) -> pd.Series:
    return sales.groupby("unique_id")["y"].apply(lambda s: (s == 0).mean())


def test_sales_shape_and_index(sales: pd.DataFrame) -> None:
    assert sales["unique_id"].nunique() >= 50
    assert (sales["y"] >= 0).all() and (sales["price"] > 0).all()
    assert sales["promo"].isin([0, 1]).all() and sales["is_holiday"].isin([0, 1]).all()
    assert sales[["unique_id", "ds"]].equals(
        sales[["unique_id", "ds"]].sort_values(["unique_id", "ds"]).reset_index(drop=True)
    )
    assert sales["unique_id"].str.fullmatch(r"store_\d{2}/product_\d{2}").all()
    assert (sales["unique_id"] == sales["store"] + "/" + sales["product"]).all()
    days = pd.date_range(sales["ds"].min(), sales["ds"].max(), freq="D")
    assert len(days) >= 3 * 365
    counts = sales.groupby("unique_id")["ds"].agg(["size", "min", "max", "nunique"])
    assert (counts["size"] == len(days)).all() and (counts["nunique"] == len(days)).all()
    christmas = sales.loc[sales["ds"].dt.strftime("%m-%d") == "12-25", "is_holiday"]
    assert (christmas == 1).all() and sales["is_holiday"].mean() < 0.03


def test_sales_seasonality_promo_and_intermittency(sales: pd.DataFrame) -> None:
    zeros = _zero_share(sales)
    intermittent = zeros[zeros > 0.3].index
    assert 0.08 <= len(intermittent) / len(zeros) <= 0.25
    assert zeros[intermittent].min() > 0.3 and zeros.drop(intermittent).max() < 0.1
    regular = sales[~sales["unique_id"].isin(intermittent)]
    weekday = regular["ds"].dt.dayofweek
    significant = [
        stats.kruskal(*[g["y"][weekday.loc[g.index] == d] for d in range(7)]).pvalue < 0.01
        for _, g in regular.groupby("unique_id")
    ]
    assert np.mean(significant) >= 0.8
    weekend = regular.groupby(["unique_id", weekday >= 5])["y"].mean().unstack()
    assert (weekend[True] > 1.1 * weekend[False]).mean() >= 0.6  # most series peak at weekends
    monthly = regular.groupby(["unique_id", regular["ds"].dt.month])["y"].mean().unstack()
    monthly = monthly.div(monthly.mean(axis=1), axis=0)
    assert (monthly.max(axis=1) / monthly.min(axis=1)).median() > 1.25  # yearly cycle
    assert (monthly[12] > 1.05).mean() >= 0.7  # December peak for most series
    assert (monthly[1] < 1.0).mean() >= 0.7  # January slump
    by_promo = regular.groupby(["unique_id", "promo"])["y"].mean().unstack()
    assert (by_promo[1] / by_promo[0]).median() > 1.2
    price = regular.groupby("promo")["price"].mean()
    assert price[1] < price[0]
    day = regular["ds"].dt.strftime("%m-%d")
    assert regular.loc[day == "12-25", "y"].mean() < 0.5 * regular["y"].mean()


# --- opportunities -----------------------------------------------------------------------


def test_opportunity_timestamps(opportunities: pd.DataFrame) -> None:
    opp = opportunities
    stamps = opp[STAGE_COLUMNS]
    reached = stamps.notna().to_numpy()
    # pipeline stages are reached in order (no gaps) and timestamps increase through them
    assert (reached[:, :5][:, 1:] <= reached[:, :5][:, :-1]).all()
    assert reached[:, 0].all()
    values = stamps.apply(lambda c: c.astype("int64")).to_numpy(dtype=float)
    values[~reached] = np.nan
    filled = pd.DataFrame(values).ffill(axis=1).to_numpy()
    later = values[:, 1:]
    assert (later[~np.isnan(later)] > filled[:, :-1][~np.isnan(later)]).all()
    assert (opp["prospecting_at"] >= opp["created_at"]).all()
    closed = opp["outcome"].isin(["won", "lost"])
    assert (opp["closed_at"].notna() == closed).all()
    assert set(opp["outcome"]) == {"won", "lost", "open"}
    assert opp.loc[~closed, "created_at"].median() > opp.loc[closed, "created_at"].quantile(0.9)
    assert (opp.loc[opp["outcome"] == "won", "objection_handling_at"]).notna().all()
    furthest = stamps.iloc[:, :5].notna().sum(axis=1) - 1
    assert (opp["last_stage"] == np.array(OPPORTUNITY_STAGES)[furthest]).all()


def test_opportunity_rates_and_drivers(opportunities: pd.DataFrame) -> None:
    opp = opportunities
    closed = opp[opp["outcome"] != "open"]
    qualified = closed[closed["qualification_at"].notna()]
    won = qualified["outcome"] == "won"
    assert 0.15 <= won.mean() <= 0.30
    assert opp["owner"].nunique() == 12
    by_owner = won.groupby(qualified["owner"]).mean()
    assert by_owner.max() - by_owner.min() > 0.1
    win_closed = closed["outcome"] == "won"
    fast = closed["first_response_hours"] < 1
    slow = closed["first_response_hours"] > 24
    assert win_closed[fast].mean() > 1.5 * win_closed[slow].mean()
    cycle = (closed["closed_at"] - closed["created_at"]).dt.days.groupby(closed["segment"]).median()
    assert cycle["enterprise"] > 2 * cycle["smb"]
    amount = opp.groupby("segment")["amount"].median()
    assert amount["smb"] < amount["mid_market"] < amount["enterprise"]
