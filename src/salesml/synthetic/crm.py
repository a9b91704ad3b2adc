"""Synthetic leads and customers, and the helpers every CRM generator shares.

See :mod:`salesml.synthetic` for the registry and ``data/README.md`` for the
story behind each target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEAD_SOURCES = (
    "web_form", "paid_search", "organic_search", "referral", "event", "partner",
    "cold_outbound", "social",
)  # fmt: skip
INDUSTRIES = (
    "software", "financial_services", "healthcare", "manufacturing", "retail", "education",
    "professional_services", "logistics",
)  # fmt: skip
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
SENIORITIES = ("individual_contributor", "manager", "director", "vp", "c_level")
BUDGET_BANDS = ("unknown", "<10k", "10k-50k", "50k-100k", "100k+")
NEEDS = ("reporting", "automation", "integration", "cost_reduction", "compliance", "none_stated")
TIMELINES = ("0-3 months", "3-6 months", "6-12 months", "12+ months", "unknown")
LEAD_STAGES = ("new", "contacted", "qualified", "proposal", "negotiation", "closed_lost")
_TITLES = np.array(
    [
        ["Sales Development Representative", "Marketing Specialist", "Business Analyst",
         "Account Executive", "Operations Coordinator", "Software Engineer"],
        ["Marketing Manager", "Sales Manager", "Operations Manager", "IT Manager",
         "Finance Manager", "Customer Success Manager"],
        ["Director of Sales", "Director of Marketing", "Director of Operations", "IT Director",
         "Finance Director", "Head of Revenue Operations"],
        ["VP of Sales", "VP of Marketing", "VP Operations", "VP of Engineering", "VP Finance",
         "SVP, Revenue"],
        ["CEO", "Founder & CEO", "CFO", "COO", "CTO", "Chief Revenue Officer"],
    ],
    dtype=object,
)  # fmt: skip


def _check_rows(n_rows: int) -> None:
    if n_rows < 1:
        raise ValueError(f"rows must be at least 1, got {n_rows}")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one category index per row from a row-wise probability matrix ``(n, k)``."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return np.minimum((u[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


def _ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _timestamps(
    rng: np.random.Generator, n: int, start: str, end: str, growth: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted business-hours-heavy timestamps between ``start`` and ``end`` (inclusive).

    Returns the datetime64[ns] array and each time's position in the window (0..1).
    """
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    t = np.arange(days.size) / max(days.size - 1, 1)
    weekday = (days.astype("int64") + 3) % 7  # 0 = Monday
    doy = (days - days.astype("datetime64[Y]")).astype("int64")
    weight = np.array([1.0, 1.05, 1.0, 0.95, 0.85, 0.3, 0.25])[weekday]
    weight = weight * (1 + 0.12 * np.cos(2 * np.pi * (doy - 75) / 365.25)) * (1 + growth * t)
    weight[(doy >= 354) | (doy <= 1)] *= 0.5  # the holiday lull
    day_idx = np.sort(rng.choice(days.size, size=n, p=weight / weight.sum()))
    hours = np.clip(rng.normal(13.0, 3.5, n), 0.0, 23.99)
    seconds = day_idx.astype("int64") * 86_400 + (hours * 3600).astype("int64")
    stamps = np.datetime64(start, "s") + seconds.astype("timedelta64[s]")
    return np.sort(stamps).astype("datetime64[ns]"), t[day_idx]


