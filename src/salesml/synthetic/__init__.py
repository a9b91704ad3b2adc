"""Seeded synthetic CRM datasets that tell a realistic, known story.

Every generator is fully vectorised and deterministic for a seed (it draws only
from ``np.random.default_rng(seed)``). The ground truth behind each target is
written out in the code below and documented in ``data/README.md``:

* :func:`generate_leads` - inbound/outbound leads; target ``converted``.
* :func:`generate_customers` - SaaS subscribers; target ``churned`` (next 90 days).
* :func:`generate_opportunities` - B2B pipeline with stage timestamps; ``outcome``.
* :func:`generate_sales` - daily units per store/product (see :mod:`salesml.synthetic.sales`).
* :func:`generate_weekly_sales` - weekly dollars per store/department, one length or
  mixed lengths (see :mod:`salesml.synthetic.weekly`).
* :func:`generate_pipeline` - a CRM opportunities export and its stage history
  (kinds ``pipeline`` and ``pipeline_history``; see :mod:`salesml.synthetic.pipeline_history`).
* :func:`generate_transactions` - a shop's transaction log, BG/NBD-like buyers, with guest
  lines, credit notes, free samples and duplicated lines (see :mod:`salesml.synthetic.transactions`).

Use :data:`GENERATORS` or :func:`generate` to pick one by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from salesml.synthetic.crm import (
    BUDGET_BANDS,
    COMPANY_SIZES,
    INDUSTRIES,
    LEAD_SOURCES,
    LEAD_STAGES,
    NEEDS,
    SENIORITIES,
    TIMELINES,
    _check_rows,
    generate_customers,
    generate_leads,
)
from salesml.synthetic.pipeline import OPPORTUNITY_STAGES, OWNERS, generate_opportunities
from salesml.synthetic.pipeline_history import (
    generate_pipeline,
    generate_pipeline_export,
    generate_stage_history,
)
from salesml.synthetic.sales import generate_sales
from salesml.synthetic.transactions import generate_transactions
from salesml.synthetic.weekly import generate_weekly_sales

__all__ = [
    "BUDGET_BANDS",
    "COMPANY_SIZES",
    "GENERATORS",
    "INDUSTRIES",
    "LEAD_SOURCES",
    "LEAD_STAGES",
    "NEEDS",
    "OPPORTUNITY_STAGES",
    "OWNERS",
    "SENIORITIES",
    "TIMELINES",
    "generate",
    "generate_customers",
    "generate_leads",
    "generate_opportunities",
    "generate_pipeline",
    "generate_sales",
    "generate_transactions",
    "generate_weekly_sales",
]

GENERATORS: dict[str, Callable[..., pd.DataFrame]] = {
    "leads": generate_leads,
    "customers": generate_customers,
    "sales": generate_sales,
    "opportunities": generate_opportunities,
    "weekly_sales": generate_weekly_sales,
    # the opportunities export and its stage history (same rows and seed: the same deals)
    "pipeline": generate_pipeline_export,
    "pipeline_history": generate_stage_history,
    "transactions": generate_transactions,
}


def generate(kind: str, rows: int, seed: int = 0, **options: Any) -> pd.DataFrame:
    """Generate a synthetic dataset by name.

    Parameters
    ----------
    kind : str
        One of ``GENERATORS``: ``"leads"``, ``"customers"``, ``"sales"``,
        ``"opportunities"``, ``"weekly_sales"``.
    rows : int
        Number of rows (for ``"sales"`` and ``"weekly_sales"``: number of series), at least 1.
    seed : int
        Random seed.
    **options
        Generator-specific settings (``weeks`` for ``"weekly_sales"``).

    Returns
    -------
    pandas.DataFrame
        The generated frame.

    Raises
    ------
    ValueError
        If ``kind`` is unknown (the message lists the valid kinds) or ``rows < 1``.
    """
    if kind not in GENERATORS:
        raise ValueError(f"unknown dataset kind {kind!r}; choose from {', '.join(GENERATORS)}")
    _check_rows(rows)
    return GENERATORS[kind](rows, seed, **options)  # type: ignore[call-arg]
