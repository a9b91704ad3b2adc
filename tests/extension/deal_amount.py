"""A third task, defined outside salesml: predict a deal's amount.

This file is the example of README's "Adding a task". It touches no salesml
module: it declares its candidates, registers a :class:`~salesml.TaskSpec`,
and defines the task's config, its :class:`~salesml.experiment.task.Task`
(prepare, plan, fit and evaluate one candidate) and its
:class:`~salesml.experiment.task.TaskView` (metrics with CIs and figures from
stored predictions, the report's words, the model card's lines). The exported
model is an MLflow model from code (``deal_amount_pyfunc.py``) whose state is
one JSON file.

The rule a sales team uses: a deal is worth the median amount of its segment.
The model: per segment, a least-squares line in the number of seats.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from salesml.experiment.candidates import candidate_union
from salesml.experiment.card import ModelCard
from salesml.experiment.config import DataConfigBase, ExperimentBase
from salesml.experiment.evaluation import bootstrap_map, interval, paired_difference
from salesml.experiment.registry import CandidateSpec
from salesml.experiment.results import DataInfo
from salesml.experiment.task import Outcome, Resampling, Section, TaskBase
from salesml.experiment.tasks import MetricSpec, ScoringSpec, TaskSpec, register_task

HERE = Path(__file__).resolve().parent

# -- candidates: declared once, with their builders ----------------------------------

CANDIDATES = (
    CandidateSpec(
        type="segment_median",
        family="deal_regression",
        role="baseline",
        description="Each deal is worth the median amount of its segment",
        build="deal_amount:median_rule",
    ),
    CandidateSpec(
        type="seats_line",
        family="deal_regression",
        role="model",
        description="Per segment, a least-squares line in the number of seats",
        build="deal_amount:seats_line",
    ),
)


@dataclass
class SegmentModel:
    """Per segment: amount = intercept + slope x seats (slope 0 for the median rule)."""

    slope: bool

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> SegmentModel:
        self.coef_: dict[str, list[float]] = {}
        for seg, rows in X.groupby("segment").groups.items():
            yy, seats = y[X.index.get_indexer(rows)], X.loc[rows, "seats"].to_numpy(float)
            if self.slope and np.ptp(seats) > 0:
                b, a = np.polyfit(seats, yy, 1)
                self.coef_[str(seg)] = [float(a), float(b)]
            else:
                self.coef_[str(seg)] = [float(np.median(yy)), 0.0]
        self.fallback_ = float(np.median(y))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return predict_amount(self.coef_, self.fallback_, X)


def median_rule(context: Any) -> SegmentModel:
    """The rule's builder (``CandidateSpec.build``): the segment's median amount."""
    return SegmentModel(slope=False)


def seats_line(context: Any) -> SegmentModel:
    """The model's builder: a line in seats per segment."""
    return SegmentModel(slope=True)


def predict_amount(coef: dict[str, list[float]], fallback: float, X: pd.DataFrame) -> np.ndarray:
    """The amounts of ``X`` (``segment``, ``seats``); an unseen segment gets ``fallback``."""
    a = X["segment"].astype(str).map(lambda s: coef.get(s, [fallback, 0.0])[0])
    b = X["segment"].astype(str).map(lambda s: coef.get(s, [fallback, 0.0])[1])
    return (a + b * X["seats"].astype(float)).to_numpy(float)


# -- the task's declaration -------------------------------------------------------------

SPEC = register_task(
    TaskSpec(
        name="deal_amount",
        family="deal_regression",
        description="What a deal is worth: amount per deal, against the segment-median rule.",
        config="deal_amount:DealAmountExperiment",
        task="deal_amount:DealAmountTask",
        candidates="deal_amount",
        metrics=(
            MetricSpec("mae", "mean absolute error", lower_is_better=True, fmt=",.0f"),
            MetricSpec("bias", "mean error", fmt=",.0f"),
        ),
        primary_metric="mae",
        view="deal_amount:DealAmountView",
        scoring=ScoringSpec(kind="deal_amount"),
        intended_use="Price open deals for the pipeline forecast.",
        words={"rows": "deals"},
    )
)


class DealData(DataConfigBase):
    """Where the deals are: amount (target), segment, seats and an optional id."""

    id: str | None = None


class DealSplit(BaseModel):
    """A random split of the deals."""

    model_config = ConfigDict(extra="forbid")

    test_size: float = Field(default=0.3, gt=0, lt=1)
    seed: int = 0


class DealAmountExperiment(ExperimentBase):
    """The config of a deal-amount experiment (validated once, by salesml's loader)."""

    family: ClassVar[str] = "deal_regression"
    task: Literal["deal_amount"]
    data: DealData
    split: DealSplit = Field(default_factory=DealSplit)
    baselines: list[candidate_union("deal_regression", "baseline")] = Field(default_factory=list)  # type: ignore[valid-type]
    models: list[candidate_union("deal_regression", "model")] = Field(default_factory=list)  # type: ignore[valid-type]


# -- metrics from predictions (shared by the task and the view) ----------------------------


def _statistic(name: str, err: np.ndarray) -> Any:
    if name == "mae":
        return lambda w: np.array([np.abs(err).mean()]) if w is None else w @ np.abs(err) / w.sum(1)
    if name == "bias":
        return lambda w: np.array([err.mean()]) if w is None else w @ err / w.sum(1)
    raise KeyError(f"deal_amount has no metric {name!r}; choose from mae, bias")


