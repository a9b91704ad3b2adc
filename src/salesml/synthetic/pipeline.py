"""Synthetic B2B opportunities with stage timestamps (the sales pipeline)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.synthetic.crm import LEAD_SOURCES, _check_rows, _ids, _sigmoid, _timestamps

OPPORTUNITY_STAGES = (
    "prospecting", "first_contact", "qualification", "demo_offer", "objection_handling", "closed",
)  # fmt: skip
OWNERS = (
    "Alice Martin", "Ben Carter", "Chloe Dubois", "Daniel Kim", "Elena Rossi", "Farid Haddad",
    "Grace Liu", "Hugo Silva", "Isabel Novak", "Jamal Wright", "Kenji Sato", "Laura Schmidt",
)  # fmt: skip
# Fixed so the "some reps are better" story holds for every seed (logit shifts).
_OWNER_SKILL = np.array([0.45, -0.1, 0.2, -0.35, 0.0, 0.3, -0.2, 0.1, -0.45, 0.25, 0.05, -0.15])
_OWNER_SPEED = np.array([-0.5, 0.3, -0.2, 0.5, 0.0, -0.3, 0.2, 0.0, 0.6, -0.2, 0.1, 0.2])

# Job titles by seniority (rows follow SENIORITIES).


def generate_opportunities(n_rows: int = 5_000, seed: int = 0) -> pd.DataFrame:
    """Generate a B2B pipeline with stage timestamps, reps and outcomes.

    Each opportunity moves through prospecting, first_contact, qualification,
    demo_offer and objection_handling; at every stage it either advances or is
    closed as lost, and after objection handling it is won or lost. The odds of
    advancing depend on deal quality, rep skill, first-response speed, segment,
    source and deal size. Stage durations are gamma-distributed and about 1.8x
    (mid-market) and 3.2x (enterprise) longer than SMB. The snapshot date is
    2025-01-01: anything later is not yet observed, so late deals are ``open``.

    Parameters
    ----------
    n_rows : int
        Number of opportunities (>= 1).
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per opportunity ordered by ``created_at``; ``outcome`` is
        ``"won"``, ``"lost"`` or ``"open"``.
    """
    _check_rows(n_rows)
    rng = np.random.default_rng(seed)
    n = n_rows
    snapshot = np.datetime64("2025-01-01T00:00:00", "ns")
    created, _ = _timestamps(rng, n, "2023-01-01", "2024-12-31", growth=0.2)
    segment = rng.choice(3, n, p=[0.5, 0.33, 0.17])
    owner = rng.integers(0, len(OWNERS), n)
    source = rng.choice(8, n, p=[0.22, 0.12, 0.1, 0.12, 0.1, 0.09, 0.18, 0.07])
    amount_z = rng.normal(0.0, 1.0, n)
    amount = np.round(np.exp(np.log([12_000, 55_000, 220_000])[segment] + 0.6 * amount_z), -2)
    quality = rng.normal(0.0, 1.0, n)  # unobserved deal quality
    response_h = np.round(np.exp(np.log(5.0) + _OWNER_SPEED[owner] + 1.2 * rng.normal(0, 1, n)), 2)
    response_h = np.maximum(response_h, 0.05)  # at least 3 minutes

    # Odds of advancing prospecting->first_contact->qualification->demo->objection->won.
    base = np.array([1.7, 0.35, 0.0, 0.5, -0.3])
    shift = (
        0.6 * quality
        + _OWNER_SKILL[owner]
        + np.array([0.1, 0.0, -0.25])[segment]
        + np.array([0.0, -0.1, 0.05, 0.5, 0.35, 0.3, -0.45, -0.2])[source]
        - 0.2 * amount_z
    )
    speed = 0.8 * np.exp(-response_h / 4.0) - 0.25 * np.log1p(response_h / 24.0)
    logits = base[None, :] + shift[:, None]
    logits[:, :2] += 2.0 * speed[:, None]  # speed to lead matters most early on
    logits[:, 4] += 0.8 * speed
    advance = rng.random((n, 5)) < _sigmoid(logits)
    reached = np.cumprod(advance, axis=1).astype(bool)  # reached[:, k]: got past stage k
    last = reached[:, :4].sum(axis=1)  # furthest pre-close stage index, 0..4
    won = reached[:, 4]

    # Stage timestamps: prospecting shortly after creation; first contact after the response.
    mult = np.array([1.0, 1.8, 3.2])[segment]
    mean_days = np.array([7.0, 10.0, 14.0, 18.0])
    gaps = rng.gamma(2.0, 1.0, (n, 4)) * (mean_days / 2.0)[None, :] * mult[:, None]
    close_gap = rng.gamma(2.0, 5.0, n) * mult
    t_days = np.empty((n, 6))
    t_days[:, 0] = rng.uniform(0.0, 0.1, n)
    t_days[:, 1] = t_days[:, 0] + response_h / 24.0
    t_days[:, 2:5] = t_days[:, [1]] + np.cumsum(gaps[:, :3], axis=1)
    stage_idx = np.arange(5)[None, :]
    t_days[:, :5] = np.where(stage_idx <= last[:, None], t_days[:, :5], np.nan)
    last_t = t_days[np.arange(n), last]
    t_days[:, 5] = last_t + np.where(won, gaps[:, 3], close_gap)
    secs = np.round(t_days * 86_400)  # whole seconds, like a CRM audit log
    offsets = np.where(np.isnan(secs), 0, secs).astype("int64").astype("timedelta64[s]")
    stamps = created[:, None] + offsets
    stamps[:, 0] = np.minimum(stamps[:, 0], snapshot)
    stamps[np.isnan(secs) | (stamps > snapshot)] = np.datetime64("NaT")
    observed = ~np.isnat(stamps)
    closed = observed[:, 5]
    outcome = np.where(closed, np.where(won, "won", "lost"), "open").astype(object)
    last_seen = observed[:, :5].sum(axis=1) - 1  # pipeline stages are observed as a prefix

    frame = pd.DataFrame(
        {
            "opportunity_id": _ids("O", n),
            "owner": np.array(OWNERS, dtype=object)[owner],
            "segment": np.array(["smb", "mid_market", "enterprise"], dtype=object)[segment],
            "lead_source": np.array(LEAD_SOURCES, dtype=object)[source],
            "amount": amount,
            "created_at": created,
        }
    )
    for k, name in enumerate(OPPORTUNITY_STAGES):
        frame[f"{name}_at"] = stamps[:, k]
    frame["last_stage"] = np.array(OPPORTUNITY_STAGES, dtype=object)[last_seen]
    frame["outcome"] = outcome
    frame["first_response_hours"] = response_h
    return frame
