"""The config of a bookings experiment: an opportunities export, its stage history, the periods.

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`::

    name: pipeline-demo
    task: bookings
    data:
      path: opportunities.csv          # one row per deal, as the CRM exports it
      history: stage_history.csv       # optional: one row per stage entered
      generate: {kind: pipeline, rows: 8000, seed: 0}
    period: month                      # or quarter
    backtest: {cutoffs: 12, min_past: 6}
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import (
    ExperimentBase,
    GenerateConfig,
    JoinConfig,
    ReadConfig,
    resolve_path,
)


class PipelineColumns(_Strict):
    """The export's columns by role, where recognising them by name and values would not do."""

    id: str | None = None
    created: str | None = None
    close: str | None = None
    stage: str | None = None
    amount: str | None = None
    owner: str | None = None
    segment: str | None = None


class HistoryColumnsConfig(_Strict):
    """The stage history's columns by role (deal, stage, when; amount and close date)."""

    id: str | None = None
    stage: str | None = None
    entered: str | None = None
    amount: str | None = None
    close: str | None = None


class PipelineDataConfig(_Strict):
    """The opportunities export, its stage history, and which stage values mean won and lost."""

    path: Path
    history: Path | None = None
    generate: GenerateConfig | None = None
    read: ReadConfig | None = None
    columns: PipelineColumns = Field(default_factory=PipelineColumns)
    history_columns: HistoryColumnsConfig = Field(default_factory=HistoryColumnsConfig)
    won: list[str] | None = Field(default=None, min_length=1)
    lost: list[str] | None = Field(default=None, min_length=1)
    # a second table joined on a key (the deals won from a leads table)
    join: JoinConfig | None = None
    # no stage column: a close date means won, and a row not won this many days after it
    # was created counts as lost (columns.created and columns.close name the dates)
    lost_after_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _dated_outcomes(self) -> PipelineDataConfig:
        if self.lost_after_days is not None:
            if not (self.columns.created and self.columns.close):
                raise ValueError("lost_after_days needs columns.created and columns.close")
            if self.columns.stage or self.history:
                raise ValueError("lost_after_days replaces a stage column and a stage history")
        return self

    @model_validator(mode="after")
    def _pipeline_generator(self) -> PipelineDataConfig:
        if self.generate is not None and self.generate.kind != "pipeline":
            raise ValueError(f"generate.kind must be pipeline here, not {self.generate.kind}")
        return self


class BacktestPeriods(_Strict):
    """The last ``cutoffs`` whole periods are forecast, each with ``min_past`` periods before it.

    ``last`` (``2018-05``, ``2018Q2``): the last period forecast, when the data's later
    periods are not whole in another sense (a leads table that stops while its deals go on).
    """

    cutoffs: int = Field(default=12, ge=1, le=60)
    min_past: int = Field(default=6, ge=1, le=60)
    last: str | None = None


class BookingsExperiment(ExperimentBase):
    """Period bookings from the open pipeline: rules against deal-by-deal models."""

    family: ClassVar[str] = "bookings"
    task: Literal["bookings"]
    data: PipelineDataConfig
    period: Literal["month", "quarter"] = "month"
    backtest: BacktestPeriods = Field(default_factory=BacktestPeriods)
    baselines: list[candidate_union("bookings", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("bookings", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    def resolve_paths(self, base: Path) -> None:
        """The export's, the history's and the joined table's paths, absolute."""
        self.data.path = resolve_path(base, self.data.path)
        if self.data.history is not None:
            self.data.history = resolve_path(base, self.data.history)
        if self.data.join is not None:
            self.data.join.path = resolve_path(base, self.data.join.path)
