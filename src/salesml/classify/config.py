"""The config of a lead-conversion or churn experiment: rows, a binary outcome, split, leakage guard.

Validated once at the edge by :func:`salesml.experiment.config.load_experiment`
(the task registry names :class:`ClassificationExperiment` for both tasks).

The outcome comes from ``data.target``: ``data.positive`` names the value (or
values) that count as 1; ``data.negative``, when given, the values that count
as 0, and rows with any other value (open deals: ``Engaging``, ``Prospecting``)
are left out of training and evaluation (:mod:`salesml.classify.labels`).
Values compare as :func:`label_key` says: as text, or as numbers when both read
as numbers (``1``, ``"1"`` and ``true`` are the same label).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from salesml.experiment.candidates import _Strict, candidate_union
from salesml.experiment.config import DataConfigBase, ExperimentBase, resolve_path
from salesml.experiment.labels import Label, as_labels, label_key  # noqa: F401


class LabelFrom(_Strict):
    """Build a binary target: a row is positive when its ``key`` occurs in ``path``.

    Only the key column of that file is read, so none of its other columns can
    leak into the features.
    """

    path: Path
    key: str


class ClassificationDataConfig(DataConfigBase):
    """Where the rows are and which column is the outcome.

    ``positive``: the value, or list of values, of ``target`` that count as 1
    (may be omitted when the column holds 0/1 or booleans). ``negative``: the
    value(s) that count as 0; when given, rows with any other value (or none)
    are open, left out and counted; when not, every other row is 0 and the
    column must then hold exactly one value besides the positive ones.
    """

    positive: Label | list[Label] | None = None
    negative: Label | list[Label] | None = None
    id: str | list[str] | None = None
    time: str | None = None
    drop: list[str] = Field(default_factory=list)
    label_from: LabelFrom | None = None
    # When a row is scored: date columns later than this leak (default: ``time``).
    label_time: str | None = None

    @model_validator(mode="after")
    def _check_labels(self) -> ClassificationDataConfig:
        for key in ("positive", "negative"):
            values = as_labels(getattr(self, key))
            if values is None:
                continue
            if not values:
                raise ValueError(f"{key}: the list is empty; name at least one value")
            keys = [label_key(v) for v in values]
            repeated = [v for v, k in zip(values, keys, strict=True) if keys.count(k) > 1]
            if repeated:
                raise ValueError(f"{key}: {repeated[0]!r} is named more than once")
        if self.negative is not None:
            if self.positive is None:
                raise ValueError(
                    f"negative is {self.negative!r} but positive is not given; "
                    "name the value(s) that count as 1 in data.positive"
                )
            if self.label_from is not None:
                raise ValueError(
                    "negative does not apply with label_from, which labels every row 1 or 0"
                )
            negatives = {label_key(v): v for v in as_labels(self.negative) or ()}
            for value in as_labels(self.positive) or ():
                other = negatives.get(label_key(value))
                if other is not None:
                    same = "" if repr(other) == repr(value) else f" (as {other!r} in negative)"
                    raise ValueError(
                        f"positive and negative both name {value!r}{same}; "
                        "a value counts as 1 or as 0, not both"
                    )
        return self


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
    seed: int = Field(default=42, ge=0, le=2**32 - 1)


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