def _errors(predictions: pd.DataFrame) -> np.ndarray:
    frame = predictions.sort_values("row")
    return (frame["yhat"] - frame["y"]).to_numpy(float)


class DealAmountView:
    """Metrics with CIs, figures and words from a deal-amount run's stored predictions."""

    figures = ("residuals",)

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec

    def metric(self, predictions: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        err = _errors(predictions)
        stat = _statistic(name, err)
        reps = np.concatenate(bootstrap_map(stat, len(err), rs.bootstrap, rs.seed, rs.n_jobs))
        return float(stat(None)[0]), interval(reps, rs.confidence)

    def paired(self, a: Any, b: Any, name: str, rs: Resampling) -> tuple[float, list[float]]:
        ea, eb = _errors(a), _errors(b)
        sa, sb = _statistic(name, ea), _statistic(name, eb)
        return paired_difference(
            lambda w: sa(w) - sb(w), len(ea), rs.bootstrap, rs.seed, rs.confidence, rs.n_jobs
        )

    def figure(self, name: str, run: Any, candidate: str | None, path: Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if name not in self.figures:
            raise KeyError(f"no figure {name!r}; choose from {', '.join(self.figures)}")
        fig, ax = plt.subplots(figsize=(6, 4))
        for cand in run.candidates:
            frame = run.predictions_of(cand)
            ax.scatter(frame["y"], frame["yhat"] - frame["y"], s=6, label=cand)
        ax.set(xlabel="amount", ylabel="error")
        ax.legend()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
        return path

    def headline(self, summary: Any) -> str:
        champ = summary.champion
        if champ is None:
            return "No model could be fitted."
        mae = summary.candidate(champ.name).metrics["mae"]
        return f"The model ({champ.name}) misprices a deal by {mae:,.0f} on average."

    def sections(self, summary: Any) -> list[Section]:
        return [Section(title="Deals", paragraphs=(f"{summary.data.rows:,} deals.",))]

    def card_lines(self, card: ModelCard, summary: Any) -> list[str]:
        return ["", "## Segments", "", f"{len(card.facts.get('segments', []))} segments priced."]


# -- the task --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deals:
    """The prepared deals: the data block, features, amounts and the split."""

    info: DataInfo
    X: pd.DataFrame
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray


class DealAmountTask(TaskBase):
    """Prepare deals, fit one candidate, predict the test deals."""

    def __init__(self, config: DealAmountExperiment) -> None:
        self.config = config

    def prepare(self) -> Deals:
        dc = self.config.data
        frame = pd.read_csv(dc.path)
        rng = np.random.default_rng(self.config.split.seed)
        test = np.sort(rng.permutation(len(frame))[: int(len(frame) * self.config.split.test_size)])
        info = DataInfo(
            path=str(dc.path),
            sha256=hashlib.sha256(Path(dc.path).read_bytes()).hexdigest(),
            rows=len(frame),
        )
        train = np.setdiff1d(np.arange(len(frame)), test)
        self.data = Deals(
            info, frame[["segment", "seats"]], frame[dc.target].to_numpy(float), train, test
        )
        return self.data

    def plan(self, info: DataInfo) -> list[str]:
        d = self.data
        return [f"split: train {len(d.train):,} deals, test {len(d.test):,} deals"]

    def fit_evaluate(self, candidate: Any, role: str, plot_dir: Path) -> Outcome:
        d = self.data
        t0 = time.perf_counter()
        model = candidate.spec.make(None).fit(d.X.iloc[d.train], d.y[d.train])
        seconds = time.perf_counter() - t0
        predictions = pd.DataFrame(
            {"row": d.test, "y": d.y[d.test], "yhat": model.predict(d.X.iloc[d.test])}
        )
        rs = Resampling.of(self.config.evaluation)
        view = DealAmountView(SPEC)
        metrics: dict[str, Any] = {}
        for m in SPEC.metrics:
            metrics[m.name], metrics[f"{m.name}_ci"] = view.metric(predictions, m.name, rs)
        card = ModelCard(
            kind="deal_amount",
            task="deal_amount",
            candidate=candidate.name,
            type=candidate.type,
            role=role,
            experiment=self.config.name,
            metrics=metrics,
            id_columns=[self.config.data.id] if self.config.data.id else [],
            facts={"segments": sorted(model.coef_)},
        )
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            fit_seconds=seconds,
            model=ExportedDealModel(model.coef_, model.fallback_, card),
            input_example=d.X.head(3).astype({"seats": float}),
            predictions=predictions,
        )

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        rs = Resampling.of(self.config.evaluation)
        return DealAmountView(SPEC).paired(a.predictions, b.predictions, "mae", rs)


@dataclass
class ExportedDealModel:
    """The exported model: coefficients as JSON, read by ``deal_amount_pyfunc.py``."""

    coef: dict[str, list[float]]
    fallback: float
    card: ModelCard
    code_path: Path = HERE / "deal_amount_pyfunc.py"

    def write_artifacts(self, folder: Path) -> dict[str, str]:
        path = folder / "coef.json"
        path.write_text(json.dumps({"coef": self.coef, "fallback": self.fallback}))
        return {"coef": str(path)}

    def signature(self) -> Any:
        from mlflow.models import ModelSignature
        from mlflow.types.schema import ColSpec, Schema

        inputs = Schema([ColSpec("string", "segment"), ColSpec("double", "seats")])
        return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("double", "amount")]))

    def metadata(self) -> dict[str, Any]:
        return self.card.to_metadata()
