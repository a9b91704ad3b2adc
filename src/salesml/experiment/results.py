"""Typed experiment results: what ``summary.json`` holds, written and read back.

A :class:`Summary` has the experiment (name, task, primary metric, confidence
level, MLflow ids, provenance), the data block of its task
(:class:`ClassificationData` or :class:`ForecastData`), one
:class:`CandidateResult` per baseline and model, and the :class:`Champion`:
the best model against the best baseline, with the difference of the primary
metric under the fixed key ``delta`` and its name under ``metric``, and the
verdict (:data:`Verdict`): the model beats the best rule, the rule beats every
model, no significant difference, or not enough data to tell.
``summary.json`` carries ``schema_version``; :func:`load_summary` refuses a
version it does not know. Fields added within a version have defaults, so
summaries written before them still load (a champion without ``verdict`` gets
it from ``beats_baseline`` and its CI: :meth:`Champion.outcome`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from salesml.errors import DataError

SCHEMA_VERSION = 3
# The test predictions of every candidate, beside summary.json and on the parent run.
PREDICTIONS = "predictions.parquet"


def ci_label(confidence: float) -> str:
    """``"95% CI"`` for 0.95, ``"90% CI"`` for 0.9, ``"97.5% CI"`` for 0.975."""
    return f"{confidence * 100:.10g}% CI"


def ci_text(metrics: dict[str, Any], key: str, digits: int = 3) -> str:
    """``"0.812 [0.790, 0.833]"``: metric ``key`` with its CI (``key_ci``) when there is one."""

    def fmt(value: Any) -> str:
        return f"{value:.{digits}f}" if isinstance(value, int | float) else str(value)

    ci = metrics.get(f"{key}_ci")
    if ci and key in metrics:
        return f"{fmt(metrics[key])} [{fmt(ci[0])}, {fmt(ci[1])}]"
    return fmt(metrics.get(key, "-"))


@dataclass
class CandidateResult:
    """One baseline or model: status, test metrics (``<metric>_ci`` = [low, high]), ids."""

    name: str
    role: str
    type: str
    status: str = "ok"
    metrics: dict[str, Any] = field(default_factory=dict)
    fit_seconds: float = 0.0
    mlflow_run_id: str | None = None
    model_uri: str | None = None
    error: str | None = None


# What the comparison of the champion with the best rule found:
#   model         the whole CI lies on the model's side of 0: the model beats the rules
#   rule          the whole CI lies on the rule's side: the best rule beats every model
#   tie           the CI straddles 0: no significant difference
#   insufficient  too few units for a CI (salesml.experiment.evaluation.MIN_UNITS)
Verdict = Literal["model", "rule", "tie", "insufficient"]


def decide(ci: list[float], lower_is_better: bool) -> Verdict:
    """The verdict of a CI of *model minus rule*: ``model``, ``rule`` or ``tie``."""
    lo, hi = ci
    better, worse = (hi < 0, lo > 0) if lower_is_better else (lo > 0, hi < 0)
    return "model" if better else "rule" if worse else "tie"


@dataclass
class Champion:
    """The best model by the primary metric, compared with the best baseline.

    ``delta`` is model minus baseline on ``metric`` (paired bootstrap CI
    ``delta_ci`` at ``confidence``). ``verdict`` says which side the CI lies on
    (:data:`Verdict`); ``insufficient`` has a point ``delta``, no ``delta_ci``,
    and ``reason`` says what was too few. ``beats_baseline`` (kept for readers)
    is ``verdict == "model"``, and only then is the model registered.
    ``verdict`` is None without a baseline, and in summaries written before it
    existed (:meth:`outcome` derives it then).
    """

    name: str
    type: str
    model_uri: str | None
    metric: str
    confidence: float
    baseline: str | None = None
    delta: float | None = None
    delta_ci: list[float] | None = None
    beats_baseline: bool = False
    registered_version: str | None = None
    verdict: Verdict | None = None
    reason: str | None = None

    def outcome(self, lower_is_better: bool) -> Verdict | None:
        """``verdict``, or for an older summary the one its ``beats_baseline`` and CI give."""
        if self.verdict is not None or self.baseline is None:
            return self.verdict
        if self.beats_baseline:
            return "model"
        if self.delta_ci is None:
            return None
        # not beating it while the CI says otherwise is a tie: beats_baseline was recorded
        return "rule" if decide(self.delta_ci, lower_is_better) == "rule" else "tie"


@dataclass
class DataInfo:
    """What every task reports of its data: file, fingerprint, rows, what was left out."""

    path: str
    sha256: str
    rows: int
    excluded: dict[str, str] = field(default_factory=dict)


@dataclass
class ClassificationData(DataInfo):
    """Rows, positive rate, the split and the features a classifier saw."""

    positive_rate: float = 0.0
    train_rows: int = 0
    test_rows: int = 0
    split: str = ""
    features: list[str] = field(default_factory=list)
    # The leakage guard's record: on_flag, threshold, columns checked, flags with actions.
    leakage: dict[str, Any] | None = None
    # The labels: target column, values counted positive/negative, rows of each; rows left
    # out as open (neither), per value; positive/negative rows in each part; small-data
    # warnings (salesml.classify.labels, salesml.classify.class_counts).
    labels: dict[str, Any] = field(default_factory=dict)
    open_rows: int = 0
    open_values: dict[str, int] = field(default_factory=dict)
    class_rows: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ForecastData(DataInfo):
    """Series, frequency, season, horizon and the backtest origins of a forecast.

    ``negative_values``/``negative_series`` count the returns found (handled as
    ``negative``: keep, clip or error); ``demand`` counts series per
    Syntetos-Boylan class; ``fallbacks`` counts, per candidate, the series that
    needed a simpler model (``{"auto_ets": {"seasonal_difference": 9, "naive": 3}}``);
    ``unscored`` names series no backtest window could score (they are still forecast);
    ``combined`` names each ensemble's members and how they combine (``"mean"``).
    ``seasonal`` counts the series the seasonality test found seasonal or not (None
    when the test does not apply; see :mod:`salesml.forecast.seasonality`).
    ``engine`` is where the candidates were fitted (``local`` or ``spark``, with
    ``spark_master`` the session's master URL; :mod:`salesml.forecast.spark`).
    """

    series: int = 0
    series_used: int = 0
    freq: str = ""
    season_length: int = 1
    horizon: int = 1
    start: str = ""
    end: str = ""
    calibration_cutoff: str = ""
    cutoffs: list[str] = field(default_factory=list)
    exog: list[str] = field(default_factory=list)
    gaps_filled: dict[str, int] = field(default_factory=dict)
    negative: str = "keep"
    negative_values: int = 0
    negative_series: int = 0
    demand: dict[str, int] = field(default_factory=dict)
    fallbacks: dict[str, dict[str, int]] = field(default_factory=dict)
    combined: dict[str, dict[str, Any]] = field(default_factory=dict)
    unscored: dict[str, str] = field(default_factory=dict)
    seasonal: dict[str, int] | None = None
    engine: str = "local"
    spark_master: str | None = None
    # periods without a row: "zero" (no sale) or "missing" (a series ends at its last
    # row); and the silence at the end after which a series counts as discontinued
    fill: str | None = None
    discontinued_after: int | None = None


@dataclass
class ExperimentInfo:
    """Which experiment ran, how it is judged, and where its runs are."""

    name: str
    task: str
    primary_metric: str
    confidence: float
    description: str = ""
    config: str | None = None
    mlflow_run_id: str | None = None
    tracking_uri: str | None = None
    experiment_id: str | None = None
    git_commit: str | None = None
    elapsed_seconds: float = 0.0
    # the primary metric's direction, and the resampling a reopened run repeats
    lower_is_better: bool = False
    bootstrap: int = 1000
    bootstrap_seed: int = 0


@dataclass
class Summary:
    """The result of one ``salesml run``: ``summary.json`` as typed data."""

    experiment: ExperimentInfo
    data: DataInfo
    candidates: list[CandidateResult]
    champion: Champion | None = None
    plots: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def candidate(self, name: str) -> CandidateResult:
        """The result of candidate ``name``."""
        for c in self.candidates:
            if c.name == name:
                return c
        raise KeyError(f"no candidate {name!r} in {self.experiment.name}")

    @property
    def verdict(self) -> Verdict | None:
        """The champion against the best rule (:data:`Verdict`); None without a comparison."""
        champ = self.champion
        return champ.outcome(self.experiment.lower_is_better) if champ is not None else None

    @property
    def failed(self) -> list[str]:
        """Names of the candidates that failed."""
        return [c.name for c in self.candidates if c.status != "ok"]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, MLflow and notebooks; ``schema_version`` first."""
        out = asdict(self)
        return {"schema_version": out.pop("schema_version"), **out}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Summary:
        """Rebuild a summary from :meth:`to_dict` output (unknown keys are ignored)."""
        exp = _build(ExperimentInfo, raw["experiment"])
        data_cls = _data_class(exp.task)
        champ = raw.get("champion")
        return cls(
            experiment=exp,
            data=_build(data_cls, raw["data"]),
            candidates=[_build(CandidateResult, c) for c in raw["candidates"]],
            champion=_build(Champion, champ) if champ else None,
            plots=list(raw.get("plots", [])),
            schema_version=int(raw["schema_version"]),
        )

    def write(self, path: str | Path) -> Path:
        """Write ``summary.json`` atomically: readers never see half a file."""
        from salesml.io.data import atomic_write

        text = json.dumps(self.to_dict(), indent=2, default=str) + "\n"
        return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _data_class(task: str) -> type:
    """The data block type of ``task`` (its spec's ``data``); plain DataInfo if unknown."""
    from salesml.experiment.tasks import task_names, task_spec

    if task not in task_names():
        return DataInfo
    return task_spec(task).data_class()


def _build(cls: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in names})


