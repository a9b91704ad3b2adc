"""The config of a lead-conversion or churn experiment: rows, a binary outcome, split, leakage guard.

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`
(the task registry names :class:`ClassificationExperiment` for both tasks).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import DataConfigBase, ExperimentBase, resolve_path


class LabelFrom(_Strict):
    """Build a binary target: a row is positive when its ``key`` occurs in ``path``.

    Only the key column of that file is read, so none of its other columns can
    leak into the features.
    """

    path: Path
    key: str


class ClassificationDataConfig(DataConfigBase):
    """Where the rows are and which column is the outcome."""

    positive: str | int | float | bool | None = None
    id: str | list[str] | None = None
    time: str | None = None
    drop: list[str] = Field(default_factory=list)
    label_from: LabelFrom | None = None
    # When a row is scored: date columns later than this leak (default: ``time``).
    label_time: str | None = None


class LeakageConfig(_Strict):
    """The leakage guard run before training (:mod:`salesml.classify.leakage`).

    ``on_flag``: ``warn`` prints each flag and trains, ``fail`` stops before
    training, ``drop`` removes the flagged columns. ``allow`` lists columns
    known to be fine: their flags are recorded but do nothing.
    """

    on_flag: Literal["warn", "fail", "drop"] = "warn"
    auc_threshold: float = Field(default=0.95, gt=0.5, le=1)
    allow: list[str] = Field(default_factory=list)


class ReportConfig(_Strict):
    """What ``salesml report`` adds to the page: the funnel analysis behind the experiment."""

    funnel: Path | None = None


class SplitConfig(_Strict):
    method: Literal["stratified", "time", "random"] = "stratified"
    test_size: float = Field(default=0.25, gt=0, lt=1)
    seed: int = 42


class ClassificationExperiment(ExperimentBase):
    """A lead-conversion or churn experiment: one row per lead or customer, a binary outcome."""

    family: ClassVar[str] = "classification"
    task: Literal["lead_conversion", "churn"]
    data: ClassificationDataConfig
    split: SplitConfig = Field(default_factory=SplitConfig)
    leakage: LeakageConfig = Field(default_factory=LeakageConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    baselines: list[candidate_union("classification", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("classification", "model")] = Field(default_factory=list)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check_split(self) -> ClassificationExperiment:
        if self.split.method == "time" and self.data.time is None:
            raise ValueError("split.method 'time' needs data.time, the timestamp column")
        return self

    def resolve_paths(self, base: Path) -> None:
        super().resolve_paths(base)
        if self.data.label_from is not None:
            self.data.label_from.path = resolve_path(base, self.data.label_from.path)
        if self.report.funnel is not None:
            self.report.funnel = resolve_path(base, self.report.funnel)
