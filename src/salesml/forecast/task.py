"""Sales forecasts: long-format data, a rolling-origin backtest, metrics, the forecast task.

Data are turned into the long (Nixtla) format ``unique_id, ds, y`` plus the
exogenous columns; several ``data.id`` columns are joined with ``/``.

Documented handling of awkward input (every refusal is a :class:`DataError`
naming the file and the column or series):

- Dates are parsed with ``data.date_format`` (default ISO 8601); a value that
  does not parse is an error naming the column and the value.
- A repeated (series, date) pair is an error naming the series.
- A missing or non-numeric target value is an error naming the series or the
  value. Negative values (returns) are kept, counted and reported by default;
  ``data.negative: clip`` sets them to 0, ``error`` refuses the file naming
  series, date and value (:mod:`salesml.forecast.quality`).
- ``data.freq`` may be omitted when pandas can infer it. A date off the
  frequency's grid is an error naming the series; so is a frequency under
  which even the most complete series misses half of its dates.
- Dates without a row (inside a series; with ``data.fill: zero`` also after its
  last row) are 0 sales. Exogenous values of filled dates are carried forward
  (then backward) within the series; their count is in ``data.gaps_filled``.
- ``season_length`` defaults from the frequency (D 7, W 52, M 12, Q 4, h 24).
- A horizon longer than the longest series is an error; so is a backtest that
  does not fit into the data.
- A series silent at the end for ``data.discontinued_after`` periods (half a
  year by default) is discontinued: left out, listed in ``data.excluded`` and
  named on screen (``data.fill: zero`` reads no row as no sale). Others are forecast
  and scored: a series too short for a candidate's model gets a documented
  simpler form (:mod:`salesml.forecast.fallback`: non-seasonal, then naive),
  counted per candidate in ``data.fallbacks``. A series is scored in every
  window with at least one period before the origin; one that starts inside
  the last window is forecast but cannot be scored and is listed in
  ``data.unscored``.
- Every series gets a Syntetos-Boylan demand class (smooth, erratic,
  intermittent, lumpy); ``data.demand`` counts them.
- Exogenous columns are ``future`` (known in advance) or ``past`` (observed
  only, entering lagged by at least the horizon: :mod:`salesml.forecast.covariates`).
- Forecasts and interval bounds are clipped at 0, except for series that had
  a negative value (returns) in their history.

Backtest: ``backtest.windows`` forecast origins ``step`` periods apart (default
``step = horizon``), the last one ending at the last date, plus one earlier
*calibration* origin ``horizon`` periods before the first. Every origin's
model is trained only on dates before it. Intervals are split-conformal on
scaled errors per horizon step from earlier windows, by form, at an adapted
level (:mod:`salesml.forecast.intervals`). Metrics use the ``windows`` evaluation origins only; their
bootstrap CIs resample series when there are at least 10, else blocks of
``horizon`` consecutive scored periods (a circular block bootstrap), and do not
exist with fewer than 10 of both: the comparison with the rules then says "not
enough data to tell" and no champion is registered
(:class:`~salesml.forecast.metrics.ForecastUnits`). A
candidate with ``params: {refit: false}`` is fitted at the first origin only
and moved forward without re-estimation (the candidates tagged ``refit_free``).
Each candidate's exported model is refitted on all data; its intervals use the
errors of every backtest window. The ensemble is assembled from the other
candidates' fits (:mod:`salesml.forecast.ensemble`).

``engine: spark`` fits the candidates on Spark with equal results; everything
above stays on the driver (:mod:`salesml.forecast.spark`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.candidates import CandidateConfig
from salesml.experiment.registry import CandidateSpec
from salesml.experiment.results import ForecastData
from salesml.experiment.task import ExportedModel, Outcome, TaskBase
from salesml.forecast.backtest import backtest
from salesml.forecast.config import ForecastExperiment
from salesml.forecast.contract import Forecaster
from salesml.forecast.data import (
    future_frame,
)
from salesml.forecast.ensemble import CandidateFit, combine
from salesml.forecast.fallback import (
    FallbackForecaster,
    fallback_counts,
    fallback_text,
    with_fallbacks,
)
from salesml.forecast.forms import season_testable
from salesml.forecast.metrics import (
    add_intervals,
    evaluate_forecasts,
    grid_mase,
    point_terms,
    time_grid,
    units_of,
)
from salesml.forecast.models import ForecastContext, stl_season
from salesml.forecast.prepare import ForecastPrepared, prepare_series
from salesml.forecast.quality import screen_notes
from salesml.forecast.seasonality import applies, seasonal_series
from salesml.io.figures import Drawing


class ForecastTask(TaskBase):
    """Sales forecasting with a rolling-origin backtest; MASE is the primary metric.

    Its test predictions (:meth:`fit_evaluate`) are the backtest's long frame:
    ``unique_id, ds, window, step, y, yhat``, the series' MASE ``scale`` and the
    interval bounds ``lo-<level>``/``hi-<level>``; window 0 is the
    calibration origin, the others are scored.
    """

    primary_metric = "mase"
    id_col, time_col, target_col = "unique_id", "ds", "y"

    def __init__(self, config: ForecastExperiment) -> None:
        self.config = config
        self.fits: dict[str, CandidateFit] = {}  # by name, the candidates that succeeded
        self.engine: Any = None
        self.data: ForecastPrepared | None = None
        self.cols = {
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
        }

    def prepare(self) -> ForecastPrepared:
        """Read and check the series, plan the backtest (:func:`prepare_series`); start the engine."""
        cfg = self.config
        self.data = prepare_series(cfg)
        self.scale_cache: dict[pd.Timestamp, pd.DataFrame] = {}
        self.engine = None
        if cfg.engine == "spark":
            from salesml.forecast.spark import SparkEngine

            sc = cfg.spark
            self.engine = SparkEngine(sc.master, dict(sc.conf), self.horizon, sc.min_series)
            self.data_info.engine, self.data_info.spark_master = "spark", self.engine.start()
        return self.data

    @property
    def prepared(self) -> ForecastPrepared:
        """The prepared series (:meth:`prepare` first)."""
        if self.data is None:
            raise RuntimeError("call prepare() before fitting")
        return self.data

    cols_yx = property(lambda self: (self.id_col, self.target_col))
    # read-only views of the prepared series
    data_info = property(lambda self: self.prepared.info)
    df = property(lambda self: self.prepared.df)
    freq = property(lambda self: self.prepared.freq)
    season_length = property(lambda self: self.prepared.season_length)
    horizon = property(lambda self: self.prepared.horizon)
    cutoffs = property(lambda self: list(self.prepared.cutoffs))
    exog = property(lambda self: list(self.prepared.exog))
    levels = property(lambda self: list(self.prepared.levels))
    full_scales = property(lambda self: self.prepared.full_scales)
    signed = property(lambda self: list(self.prepared.signed))

    def _season_test(
        self, spec: CandidateSpec, params: dict[str, Any], forecaster: Forecaster
    ) -> bool:
        """Whether this candidate fits its season only where the test finds one."""
        mode, m = self.config.seasonality_test, self.season_length
        method = params.get("season_method", "auto")
        decomposed = "decomposes" in spec.tags and stl_season(method, m)
        tested = season_testable(forecaster, m) and applies(mode, m, decomposed)
        if tested and self.data_info.seasonal is None:
            found = len(seasonal_series(self.df, m, self.id_col, self.target_col))
            n = int(self.df[self.id_col].nunique())
            self.data_info.seasonal = {"seasonal": found, "not_seasonal": n - found}
        return tested

    def plan(self, info: ForecastData) -> list[str]:
        """Series, frequency, season, horizon and backtest origins, for ``--dry-run``."""
        return [
            f"series: {info.series_used} of {info.series}, freq {info.freq}, season "
            f"{info.season_length}, horizon {info.horizon}; backtest origins "
            f"{', '.join(info.cutoffs)} (calibration {info.calibration_cutoff})"
        ]

    def engine_failure(self, exc: BaseException) -> str | None:
        """Spark's hint when the driver is gone (whatever failed, failed because of that)."""
        if self.engine is None:
            return None
        from salesml.runtime.spark import DRIVER_LOST_HINT, driver_lost

        return DRIVER_LOST_HINT if driver_lost() else None

    def notes(self) -> list[str]:
        """One-line verdicts for the screen: returns, demand classes, left-out series, fallbacks."""
        return screen_notes(self.data_info)

    def _forecasts(
        self, cand: CandidateConfig, params: dict[str, Any], refit: bool
    ) -> tuple[pd.DataFrame, Forecaster]:
        """The candidate's backtest forecasts and its final model (fitted on all data)."""
        spec = cand.spec
        if "combines" in spec.tags:  # assembled from the fits of the candidates before it
            out = combine(self.fits, params, **self.cols)  # sets members and combine
            self.data_info.combined[cand.name] = {k: params[k] for k in ("members", "combine")}
            return out
        ctx = ForecastContext(
            self.freq,
            self.season_length,
            tuple(self.exog) if "exog" in spec.tags else (),
            self.config.evaluation.seed,
            **self.cols,
        )
        made = spec.make(ctx, **params)  # bad params fail before a fit
        test = self._season_test(spec, params, made)
        m, engine = self.season_length, self.engine
        adapt = engine.adapter(refit) if engine else None
        fc = backtest(
            lambda: with_fallbacks(spec.make(ctx, **params), m, test, adapt),
            self.df,
            self.cutoffs,
            self.horizon,
            self.season_length,
            refit,
            **self.cols,
            scale_cache=self.scale_cache,
        )
        on_engine = engine.adapter() if engine else None  # the final fit refits anyway
        final = with_fallbacks(spec.make(ctx, **params), m, test, on_engine)
        return fc, final.fit(self.df).settle()

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        params = dict(candidate.params)
        refit = bool(params.pop("refit", True))
        t0 = time.perf_counter()
        raw, final = self._forecasts(candidate, params, refit)
        fit_seconds = time.perf_counter() - t0
        fallbacks = None
        if isinstance(final, FallbackForecaster):
            fallbacks = fallback_counts(raw, final, self.id_col)
            self.data_info.fallbacks[candidate.name] = fallbacks
        fc = add_intervals(raw, self.horizon, self.levels, self.time_col, self.target_col)
        evaluated = fc[fc["window"] > 0]
        metrics, per_series, by_step = evaluate_forecasts(
            evaluated, self.levels, self.id_col, self.target_col
        )
        ci = self._mase_ci(evaluated, per_series["mase"])
        if ci is not None:
            metrics["mase_ci"] = ci
        self.fits[candidate.name] = CandidateFit(
            backtest=raw,
            final=final,
            role=role,
            combines="combines" in candidate.spec.tags,
            mase=metrics["mase"],
            by_step=by_step,
            per_series=per_series["mase"],
        )
        run_params = {
            "horizon": self.horizon,
            "season_length": self.season_length,
            "freq": self.freq,
            "windows": len(self.cutoffs) - 1,
            "refit": refit,
            "engine": self.data_info.engine,
            **params,
        }
        if self.engine is not None:
            run_params["spark.master"] = self.data_info.spark_master
        run_params.update(final.describe())  # e.g. the global model's lags, its partitions
        if fallbacks is not None:
            run_params.update({f"fallback.{form}": n for form, n in fallbacks.items()})
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=run_params,
            fit_seconds=fit_seconds,
            input_example=self._input_example(final),
            predictions=fc,
            fitted=fallback_text(fallbacks),
        )

    def export(self, outcome: Outcome, candidate: CandidateConfig) -> ExportedModel:
        """The candidate refitted on all data, with conformal intervals and its model card."""
        from salesml.forecast.export import ExportedForecaster, export_candidate

        wrapper = export_candidate(
            self.fits[outcome.name].final,
            outcome.predictions,
            candidate,
            outcome.role,
            self.config,
            self.prepared,
            outcome.metrics,
            outcome.fitted,
        )
        return ExportedForecaster(wrapper, outcome.input_example)

    def figures(self, outcome: Outcome, plot_dir: Path) -> list[Drawing]:
        """The candidate's fan chart over the backtest windows and its errors by step."""
        from salesml.forecast.plots import error_figure, fan_chart, fan_rows

        fit = self.fits[outcome.name]
        history, last = fan_rows(self.df, outcome.predictions, **self.cols)
        title = f"{outcome.name} ({outcome.role})"
        fan = (history, last, outcome.name, self.levels)
        return [
            Drawing(plot_dir / "fan_chart.png", fan_chart, fan, self.cols),
            Drawing(plot_dir / "errors.png", error_figure, (fit.by_step, fit.per_series, title)),
        ]

    def datasets(self) -> dict[str, tuple[pd.DataFrame, str]]:
        """The long-format series (every backtest window is cut from them)."""
        return {"series": (self.df, "training")}

    def _input_example(self, forecaster: Forecaster, n_series: int = 2) -> pd.DataFrame:
        ids = sorted(self.df[self.id_col].unique())[:n_series]
        exog = list(forecaster.exog) if forecaster.uses_exog else []
        return future_frame(self.df, ids, self.horizon, self.freq, exog, self.id_col, self.time_col)

    def _mase_ci(self, scored: pd.DataFrame, per_series: pd.Series) -> list[float] | None:
        """The CI of MASE over series or horizon blocks (:class:`ForecastUnits`); None: too few."""
        from salesml.experiment.evaluation import bootstrap_map, interval, mean_difference

        ev, units = self.config.evaluation, units_of(scored, len(per_series))
        if units.kind == "series":
            zero = np.zeros(len(per_series))
            return mean_difference(
                per_series, zero, ev.bootstrap, ev.seed, ev.confidence, ev.n_jobs
            )[1]
        if units.kind is None:
            return None
        grid = time_grid(point_terms(scored, *self.cols_yx), id_col=self.id_col)
        reps = bootstrap_map(
            grid_mase(grid), grid.positions, ev.bootstrap, ev.seed, ev.n_jobs, units.block
        )
        return interval(np.concatenate(reps), ev.confidence)

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        """MASE of ``a`` minus ``b`` over the series both scored, paired bootstrap CI.

        Series are resampled when there are at least ``MIN_UNITS`` of them, else
        horizon-long blocks of the backtest's periods (:class:`ForecastUnits`).

        Raises
        ------
        NotEnoughData
            With fewer than ``MIN_UNITS`` series and fewer than ``MIN_UNITS`` blocks.
        """
        from salesml.experiment.evaluation import NotEnoughData, mean_difference, paired_difference

        ev = self.config.evaluation
        pa, pb = self.fits[a.name].per_series, self.fits[b.name].per_series
        common = pa.index.intersection(pb.index)
        scored = a.predictions[a.predictions["window"] > 0]
        units = units_of(scored[scored[self.id_col].isin(common)], len(common))
        if units.kind == "series":
            return mean_difference(
                pa.loc[common].to_numpy(),
                pb.loc[common].to_numpy(),
                ev.bootstrap,
                ev.seed,
                ev.confidence,
                ev.n_jobs,
            )
        point = float((pa.loc[common] - pb.loc[common]).mean())
        if units.kind is None:
            raise NotEnoughData(units.shortfall(ev.confidence), point)
        ga, gb = (
            time_grid(
                point_terms(o.predictions[o.predictions["window"] > 0], *self.cols_yx),
                common,
                self.id_col,
            )
            for o in (a, b)
        )
        sa, sb = grid_mase(ga), grid_mase(gb)
        _, ci = paired_difference(
            lambda w: sa(w) - sb(w),
            ga.positions,
            ev.bootstrap,
            ev.seed,
            ev.confidence,
            ev.n_jobs,
            units.block,
        )
        return point, ci

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Drawing]:
        from salesml.forecast.plots import comparison_figure

        keep = [o.name for o in outcomes if o.name in self.fits]
        by_step = {n: self.fits[n].by_step for n in keep}
        per_series = {n: self.fits[n].per_series for n in keep}
        return [Drawing(plot_dir / "comparison.png", comparison_figure, (by_step, per_series))]
