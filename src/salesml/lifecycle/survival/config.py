"""The config of a survival-churn experiment: customers with a duration and an event flag.

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`::

    name: telco-survival
    task: churn_survival
    data:
      path: telco.csv
      id: customerID
      duration: tenure          # time as a customer, in `unit`s
      event: Churn              # churned (the event) or still active (censored)
      event_value: "Yes"
      value: MonthlyCharges     # optional: value per unit, for the value at risk
      drop: [TotalCharges]
    unit: month
    horizons: [1, 3, 6]         # P(leave within h | here now) in the exported model
    evaluation_times: [6, 12, 24, 48]

A CRM export with dates instead of a duration::

    data:
      path: accounts.csv
      start: signup_date        # time as a customer counted from here ...
      end: cancelled_on         # ... to here, or to as_of while blank (still a customer)
      as_of: 2024-06-30         # default: the latest date in either column
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import ExperimentBase, GenerateConfig, ReadConfig, resolve_path
from salesml.experiment.labels import Label


class SurvivalDataConfig(_Strict):
    """The customers' file: duration, event flag, optional id, value and columns to leave out.

    ``event_value``: the value (or values) of ``event`` meaning the customer left;
    may be omitted when the column holds 0/1, booleans or Yes/No. ``allow``: columns
    the duration guard would leave out that are known at the start (see
    :mod:`salesml.lifecycle.survival.data`).
    """

    path: Path
    duration: str | None = None
    event: str | None = None
    # or dates, as a CRM exports them (lifecycle/survival/dates.py)
    start: str | None = None
    end: str | None = None
    as_of: dt.date | None = None
    event_value: Label | list[Label] | None = None
    id: str | None = None
    value: str | None = None
    drop: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    date_format: str | None = None
    read: ReadConfig | None = None
    generate: GenerateConfig | None = None  # kind: customers (tenure_months, churned)

    @model_validator(mode="after")
    def _one_way(self) -> SurvivalDataConfig:
        if self.start or self.end:
            if not (self.start and self.end) or self.duration or self.event:
                raise ValueError(
                    "give either duration and event, or start and end dates (end blank "
                    "while a customer is active), not both"
                )
        elif not (self.duration and self.event):
            raise ValueError("give duration and event, or start and end dates")
        return self


class SplitConfig(_Strict):
    """A stratified (by event) train/test split of the customers."""

    test_size: float = Field(default=0.25, gt=0.05, lt=0.95)
    seed: int = Field(default=42, ge=0, le=2**32 - 1)


class SurvivalExperiment(ExperimentBase):
    """Time to churn: Kaplan-Meier rules against Cox and a hazard LightGBM."""

    family: ClassVar[str] = "survival"
    task: Literal["churn_survival"]
    data: SurvivalDataConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    unit: str = Field(default="month", min_length=1)
    # the exported model's horizons, from each customer's current tenure
    horizons: list[float] = Field(default_factory=lambda: [1.0, 3.0, 6.0], min_length=1)
    # times since the start at which time-dependent AUC and calibration are measured;
    # default: the quartiles of the training customers' event times
    evaluation_times: list[float] | None = None
    # the value at risk's window (units): value lost to churn within it
    value_window: float = Field(default=12.0, gt=0)
    baselines: list[candidate_union("survival", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("survival", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _positive_times(self) -> SurvivalExperiment:
        for key in ("horizons", "evaluation_times"):
            values = getattr(self, key) or []
            if any(v <= 0 for v in values):
                raise ValueError(f"{key} must be positive")
            if list(values) != sorted(set(values)):
                raise ValueError(f"{key} must be increasing, each once")
        return self

    def resolve_paths(self, base: Path) -> None:
        self.data.path = resolve_path(base, self.data.path)