def load_summary(path: str | Path) -> Summary:
    """Read a ``summary.json`` written by ``salesml run``.

    Raises
    ------
    DataError
        When the file is missing, not JSON, or of another schema version.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "summary.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: summary not found") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a salesml summary ({exc})") from exc
    return parse_summary(text, str(path))


def parse_summary(text: str, where: str) -> Summary:
    """A summary from the text of a ``summary.json`` (e.g. an MLflow artifact) named ``where``.

    Raises
    ------
    DataError
        When the text is not JSON or of another schema version.
    """
    path = where
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not a salesml summary ({exc})") from exc
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version != SCHEMA_VERSION:
        raise DataError(
            f"{path}: summary schema_version {version!r}; this salesml reads {SCHEMA_VERSION} "
            "(re-run the experiment)"
        )
    return Summary.from_dict(raw)


def metric_items(metrics: dict[str, Any]) -> dict[str, float]:
    """Flatten ``{"roc_auc_ci": [lo, hi]}`` into ``roc_auc_ci_low`` and ``roc_auc_ci_high``."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            flat[f"{key}_low"], flat[f"{key}_high"] = float(value[0]), float(value[1])
        elif isinstance(value, int | float) and value == value:  # skip NaN
            flat[key] = float(value)
    return flat


def candidates_frame(summary: Summary) -> Any:
    """One row per candidate: role, status, fit seconds and every metric (CIs as low/high).

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate name, best first by the primary metric.
    """
    import pandas as pd

    rows = []
    for c in summary.candidates:
        row = {"candidate": c.name, "role": c.role, "type": c.type, "status": c.status}
        row.update(metric_items(c.metrics))
        row["fit_seconds"] = c.fit_seconds
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("candidate")
    metric = summary.experiment.primary_metric
    if metric in frame:
        frame = frame.sort_values(metric, ascending=summary.experiment.lower_is_better)
    return frame


