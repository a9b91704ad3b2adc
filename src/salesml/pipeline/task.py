"""The ``bookings`` task: period bookings from the open pipeline, backtested period by period.

``prepare`` reads the opportunities export (and its stage history) through
:mod:`salesml.crm`, and builds every whole period's opening snapshot and
bookings (:func:`~salesml.pipeline.periods.build_backtest`). For each of the
last ``backtest.cutoffs`` periods, each candidate is fitted on what was known at
the period's start (:class:`~salesml.pipeline.periods.Known`) and forecasts the
period's bookings by segment; the predictions keep every period x segment
(and every open deal, for candidates that weigh deals) with what actually
happened, and the metrics and the paired comparison come from them
(:class:`~salesml.pipeline.view.BookingsView`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.crm.history import StageHistory, read_history
from salesml.crm.opportunities import Opportunities, StatusValues, read_opportunities
from salesml.errors import DataError
from salesml.experiment.results import DataInfo
from salesml.experiment.task import Outcome, Resampling, TaskBase
from salesml.experiment.tasks import task_spec
from salesml.io.figures import Drawing
from salesml.pipeline.config import BookingsExperiment
from salesml.pipeline.periods import Backtest, build_backtest
from salesml.pipeline.rules import Rule


@dataclass
class BookingsData(DataInfo):
    """The deals, the periods backtested and what the snapshots could know.

    ``deals`` counts won, lost and open deals in the export; ``roles`` names the
    export's column behind each role; ``history`` says whether a stage history
    was read (``history_rows`` its changes); ``current`` names snapshot columns
    taken from today's export rather than as of the forecast's day.
    """

    period: str = "month"
    cutoffs: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    deals: dict[str, int] = field(default_factory=dict)
    win_rate: float = float("nan")
    roles: dict[str, str | None] = field(default_factory=dict)
    history: bool = False
    history_rows: int = 0
    stages: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    # closed deals whose close date comes before their created date (crm.timeline)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    # each model's forecast of the period after the data, from the export (see export())
    next_period: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class BookingsPrepared:
    """The data a bookings experiment runs on."""

    info: BookingsData
    opportunities: Opportunities
    history: StageHistory | None
    backtest: Backtest
    raw: pd.DataFrame  # the export as read (what the exported model reads too)


class BookingsTask(TaskBase):
    """Backtests bookings candidates period by period (see the module)."""

    def __init__(self, config: BookingsExperiment) -> None:
        self.config = config
        self.spec = task_spec(config.task)
        self._prepared: BookingsPrepared | None = None
        self._fallbacks: dict[str, int] = {}  # forecasts a rule made by its simpler form

    def prepare(self) -> BookingsPrepared:
        from salesml.crm.opportunities import STATUS, status_from_dates
        from salesml.io.data import ensure_data, join_table, load_table

        d, source = self.config.data, self.config.source
        ensure_data(d.path, d.generate, source)
        status = StatusValues(
            tuple(d.won) if d.won else StatusValues.won,
            tuple(d.lost) if d.lost else StatusValues.lost,
        )
        table = load_table(d.path, read=d.read)
        frame, cols = table.frame, d.columns.model_dump()
        if d.join is not None:
            frame = join_table(frame, d.join, str(d.path))
        if d.lost_after_days is not None:
            frame = status_from_dates(
                frame, cols["created"], cols["close"], d.lost_after_days, str(d.path)
            )
            cols["stage"], status = STATUS, StatusValues()
        opps = read_opportunities(frame, str(d.path), _roles(cols), status)
        if opps.columns.amount is None:  # bookings counted in deals
            opps.frame["amount"] = 1.0
        history = None
        if d.history is not None:
            generate = (
                d.generate.model_copy(update={"kind": "pipeline_history"}) if d.generate else None
            )
            ensure_data(d.history, generate, source)
            hist_cols = _history_roles(d.history_columns.model_dump())
            history = read_history(load_table(d.history).frame, str(d.history), hist_cols, status)
            unknown = set(history.frame["opportunity_id"]) - set(opps.frame["opportunity_id"])
            if unknown:
                raise DataError(
                    f"{d.history}: {len(unknown)} deal(s) of the stage history are not in "
                    f"{d.path} (e.g. {sorted(unknown)[0]!r})"
                )
        bt_cfg = self.config.backtest
        try:
            backtest = build_backtest(
                opps, history, self.config.period, bt_cfg.cutoffs, bt_cfg.min_past, bt_cfg.last
            )
        except ValueError as exc:
            raise DataError(f"{d.path}: {exc}") from exc
        last = backtest.periods[backtest.scored[-1]].snapshot
        info = BookingsData(
            path=str(d.path),
            sha256=table.sha256,
            rows=len(opps.frame),
            period=self.config.period,
            cutoffs=[backtest.periods[i].period.label for i in backtest.scored],
            segments=[str(s) for s in backtest.segments],
            deals=opps.counts(),
            win_rate=opps.win_rate(),
            roles={k: v for k, v in vars(opps.columns).items()},
            history=history is not None,
            history_rows=0 if history is None else len(history.frame),
            stages=list(backtest.stages),
            current=list(last.current),
            timeline=[f.to_dict() for f in _timeline(opps)],
        )
        self._prepared = BookingsPrepared(info, opps, history, backtest, frame)
        return self._prepared

    @property
    def prepared(self) -> BookingsPrepared:
        if self._prepared is None:
            return self.prepare()
        return self._prepared

    def plan(self, info: Any) -> list[str]:
        n = len(info.cutoffs) * len(info.segments)
        return [
            f"deals: {info.rows:,} ({info.deals.get('won', 0):,} won, "
            f"{info.deals.get('lost', 0):,} lost, {info.deals.get('open', 0):,} open; "
            f"win rate {info.win_rate:.1%})",
            f"backtest: {len(info.cutoffs)} {info.period}s, {info.cutoffs[0]} to "
            f"{info.cutoffs[-1]}, {len(info.segments)} segment(s): {n} periods x segments",
            "stage history: " + (f"{info.history_rows:,} changes" if info.history else "none"),
        ]

    def notes(self) -> list[str]:
        info = self.prepared.info
        out = [self.plan(info)[1]]
        if info.roles.get("amount") is None:
            out.append("no amount column: bookings are counted in deals won")
        if self.config.data.lost_after_days is not None:
            out.append(
                f"no stage column: a deal not won {self.config.data.lost_after_days} days "
                "after it was created counts as lost that day"
            )
        from salesml.crm.timeline import TimelineFlag

        for flag in info.timeline:
            flag = TimelineFlag(**{**flag, "examples": tuple(flag["examples"])})
            out.append(flag.line(TIMELINE_CONSEQUENCE))
        for name, n in self._fallbacks.items():
            out.append(
                f"{name}: no period a year before for {n} of {len(info.cutoffs)} forecasts; "
                "last period's bookings stood in"
            )
        if info.current and info.roles.get("amount") is not None:
            out.append(
                f"snapshots use today's {', '.join(info.current)} for deals without an "
                "earlier record: values revised since may leak into the backtest"
            )
        return out

    def fit_evaluate(self, candidate: Any, role: str, plot_dir: Path) -> Outcome:
        from salesml.pipeline.forecasts import QCOLS

        bt = self.prepared.backtest
        params = dict(candidate.params)
        seed = self.config.evaluation.seed
        frames = []
        fallbacks = 0
        t0 = time.perf_counter()
        for i in bt.scored:
            known = bt.known(i)
            data = bt.periods[i]
            model = candidate.spec.make(seed, **params).fit(known)
            fc = model.predict(known)
            if isinstance(model, Rule):
                fallbacks += model.fallbacks_
            seg = fc.by_segment.reset_index()
            seg["actual"] = data.bookings.reindex(seg["segment"]).to_numpy(dtype=float)
            seg["level"], seg["cutoff"] = "segment", data.period.label
            frames.append(seg)
            if fc.deals is not None:
                deal = fc.deals.copy()
                deal["segment"] = known.segments.to_numpy()
                deal["won"] = data.outcomes["won"].to_numpy(dtype=float)
                deal["won_amount"] = data.outcomes["won_amount"].to_numpy(dtype=float)
                deal["level"], deal["cutoff"] = "deal", data.period.label
                frames.append(deal)
        fit_seconds = time.perf_counter() - t0
        columns = ["level", "cutoff", "segment", "actual", "mean", *QCOLS]
        columns += ["opportunity_id", "probability", "expected", "won", "won_amount"]
        predictions = pd.concat(frames, ignore_index=True).reindex(columns=columns)
        predictions["segment"] = predictions["segment"].astype(str)
        predictions["opportunity_id"] = predictions["opportunity_id"].astype("string")
        metrics = self._metrics(predictions)
        if fallbacks:
            self._fallbacks[candidate.name] = fallbacks
            params = {**params, "fallbacks": fallbacks}
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params={"period": self.config.period, "cutoffs": len(bt.scored), **params},
            fit_seconds=fit_seconds,
            predictions=predictions,
        )

    def _metrics(self, predictions: pd.DataFrame) -> dict[str, Any]:
        view = self.spec.make_view()
        rs = Resampling.of(self.config.evaluation)
        out: dict[str, Any] = {}
        for m in self.spec.metrics:
            point, ci = view.metric(predictions, m.name, rs)
            if not np.isfinite(point):
                continue
            out[m.name] = point
            if all(np.isfinite(ci)):
                out[f"{m.name}_ci"] = ci
        return out

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        from salesml.pipeline.plots import forecast_vs_actual

        args = ({outcome.name: outcome.predictions}, outcome.name)
        return [Drawing(plot_dir / "bookings.png", forecast_vs_actual, args)]

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Drawing]:
        from salesml.pipeline.plots import forecast_vs_actual

        best = min(
            (o for o in outcomes if o.role == "model" and "mae" in o.metrics),
            key=lambda o: o.metrics["mae"],
            default=None,
        )
        preds = {o.name: o.predictions for o in outcomes}
        args = (preds, best.name if best else None)
        return [Drawing(plot_dir / "comparison.png", forecast_vs_actual, args)]

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """Mean absolute period error of ``a`` minus ``b``, paired over periods x segments."""
        from salesml.experiment.evaluation import MIN_UNITS, NotEnoughData

        rs = Resampling.of(self.config.evaluation)
        view = self.spec.make_view()
        delta, ci = view.paired(a.predictions, b.predictions, self.spec.primary_metric, rs)
        if not all(np.isfinite(ci)):
            n = len(self.prepared.info.cutoffs) * len(self.prepared.info.segments)
            raise NotEnoughData(
                f"{n} periods x segments, fewer than the {MIN_UNITS} a CI needs", float(delta)
            )
        return float(delta), [float(v) for v in ci]

    def export(self, outcome: Outcome, candidate: Any) -> Any:
        """A model candidate refitted on every whole period, reading exports like the training one.

        Rules are not exported (a CRM computes them already).
        """
        from salesml.experiment.card import ModelCard
        from salesml.pipeline.export import BookingsPredictor, period_of
        from salesml.pipeline.periods import Known
        from salesml.tracking.pickled import PickledExport

        if outcome.role != "model":
            return None
        prep, cfg = self.prepared, self.config
        bt = prep.backtest
        last = bt.periods[-1]
        known = Known(
            period_of(last.period.end, cfg.period),
            last.snapshot,
            last.segments,
            bt.periods,
            bt.segments,
            bt.stages,
        )
        model = candidate.spec.make(cfg.evaluation.seed, **dict(candidate.params)).fit(known)
        card = ModelCard.of_outcome(
            self.spec,
            cfg,
            candidate,
            outcome,
            prep.info,
            id_columns=[prep.opportunities.columns.id] if prep.opportunities.columns.id else [],
            facts={
                "roles": dict(vars(prep.opportunities.columns)),
                "won": list(prep.opportunities.status_values.won),
                "lost": list(prep.opportunities.status_values.lost),
                "unknown_without_history": "days in stage, stage changes, close-date pushes",
            },
        )
        predictor = BookingsPredictor(
            model,
            prep.opportunities.columns,
            prep.opportunities.status_values,
            cfg.period,
            bt.segments,
            bt.stages,
            card,
        )
        outcome.input_example = self._example()
        prep.info.next_period[candidate.name] = _next_period(predictor.predict(prep.raw))
        return PickledExport(
            predictor,
            outcome.input_example,
            read=tuple(prep.opportunities.columns.used()),
            params=(("as_of", "string", ""), ("period", "string", "")),
        )

    def _example(self, closed: int = 60) -> pd.DataFrame:
        """Rows of the export for the model's example: every open deal and the latest closed ones.

        Every column of the export is kept: the model takes an export as it comes (the
        columns it does not read are optional in its signature).
        """
        prep = self.prepared
        raw = prep.raw
        status = prep.opportunities.frame["status"]
        open_rows = raw[status.eq("open").to_numpy()]
        done = raw[status.ne("open").to_numpy()]
        return pd.concat([open_rows, done.tail(closed)]).reset_index(drop=True)

    def datasets(self) -> dict[str, tuple[pd.DataFrame, str]]:
        return {"opportunities": (self.prepared.opportunities.frame, "training")}


def _next_period(forecast: pd.DataFrame, top: int = 5) -> dict[str, Any]:
    """The summary's record of a model's forecast of the period after the data: the roll-up
    by segment and in total, and the deals with the largest expected values."""
    seg = forecast[forecast["level"] == "segment"]
    deals = forecast[forecast["level"] == "deal"].nlargest(top, "expected")
    return {
        "period": str(forecast["period"].iloc[0]),
        "as_of": str(forecast["as_of"].iloc[0]),
        "segments": seg[["segment", "booked", "mean", "q10", "q90"]].to_dict("records"),
        "deals": deals[
            ["opportunity_id", "segment", "stage", "amount", "probability", "expected", "reason_1"]
        ].to_dict("records"),
    }


TIMELINE_CONSEQUENCE = "no snapshot holds them open; their bookings count in the period they closed"


def _timeline(opps: Opportunities) -> list[Any]:
    """Closed deals whose close date comes before their created date, named as exported."""
    from salesml.crm.timeline import check_timeline

    cols = opps.columns
    done = opps.frame[opps.closed]
    named = done.rename(columns={"created": cols.created, "close": cols.close or "close"})
    return check_timeline(named, [(cols.created, cols.close or "close")])


def _roles(cols: dict[str, str | None]) -> Any:
    from salesml.crm.opportunities import OpportunityColumns

    return OpportunityColumns(**cols)


def _history_roles(cols: dict[str, str | None]) -> Any:
    from salesml.crm.history import HistoryColumns

    return HistoryColumns(**cols)
