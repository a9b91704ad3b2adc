"""The ``customer_value`` task: repeat purchases and spend per customer over a holdout period.

``prepare`` reads and cleans the transaction log (:mod:`salesml.lifecycle.transactions`,
each rule counted), summarises every customer seen by the calibration end and
counts what each bought in the holdout. Candidates that learn a mapping (RFM
cells, LightGBM) get an earlier cut of the calibration period, the middle of it,
with what followed up to the calibration end: nothing from the holdout reaches a fit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.experiment.results import DataInfo
from salesml.experiment.task import Outcome, Resampling, TaskBase, finite_metrics
from salesml.experiment.tasks import task_spec
from salesml.io.figures import Drawing
from salesml.lifecycle.candidates import ValueData
from salesml.lifecycle.config import ValueExperiment
from salesml.lifecycle.summary import Purchases


@dataclass
class CustomerData(DataInfo):
    """The customers, the periods and what cleaning did (``rows``: customers)."""

    calibration_end: str = ""
    holdout_end: str = ""
    train_cut: str = ""
    unit_days: float = 7.0
    cleaning: dict[str, int] = field(default_factory=dict)
    cleaning_line: str = ""
    repeat_buyers: int = 0
    holdout_purchases: int = 0


@dataclass(frozen=True)
class ValuePrepared:
    info: CustomerData
    data: ValueData
    actual: pd.DataFrame  # actual_purchases, actual_spend per customer (the summary's index)
    purchases: Purchases  # the cleaned log, calibration and holdout (the export refits on it)
    columns: Any
    rules: Any


class ValueTask(TaskBase):
    """Fits each candidate on the calibration period and scores it on the holdout."""

    def __init__(self, config: ValueExperiment) -> None:
        self.config = config
        self.spec = task_spec(config.task)
        self._prepared: ValuePrepared | None = None

    def prepare(self) -> ValuePrepared:
        from salesml.io.data import ensure_data, load_table
        from salesml.lifecycle.purchase_log import between, read_purchases, value_data
        from salesml.lifecycle.transactions import CleaningRules, Columns, describe

        cfg, d = self.config, self.config.data
        ensure_data(d.path, d.generate, cfg.source)
        table = load_table(d.path, date_format=d.date_format, read=d.read)
        cols = Columns(d.customer, d.time, d.value, d.quantity, d.invoice)
        missing = [c for c in vars(cols).values() if c and c not in table.frame.columns]
        if missing:
            raise DataError(f"{d.path}: column(s) {', '.join(map(repr, missing))} not in the data")
        rules = CleaningRules(**cfg.cleaning.model_dump())
        purchases, counts = read_purchases(table.frame, cols, rules, str(d.path))
        self._raw = table.frame
        cal, hold = pd.Timestamp(cfg.calibration_end), pd.Timestamp(cfg.holdout_end)
        data, cut = value_data(purchases, cal, (hold - cal).days, cfg.unit_days)
        summary = data.summary
        if len(summary) < 2:
            raise DataError(f"{d.path}: {len(summary)} customer(s) by {cal:%Y-%m-%d}")
        actual = between(purchases, cal, hold).reindex(summary.index, fill_value=0)
        info = CustomerData(
            path=str(d.path),
            sha256=table.sha256,
            rows=len(summary),
            calibration_end=f"{cal:%Y-%m-%d}",
            holdout_end=f"{hold:%Y-%m-%d}",
            train_cut=f"{cut:%Y-%m-%d}",
            unit_days=cfg.unit_days,
            cleaning=counts,
            cleaning_line=describe(counts, rules),
            repeat_buyers=int((summary["frequency"] > 0).sum()),
            holdout_purchases=int(actual["actual_purchases"].sum()),
        )
        self._prepared = ValuePrepared(info, data, actual, purchases, cols, rules)
        return self._prepared

    @property
    def prepared(self) -> ValuePrepared:
        return self._prepared if self._prepared is not None else self.prepare()

    def plan(self, info: Any) -> list[str]:
        return [
            f"customers: {info.rows:,} ({info.repeat_buyers:,} bought again by "
            f"{info.calibration_end}); holdout to {info.holdout_end}: "
            f"{info.holdout_purchases:,} purchases",
            info.cleaning_line,
        ]

    def notes(self) -> list[str]:
        return self.plan(self.prepared.info)

    def fit_evaluate(self, candidate: Any, role: str, plot_dir: Path) -> Outcome:
        prep = self.prepared
        t0 = time.perf_counter()
        model = candidate.spec.make(self.config.evaluation.seed, **dict(candidate.params))
        fc = model.fit(prep.data).predict(prep.data)
        fit_seconds = time.perf_counter() - t0
        s = prep.data.summary
        predictions = pd.DataFrame(
            {
                "customer": s.index.astype(str),
                "frequency": s["frequency"].to_numpy(),
                "purchases": fc.frame["purchases"].to_numpy(float),
                "spend": fc.frame["spend"].to_numpy(float),
                "actual_purchases": prep.actual["actual_purchases"].to_numpy(float),
                "actual_spend": prep.actual["actual_spend"].to_numpy(float),
                "p_alive": fc.p_alive if fc.p_alive is not None else np.nan,
            }
        )
        from salesml.lifecycle.view import metrics_with_cis

        rs = Resampling.of(self.config.evaluation)
        names = [m.name for m in self.spec.metrics]
        metrics = finite_metrics(metrics_with_cis(predictions, names, rs))
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=dict(candidate.params),
            fit_seconds=fit_seconds,
            predictions=predictions,
        )

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        from salesml.lifecycle.plots import frequency_figure
        from salesml.lifecycle.view import by_frequency

        args = ({outcome.name: by_frequency(outcome.predictions)},)
        return [Drawing(plot_dir / "by_frequency.png", frequency_figure, args)]

    def export(self, outcome: Outcome, candidate: Any) -> Any:
        """A model refitted on the whole log (calibration and holdout); rules are not exported."""
        from salesml.experiment.card import ModelCard
        from salesml.lifecycle.export import ValuePredictor
        from salesml.lifecycle.purchase_log import value_data
        from salesml.tracking.pickled import PickledExport

        if outcome.role != "model":
            return None
        prep, cfg = self.prepared, self.config
        hold = pd.Timestamp(cfg.holdout_end)
        horizon = float((hold - pd.Timestamp(cfg.calibration_end)).days)
        data, _ = value_data(prep.purchases, hold, horizon, cfg.unit_days)
        model = candidate.spec.make(cfg.evaluation.seed, **dict(candidate.params)).fit(data)
        card = ModelCard.of_outcome(
            self.spec,
            cfg,
            candidate,
            outcome,
            prep.info,
            facts={"columns": dict(vars(prep.columns)), "cleaning": dict(vars(prep.rules))},
        )
        predictor = ValuePredictor(model, prep.columns, prep.rules, horizon, cfg.unit_days, card)
        raw = self._raw.head(500)
        outcome.input_example = raw
        read = tuple(c for c in vars(prep.columns).values() if c)
        return PickledExport(
            predictor, raw, read=read, params=(("as_of", "string", ""), ("h", "double", 0.0))
        )

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Holdout purchase MAE of ``a`` minus ``b``, paired over customers."""
        from salesml.experiment.evaluation import MIN_UNITS, NotEnoughData

        rs = Resampling.of(self.config.evaluation)
        delta, ci = self.spec.make_view().paired(
            a.predictions, b.predictions, self.spec.primary_metric, rs
        )
        if not all(np.isfinite(ci)):
            raise NotEnoughData(f"fewer than {MIN_UNITS} customers", float(delta))
        return float(delta), [float(v) for v in ci]
