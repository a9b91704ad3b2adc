"""The ``churn_survival`` task: each candidate's survival curves judged on held-out customers.

``prepare`` reads and splits the customers (:mod:`.data`); each candidate is fitted
on the training customers and predicts every test customer's curve from joining
on. The stored predictions keep ``S`` at the metrics' times, the risk score
(minus the expected time as a customer over the grid) and, with a value
column, the value expected to be lost in the value window, so that a reopened
run recomputes every metric. The exported model is the evaluated one: its
metrics are the ones reported.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.task import Outcome, Resampling, TaskBase, finite_metrics
from salesml.experiment.tasks import task_spec
from salesml.io.figures import Drawing
from salesml.lifecycle.survival.config import SurvivalExperiment
from salesml.lifecycle.survival.data import SurvivalPrepared


class SurvivalTask(TaskBase):
    """Fits each candidate on the training customers and scores it on the test customers."""

    def __init__(self, config: SurvivalExperiment) -> None:
        self.config = config
        self.spec = task_spec(config.task)
        self._prepared: SurvivalPrepared | None = None

    def prepare(self) -> SurvivalPrepared:
        from salesml.lifecycle.survival.data import prepare_customers

        self._prepared = prepare_customers(self.config)
        return self._prepared

    @property
    def prepared(self) -> SurvivalPrepared:
        return self._prepared if self._prepared is not None else self.prepare()

    def plan(self, info: Any) -> list[str]:
        lines = [
            f"customers: {info.rows:,}, {info.events:,} left ({info.events / info.rows:.1%}); "
            f"train {info.train_rows:,}, test {info.test_rows:,} (stratified by the event)",
            "measured at "
            + ", ".join(f"{t:g}" for t in info.evaluation_times)
            + f" {info.unit}s since joining",
        ]
        for col, why in info.guarded.items():
            lines.append(f"left out {col}: {why} (it would give the duration away)")
        return lines

    def notes(self) -> list[str]:
        return self.plan(self.prepared.info)

    def _predictions(self, model: Any) -> pd.DataFrame:
        from salesml.lifecycle.survival.curves import remaining_mean, survival_at
        from salesml.lifecycle.survival.metrics import s_column

        prep, info = self.prepared, self.prepared.info
        S = model.survival(prep.X_test)
        grid = model.grid_
        n = len(S)
        out = pd.DataFrame(
            {
                "customer": prep.test_ids,
                "time": prep.t_test,
                "event": prep.e_test.astype(int),
                "risk": -np.trapezoid(S, grid, axis=1),
                "eval_times": " ".join(f"{t:g}" for t in info.evaluation_times),
                "landmarks": " ".join(f"{t:g}" for t in info.landmarks),
                "landmark_h": max(info.horizons),
            }
        )
        at = survival_at(grid, S, np.tile(prep.stored_times, (n, 1)))
        stored = pd.DataFrame(at, columns=[s_column(t) for t in prep.stored_times])
        out = pd.concat([out, stored], axis=1)
        if prep.value_test is not None:
            kept = remaining_mean(grid, S, np.zeros(n), info.value_window)
            out["value"] = prep.value_test
            out["lost_pred"] = prep.value_test * (info.value_window - kept)
            out["value_window"] = info.value_window
        return out

    def fit_evaluate(self, candidate: Any, role: str, plot_dir: Path) -> Outcome:
        from salesml.lifecycle.survival.view import metrics_with_cis

        prep = self.prepared
        t0 = time.perf_counter()
        model = candidate.spec.make(self.config.evaluation.seed, **dict(candidate.params))
        model.fit(prep.X_train, prep.t_train, prep.e_train)
        predictions = self._predictions(model)
        fit_seconds = time.perf_counter() - t0
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
            fitted=model,
        )

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        from salesml.lifecycle.plots import gone_figure
        from salesml.lifecycle.survival.view import observed_and_predicted

        table = {outcome.name: observed_and_predicted(outcome.predictions)}
        return [Drawing(plot_dir / "churn_by_time.png", gone_figure, (table, self.config.unit))]

    def export(self, outcome: Outcome, candidate: Any) -> Any:
        """The evaluated model itself (fitted on the training customers); rules are not exported."""
        from salesml.experiment.card import ModelCard
        from salesml.lifecycle.survival.export import SurvivalPredictor, Tenure
        from salesml.tracking.pickled import PickledExport

        if outcome.role != "model":
            return None
        prep, cfg, d = self.prepared, self.config, self.config.data
        model = outcome.fitted  # the model the metrics describe, fitted on the training part
        if model is None:  # an outcome made elsewhere: the same fit, made now
            model = candidate.spec.make(cfg.evaluation.seed, **dict(candidate.params))
            model.fit(prep.X_train, prep.t_train, prep.e_train)
        card = ModelCard.of_outcome(
            self.spec,
            cfg,
            candidate,
            outcome,
            prep.info,
            facts={
                "tenure": [c for c in (d.duration, d.start, d.end) if c],
                "unit": cfg.unit,
                "features": prep.info.features,
            },
        )
        tenure = Tenure(d.duration, d.event, d.event_value, d.start, d.end, cfg.unit)
        predictor = SurvivalPredictor(
            model,
            prep.info.features,
            tenure,
            d.id,
            d.value,
            [float(h) for h in cfg.horizons],
            cfg.value_window,
            card,
        )
        example = prep.frame.head(200)
        outcome.input_example = example
        read = tuple(dict.fromkeys(c for c in [*prep.info.features, *tenure.columns, d.value] if c))
        params = (("reasons", "boolean", True), ("as_of", "string", ""))
        return PickledExport(predictor, example, read=read, params=params)

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """The primary metric of ``a`` minus ``b``, paired over test customers."""
        from salesml.experiment.evaluation import MIN_UNITS, NotEnoughData

        rs = Resampling.of(self.config.evaluation)
        name = self.config.evaluation.metric or self.spec.primary_metric
        delta, ci = self.spec.make_view().paired(a.predictions, b.predictions, name, rs)
        if not all(np.isfinite(ci)):
            raise NotEnoughData(f"fewer than {MIN_UNITS} customers or churners", float(delta))
        return float(delta), [float(v) for v in ci]

    def datasets(self) -> dict[str, tuple[Any, str]]:
        prep = self.prepared
        return {"train": (prep.X_train, "training customers"), "test": (prep.X_test, "test")}
