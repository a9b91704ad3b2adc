"""The config of a customer-value experiment: a transaction log, a calibration and a holdout period.

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`::

    name: cdnow-value
    task: customer_value
    data:
      path: transactions.csv
      customer: customer_id
      time: date
      value: value                 # quantity: and invoice: when the log has them
    calibration_end: 1997-09-30
    holdout_end: 1998-06-30
    cleaning: {returns: net, zero_value: drop, duplicates: drop}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import ExperimentBase, GenerateConfig, ReadConfig, resolve_path


class TransactionsConfig(_Strict):
    """The log's file and columns."""

    path: Path
    customer: str
    time: str
    value: str
    quantity: str | None = None
    invoice: str | None = None
    date_format: str | None = None
    read: ReadConfig | None = None
    generate: GenerateConfig | None = None  # kind: transactions (a synthetic shop log)


class CleaningConfig(_Strict):
    """What to do with returns, zero-value lines and duplicates (see lifecycle.transactions)."""

    returns: Literal["net", "drop"] = "net"
    zero_value: Literal["drop", "keep"] = "drop"
    duplicates: Literal["drop", "keep"] = "drop"


class ValueExperiment(ExperimentBase):
    """Repeat purchases and spend per customer: rules against BG/NBD and a LightGBM."""

    family: ClassVar[str] = "customer_value"
    task: Literal["customer_value"]
    data: TransactionsConfig
    calibration_end: dt.date
    holdout_end: dt.date
    # time unit of frequency, recency and T, in days (7: weeks, as the published figures)
    unit_days: float = Field(default=7.0, gt=0)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    baselines: list[candidate_union("customer_value", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("customer_value", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _periods(self) -> ValueExperiment:
        if self.holdout_end <= self.calibration_end:
            raise ValueError("holdout_end must come after calibration_end")
        return self

    def resolve_paths(self, base: Path) -> None:
        self.data.path = resolve_path(base, self.data.path)