def generate_leads(n_rows: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Generate marketing/sales leads with a BANT-plus-behaviour conversion story.

    Conversion is drawn from a latent logit built from BANT main effects
    (budget, authority, need, timeline), engagement (click > open > subscription,
    with diminishing returns), intent signals (demo request, pricing-page visits),
    interactions, speed to lead, email domain, source, a slow downward drift and
    unobserved noise. ``last_stage_reached`` is recorded after the outcome and
    therefore LEAKY; ``noise_score`` and ``form_variant`` are pure noise.

    Parameters
    ----------
    n_rows : int
        Number of leads (>= 1).
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per lead, ordered by ``created_at``; target ``converted`` (0/1).
    """
    _check_rows(n_rows)
    rng = np.random.default_rng(seed)
    n = n_rows
    created, t = _timestamps(rng, n, "2023-01-01", "2024-12-31", growth=0.3)
    created_s = created.astype("datetime64[s]").astype("int64")
    weekend = ((created_s // 86_400 + 3) % 7) >= 5
    hour = (created_s % 86_400) / 3600
    off_hours = weekend | (hour < 8) | (hour >= 18)

    # Source mix drifts from events/referrals towards paid channels as volume scales.
    p0 = np.array([0.24, 0.14, 0.16, 0.09, 0.09, 0.06, 0.14, 0.08])
    p1 = np.array([0.23, 0.22, 0.15, 0.07, 0.06, 0.06, 0.13, 0.08])
    source = _choice_rows(rng, p0 + t[:, None] * (p1 - p0))
    industry = rng.choice(8, n, p=[0.22, 0.14, 0.12, 0.13, 0.11, 0.07, 0.12, 0.09])
    size = rng.choice(5, n, p=[0.28, 0.28, 0.21, 0.14, 0.09])
    sen_p = np.array(
        [
            [0.25, 0.15, 0.10, 0.10, 0.40],
            [0.35, 0.27, 0.15, 0.10, 0.13],
            [0.40, 0.30, 0.16, 0.09, 0.05],
            [0.42, 0.32, 0.16, 0.07, 0.03],
            [0.45, 0.32, 0.15, 0.06, 0.02],
        ]
    )
    seniority = _choice_rows(rng, sen_p[size])
    intent = rng.normal(0.0, 1.0, n)  # unobserved buying intent, drives behaviour

    # BANT answers (self-reported on forms / discovery calls).
    budget_latent = 0.75 * size + 0.35 * intent + rng.normal(0.0, 0.8, n)
    budget = 1 + np.searchsorted([0.8, 2.0, 2.9], budget_latent)
    unknown_p = _sigmoid(-1.0 - 0.35 * seniority - 0.4 * intent)
    budget[rng.random(n) < unknown_p] = 0
    need = rng.choice(5, n, p=[0.25, 0.27, 0.2, 0.18, 0.1])
    need[rng.random(n) < _sigmoid(-1.1 - 0.5 * intent)] = 5
    timeline = np.searchsorted([-0.8, 0.1, 0.9], -0.6 * intent + rng.normal(0.0, 1.0, n))
    timeline[rng.random(n) < _sigmoid(-1.4 - 0.4 * intent)] = 4

    # Behaviour: engagement and intent signals.
    inbound = np.isin(source, [0, 1, 2, 7])
    subscribed = rng.random(n) < _sigmoid(0.1 + 0.4 * intent + 0.3 * np.isin(source, [0, 2, 4]))
    opens = rng.poisson(np.where(subscribed, np.exp(1.3 + 0.1 * intent), 0.3))
    clicks = rng.binomial(opens, _sigmoid(-1.3 + 1.0 * intent))
    visits = rng.poisson(np.exp(1.1 + 0.35 * intent + 0.3 * inbound))
    pricing = rng.binomial(visits, _sigmoid(-2.0 + 0.7 * intent))
    downloads = rng.poisson(np.exp(-0.6 + 0.3 * intent + 0.4 * np.isin(source, [0, 2, 7])))
    demo = rng.random(n) < _sigmoid(-2.3 + 0.9 * intent + 0.5 * np.isin(source, [0, 1]))
    free_mail = rng.random(n) < np.array([0.35, 0.15, 0.07, 0.04, 0.03])[size] + 0.1 * (source == 7)

    # Speed to lead: lognormal hours, slower off-hours, faster for demo requests.
    log_h = np.log(3.0) + 1.3 * rng.normal(0.0, 1.0, n) - 0.6 * demo + 0.9 * off_hours
    hours = np.round(np.exp(log_h), 2)
    never_contacted = rng.random(n) < _sigmoid(-3.6 - 0.5 * intent)
    attempts = 1 + rng.poisson(np.exp(0.6 - 0.25 * intent))
    attempts[never_contacted] = 0

    logit = (
        -3.1
        + np.array([-0.2, -0.35, 0.0, 0.3, 0.5])[budget]
        + np.array([-0.35, -0.1, 0.15, 0.3, 0.35])[seniority]
        + np.array([0.05, 0.1, 0.05, 0.05, 0.15, -0.55])[need]
        + np.array([0.5, 0.25, -0.1, -0.5, -0.2])[timeline]
        + 0.15 * subscribed
        + 0.1 * np.log1p(opens)
        + 0.6 * np.log1p(clicks)
        + 0.15 * np.log1p(visits)
        + 0.1 * np.log1p(downloads)
        + 0.85 * demo
        + 0.4 * demo * (seniority >= 2)
        + 0.75 * (1 - np.exp(-pricing / 1.5)) * (1 + 0.5 * (timeline == 0))
        + np.where(budget >= 3, np.where(size >= 3, 0.3, np.where(size <= 1, -0.45, 0.0)), 0.0)
        + 1.0 * np.exp(-hours / 2.0)
        - 0.2 * np.log1p(hours)
        - 0.5 * free_mail
        + np.array([0.1, 0.0, 0.1, 0.75, 0.5, 0.35, -0.75, -0.3])[source]
        + np.array([0.15, 0.1, -0.05, 0.05, -0.1, -0.25, 0.05, 0.0])[industry]
        - 2.5 * never_contacted
        + 0.2
        - 0.4 * t  # slow drift: lead quality erodes as volume grows
        + 0.3 * intent
        + rng.normal(0.0, 0.5, n)
    )
    converted = rng.random(n) < _sigmoid(logit)

    # LEAKY: how far the lead got, recorded after the outcome.
    progress = 0.6 * (logit - logit.mean()) + rng.normal(0.0, 1.0, n)
    stage = 1 + np.searchsorted([0.3, 1.2, 1.9], progress)
    stage[rng.random(n) < 0.45 + 0.35 * (1 - t)] = 5  # older leads are mostly closed out
    stage[never_contacted] = 0
    stage_name = np.array(LEAD_STAGES + ("closed_won",), dtype=object)[
        np.where(converted, 6, stage)
    ]

    titles = _TITLES[seniority, rng.integers(0, _TITLES.shape[1], n)]
    lower = rng.random(n) < 0.07  # free-form entry: some titles typed in lower case
    titles[lower] = np.char.lower(titles[lower].astype(str)).astype(object)
    hours_out = np.where(never_contacted, np.nan, hours)

    frame = pd.DataFrame(
        {
            "lead_id": _ids("L", n),
            "created_at": created,
            "source": np.array(LEAD_SOURCES, dtype=object)[source],
            "industry": np.array(INDUSTRIES, dtype=object)[industry],
            "company_size": np.array(COMPANY_SIZES, dtype=object)[size],
            "job_title": titles,
            "seniority": np.array(SENIORITIES, dtype=object)[seniority],
            "budget_band": np.array(BUDGET_BANDS, dtype=object)[budget],
            "need": np.array(NEEDS, dtype=object)[need],
            "timeline": np.array(TIMELINES, dtype=object)[timeline],
            "email_subscribed": subscribed,
            "email_opens": opens.astype("int64"),
            "email_clicks": clicks.astype("int64"),
            "web_visits": visits.astype("int64"),
            "pricing_page_visits": pricing.astype("int64"),
            "demo_requested": demo,
            "content_downloads": downloads.astype("int64"),
            "hours_to_first_contact": hours_out,
            "contact_attempts": attempts.astype("int64"),
            "email_domain_type": np.where(free_mail, "free", "work").astype(object),
            "noise_score": np.round(rng.normal(50.0, 15.0, n), 2),
            "form_variant": np.array(["A", "B", "C"], dtype=object)[rng.integers(0, 3, n)],
            "last_stage_reached": stage_name,
            "converted": converted.astype("int64"),
        }
    )
    # Data-entry gaps (missing at random), on top of the never-contacted NaNs.
    frame.loc[rng.random(n) < 0.03, "industry"] = np.nan
    frame.loc[rng.random(n) < 0.05, "job_title"] = np.nan
    frame.loc[rng.random(n) < 0.02, "hours_to_first_contact"] = np.nan
    return frame


def generate_customers(n_rows: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Generate subscription-SaaS customers with a 90-day churn target.

    Snapshot date is 2025-01-01; ``tenure_months`` is
    ``floor((snapshot - signup_date).days / 30.4375)``. Churn is driven by contract
    type and tenure (month-to-month and new customers churn more, strongest when
    both), falling usage, support tickets (worse when usage is also falling),
    NPS detractors, late payments, days since last login, plan and seats, a
    latent account health that links these signals, and unobserved noise.

    Parameters
    ----------
    n_rows : int
        Number of customers (>= 1).
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per active customer at the snapshot; target ``churned`` (0/1).
    """
    _check_rows(n_rows)
    rng = np.random.default_rng(seed)
    n = n_rows
    snapshot = np.datetime64("2025-01-01", "D")
    tenure_days = np.minimum(rng.exponential(620.0, n), 7 * 365).astype("int64") + 1
    signup = snapshot - tenure_days.astype("timedelta64[D]")
    tenure = np.floor(tenure_days / 30.4375).astype("int64")
    plan = rng.choice(4, n, p=[0.38, 0.32, 0.21, 0.09])
    contract_p = np.array(
        [[0.75, 0.2, 0.05], [0.5, 0.35, 0.15], [0.3, 0.45, 0.25], [0.1, 0.5, 0.4]]
    )
    contract = _choice_rows(rng, contract_p[plan])
    seats = np.maximum(
        1, np.round(np.exp(np.log([3, 12, 45, 250])[plan] + rng.normal(0, 0.6, n)))
    ).astype("int64")
    charge = np.array([12.0, 29.0, 49.0, 79.0])[plan] * seats ** np.float64(0.92) * np.array(
        [1.0, 0.9, 0.82]
    )[contract] * (1 + rng.normal(0, 0.03, n)) + 500.0 * (plan == 3)
    pay_p = np.array(
        [
            [0.7, 0.1, 0.02, 0.18],
            [0.6, 0.2, 0.08, 0.12],
            [0.4, 0.3, 0.25, 0.05],
            [0.15, 0.35, 0.5, 0.0],
        ]
    )
    payment = _choice_rows(rng, pay_p[plan])
    health = rng.normal(0.0, 1.0, n)  # unobserved account health

    usage = np.clip(3.0 + 12.0 * health + rng.normal(0, 15.0, n), -100.0, 150.0).round(1)
    tickets = rng.poisson(np.exp(-0.3 + 0.15 * np.log(seats) - 0.35 * health))
    nps_score = np.clip(np.round(7.2 + 1.6 * health + rng.normal(0, 1.5, n)), 0, 10)
    responded = rng.random(n) < _sigmoid(-0.25 + 0.3 * health)
    nps = np.where(responded, nps_score, np.nan)
    late_rate = np.exp(
        -1.8 + 0.5 * (contract == 0) + 0.4 * np.isin(payment, [1, 2]) - 0.25 * health
    )
    late = rng.poisson(late_rate * np.minimum(tenure + 1, 12) / 12)
    login_scale = np.exp(1.6 - 0.9 * health - 0.15 * np.log(seats))
    last_login = np.floor(rng.exponential(1.0, n) * login_scale).astype("int64")

    detractor = responded & (nps_score <= 6)
    promoter = responded & (nps_score >= 9)
    logit = (
        -1.9
        + np.array([0.9, -0.2, -1.1])[contract]
        - 0.35 * np.log1p(tenure)
        + 0.6 * ((contract == 0) & (tenure < 6))
        - 1.0 * np.tanh(usage / 30.0)
        + 0.25 * np.log1p(tickets)
        + 0.5 * ((tickets >= 3) & (usage < -10))
        + 0.55 * detractor
        - 0.45 * promoter
        + 0.1 * ~responded
        + 0.3 * np.minimum(late, 4)
        + 0.4 * np.log1p(last_login / 7.0)
        + np.array([0.25, 0.0, -0.1, -0.3])[plan]
        - 0.1 * np.log(seats)
        + np.array([-0.1, 0.0, 0.0, 0.15])[payment]
        + rng.normal(0.0, 0.6, n)
    )
    churned = rng.random(n) < _sigmoid(logit)
    return pd.DataFrame(
        {
            "customer_id": _ids("C", n),
            "signup_date": signup.astype("datetime64[ns]"),
            "plan": np.array(["starter", "pro", "business", "enterprise"], dtype=object)[plan],
            "contract_type": np.array(["month-to-month", "one_year", "two_year"], dtype=object)[
                contract
            ],
            "monthly_charge": np.round(charge, 2),
            "tenure_months": tenure,
            "seats": seats,
            "usage_trend": usage,
            "support_tickets_90d": tickets.astype("int64"),
            "nps": nps,
            "late_payments_12m": late.astype("int64"),
            "days_since_last_login": last_login,
            "payment_method": np.array(
                ["credit_card", "bank_transfer", "invoice", "paypal"], dtype=object
            )[payment],
            "churned": churned.astype("int64"),
        }
    )
