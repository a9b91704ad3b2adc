"""Where a funnel comes from: a YAML config, or a CRM export whose columns are recognised.

A config names the table (optionally joined with a second one on a key, as
Olist's closed deals join its marketing-qualified leads), the stage columns in
order and the roles of the others, plus an optional customers table for
retention curves::

    name: olist-funnel
    data:
      path: olist_marketing_qualified_leads_dataset.csv
      join: {path: olist_closed_deals_dataset.csv, key: mql_id, columns: [won_date]}
    stages: [first_contact_date, won_date]
    created: first_contact_date
    segment: origin
    stale_after_days: 180

A plain CSV or Parquet file is read as an opportunities export: its date
columns are the stages (ordered by their median date; ``created*`` first,
``closed*`` last), and ``outcome``, ``amount``, ``segment`` and a
``*response*`` hours column are used when present.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from salesml.errors import ConfigError, DataError
from salesml.experiment.config import GenerateConfig, JoinConfig
from salesml.funnel.analysis import FunnelSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FunnelData(_Strict):
    path: Path
    join: JoinConfig | None = None
    generate: GenerateConfig | None = None


class CustomersConfig(_Strict):
    """A customers snapshot for lifecycle retention curves."""

    path: Path
    tenure: str = "tenure_months"
    churned: str = "churned"
    horizon_months: int = Field(default=3, ge=1)
    segment: str | None = None
    generate: GenerateConfig | None = None


class FunnelConfig(_Strict):
    """A funnel analysis: the table, the stage columns in order and the roles of the rest."""

    name: str = Field(min_length=1)
    description: str = ""
    data: FunnelData
    stages: list[str] = Field(min_length=1)
    labels: dict[str, str] = Field(default_factory=dict)
    created: str | None = None
    closed: str | None = None
    outcome: str | None = None
    won: str | list[str] = "won"
    lost: str | list[str] = "lost"
    amount: str | None = None
    segment: str | None = None
    first_response_hours: str | None = None
    stale_after_days: int | None = Field(default=None, ge=1)
    customers: CustomersConfig | None = None

    def spec(self) -> FunnelSpec:
        fields = self.model_dump(exclude={"name", "description", "data", "customers"})
        fields["created"] = self.created or self.stages[0]
        return FunnelSpec(**fields)


def load_funnel_config(path: Path) -> FunnelConfig:
    """Read and validate a funnel YAML; paths become absolute (relative to the file)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable YAML file ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a funnel config must be a mapping of keys")
    try:
        cfg = FunnelConfig.model_validate(raw)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            parts.append(f"{'.'.join(map(str, err['loc'])) or '(top level)'}: {msg}")
        raise ConfigError(f"{path}: {'; '.join(parts)}") from exc
    base = path.resolve().parent
    for holder in (cfg.data, cfg.data.join, cfg.customers):
        if holder is not None and not holder.path.is_absolute():
            holder.path = (base / holder.path).resolve()
    return cfg


def _read(path: Path, generate: GenerateConfig | None) -> pd.DataFrame:
    from salesml.io.data import ensure_data, load_table

    ensure_data(path, generate)
    return load_table(path).frame


def load_config_tables(cfg: FunnelConfig) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The funnel table (joined where configured) and the customers table, if any."""
    from salesml.io.data import join_table

    frame = _read(cfg.data.path, cfg.data.generate)
    if cfg.data.join is not None:
        frame = join_table(frame, cfg.data.join, str(cfg.data.path))
    customers = None
    if cfg.customers is not None:
        customers = _read(cfg.customers.path, cfg.customers.generate)
    return frame, customers


def detect_spec(frame: pd.DataFrame, where: str) -> FunnelSpec:
    """A :class:`FunnelSpec` for an opportunities export, from its column names and values.

    Roles come from :func:`salesml.crm.opportunities.find_columns`: the created
    (or engaged) and close dates, the stage or status column whose values say
    won and lost (a deal is won by that column, never by having a close date),
    amount and segment. The other date columns are the stages in between,
    ordered by their median date.
    """
    from salesml.crm.opportunities import LOST, WON, find_columns

    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not dates:
        raise DataError(
            f"{where}: no date columns, so no stages to follow; give a funnel YAML config "
            "naming the stage columns"
        )
    roles = find_columns(frame)
    lower = {c: str(c).lower() for c in frame.columns}
    created = roles.created or next((c for c in dates if lower[c].startswith("created")), None)
    closed = roles.close or next((c for c in dates if lower[c].startswith(("closed", "won"))), None)
    stages = sorted(
        (c for c in dates if c not in (created, closed)), key=lambda c: frame[c].median()
    )
    if not stages:
        stages = [c for c in (created, closed) if c is not None]
    outcome = roles.stage
    response = next(
        (
            c
            for c in frame.columns
            if "response" in lower[c] and pd.api.types.is_numeric_dtype(frame[c])
        ),
        None,
    )
    return FunnelSpec(
        stages=stages,
        created=created or stages[0],
        closed=closed,
        outcome=outcome,
        won=list(WON),
        lost=list(LOST),
        amount=roles.amount,
        segment=roles.segment,
        first_response_hours=response,
    )