def champion_verdict(summary: Summary) -> str:
    """One sentence: does the champion beat the best rule, by how much, how sure.

    The screen, the report and the model card all show this sentence. Empty
    when no model succeeded or there is no baseline to compare with.
    """
    champ = summary.champion
    if champ is None or champ.baseline is None:
        return ""
    verdict = champ.outcome(summary.experiment.lower_is_better)
    label = ci_label(champ.confidence)
    from salesml.experiment.tasks import metric_format

    fmt = metric_format(summary.experiment.task, champ.metric)
    fmt = "+" + (".4f" if fmt == ".3f" else fmt)  # a difference: signed, a digit more at .3f
    if verdict == "insufficient":
        delta = "" if champ.delta is None else f"{champ.metric} {format(champ.delta, fmt)}, "
        why = f": {champ.reason}" if champ.reason else ""
        return (
            f"Not enough data to tell whether {champ.name} beats {champ.baseline} "
            f"({delta}no {label}){why}; no champion registered"
        )
    if champ.delta is None or champ.delta_ci is None:
        return ""
    lo, hi = champ.delta_ci
    head = {
        "model": f"{champ.name} beats {champ.baseline}",
        "rule": f"No model beats the rules: {champ.baseline} beats the best model, {champ.name}",
    }.get(
        verdict or "tie",
        f"No model beats the rules: {champ.name} vs {champ.baseline} is not significant",
    )
    return (
        f"{head}: {champ.metric} {format(champ.delta, fmt)} "
        f"({label} {format(lo, fmt)} to {format(hi, fmt)})"
    )
