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
- Gaps (dates missing inside a series) are filled with 0 sales: no row means
  nothing was sold. Exogenous values of filled dates are carried forward
  (then backward) within the series; their count is in ``data.gaps_filled``.
- ``season_length`` defaults from the frequency (D 7, W 52, M 12, Q 4, h 24).
- A horizon longer than the longest series is an error; so is a backtest that
  does not fit into the data.
- Series that end before the last date (discontinued) are left out, listed
  in ``data.excluded`` and named on screen. Every other series is forecast
  and scored: a series too short for a candidate's model gets a documented
  simpler form (:mod:`salesml.forecast.fallback`: non-seasonal, then naive),
  counted per candidate in ``data.fallbacks``. A series is scored in every
  window with at least one period before the origin; one that starts inside
  the last window is forecast but cannot be scored and is listed in
  ``data.unscored``.
- Every series gets a Syntetos-Boylan demand class (smooth, erratic,
  intermittent, lumpy); ``data.demand`` counts them.
- Exogenous columns must be numeric or boolean; their missing values are
  filled forward then backward within the series.
- Forecasts and interval bounds are clipped at 0, except for series that had
  a negative value (returns) in their history.

Backtest: ``backtest.windows`` forecast origins ``step`` periods apart (default
``step = horizon``), the last one ending at the last date, plus one earlier
*calibration* origin ``horizon`` periods before the first. Every origin's
model is trained only on dates before it. Intervals are split-conformal:
absolute errors scaled by each series' MASE scale, pooled over series per
horizon step, from the origins whose forecast window ended before the origin
being evaluated. Metrics use the ``windows`` evaluation origins only. A
candidate with ``params: {refit: false}`` is fitted at the first origin only
and moved forward without re-estimation (statistical models and LightGBM).
Each candidate's exported model is refitted on all data; its intervals use the
errors of every backtest window.

``engine: spark`` fits the candidates on Spark with equal results; everything
above stays on the driver (:mod:`salesml.forecast.spark`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.experiment.candidates import CandidateConfig
from salesml.experiment.results import ForecastData
from salesml.experiment.task import Outcome, TaskBase
from salesml.forecast.backtest import backtest, backtest_cutoffs, window_mase
from salesml.forecast.config import ForecastExperiment
from salesml.forecast.data import (
    future_frame,
    regularize,
    select_series,
    to_long,
    unscored_series,
)
from salesml.forecast.fallback import (
    fallback_counts,
    fallback_text,
    season_testable,
    with_fallbacks,
)
from salesml.forecast.metrics import (
    add_intervals,
    evaluate_forecasts,
    seasonal_scales,
)
from salesml.forecast.models import season_length_for
from salesml.forecast.quality import class_counts, demand_classes, handle_negatives, screen_notes
from salesml.forecast.seasonality import applies, seasonal_series
from salesml.io.data import ensure_data, file_sha256, read_frame


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
        self.results: dict[str, dict[str, Any]] = {}
        self.engine: Any = None
        self.cols = {
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
        }

    def prepare(self) -> ForecastData:
        cfg, dc = self.config, self.config.data
        where = str(dc.path)
        ensure_data(dc.path, dc.generate, cfg.source)
        raw = read_frame(dc.path, read=dc.read)
        df = to_long(
            raw, dc.id_columns, dc.time, dc.target, dc.exog, dc.date_format, where, **self.cols
        )
        df, neg_values, neg_series = handle_negatives(df, dc.negative, where, **self.cols)
        df, freq, gaps = regularize(df, dc.freq, where, **self.cols)
        m = cfg.season_length or season_length_for(freq)
        h, windows = int(cfg.horizon), cfg.backtest.windows
        step = cfg.backtest.step or h
        sizes = df.groupby(self.id_col).size()
        if h > sizes.max():
            raise DataError(
                f"{where}: horizon {h} is longer than the history: the longest series "
                f"{sizes.idxmax()!r} has {sizes.max()} periods"
            )
        dates = pd.DatetimeIndex(np.sort(df[self.time_col].unique()))
        try:
            cutoffs = backtest_cutoffs(dates, h, windows, step)
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from exc
        df, excluded = select_series(df, self.id_col, self.time_col)
        unscored = unscored_series(df, cutoffs[-1], self.id_col, self.time_col)
        self.signed = sorted(df.loc[df[self.target_col] < 0, self.id_col].unique())
        self.df, self.freq, self.season_length = df, freq, m
        self.horizon, self.cutoffs, self.exog = h, cutoffs, list(dc.exog)
        self.levels = list(cfg.levels)
        self.scale_cache: dict[pd.Timestamp, pd.DataFrame] = {}
        self.full_scales = seasonal_scales(df, m, self.id_col, self.target_col)
        self.data_info = ForecastData(
            path=where,
            sha256=file_sha256(dc.path),
            rows=len(raw),
            excluded=excluded,
            series=int(sizes.size),
            series_used=int(df[self.id_col].nunique()),
            freq=freq,
            season_length=m,
            horizon=h,
            start=f"{dates[0]:%Y-%m-%d}",
            end=f"{dates[-1]:%Y-%m-%d}",
            calibration_cutoff=f"{cutoffs[0]:%Y-%m-%d}",
            cutoffs=[f"{c:%Y-%m-%d}" for c in cutoffs[1:]],
            exog=self.exog,
            gaps_filled=gaps,
            negative=dc.negative,
            negative_values=neg_values,
            negative_series=neg_series,
            demand=class_counts(demand_classes(df, self.id_col, self.target_col)),
            unscored=unscored,
        )
        self.engine = None
        if cfg.engine == "spark":
            from salesml.forecast.spark import SparkEngine

            sc = cfg.spark
            self.engine = SparkEngine(sc.master, dict(sc.conf), h, sc.min_series)
            self.data_info.engine, self.data_info.spark_master = "spark", self.engine.start()
        return self.data_info

    def _season_test(self, forecaster: Any) -> bool:
        """Whether this candidate fits its season only where the test finds one."""
        mode, m = self.config.seasonality_test, self.season_length
        decomposed = bool(getattr(forecaster, "decompose", False))
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
    ) -> tuple[pd.DataFrame, Any]:
        from salesml.forecast.models import EnsembleForecaster, ForecastContext

        spec = cand.spec
        if spec.build is not None:
            ctx = ForecastContext(
                self.freq,
                self.season_length,
                tuple(self.exog),
                self.config.evaluation.seed,
                **self.cols,
            )
            test = self._season_test(spec.make(ctx, **params))  # bad params fail before a fit
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
        names = params.get("members")
        if names is None:
            # Members are ranked on the calibration window, which precedes every evaluation
            # window, so choosing them does not peek at the windows the ensemble is scored on.
            done = [
                (window_mase(r["fc"], 0, self.id_col, self.target_col), n)
                for n, r in self.results.items()
                if r["role"] == "model" and not r["combines"]
            ]
            names = [n for _, n in sorted(done)[: int(params.get("size", 2))]]
        missing = [n for n in names if n not in self.results]
        if len(names) < 2 or missing:
            raise ValueError(
                "ensemble needs at least two successful candidates listed before it"
                + (f"; not available: {', '.join(missing)}" if missing else "")
            )
        keys = [self.id_col, self.time_col, "window"]
        fcs = [self.results[n]["fc"].set_index(keys)["yhat"] for n in names]
        fc = self.results[names[0]]["fc"].drop(columns=["yhat", "form"], errors="ignore")
        fc = fc.set_index(keys)
        fc = fc.join(pd.concat(fcs, axis=1).mean(axis=1).rename("yhat")).reset_index()
        params["members"] = names
        members = [self.results[n]["final"] for n in names]
        return fc, EnsembleForecaster(members, self.id_col, self.time_col)

    def fit_evaluate(self, candidate: CandidateConfig, role: str, plot_dir: Path) -> Outcome:
        from salesml.experiment.evaluation import mean_difference
        from salesml.forecast.export import ExportedForecaster, export_candidate
        from salesml.forecast.plots import error_figure, fan_chart

        params = dict(candidate.params)
        refit = bool(params.pop("refit", True))
        t0 = time.perf_counter()
        raw, final = self._forecasts(candidate, params, refit)
        fit_seconds = time.perf_counter() - t0
        fallbacks = None
        if "form" in raw:
            fallbacks = fallback_counts(raw, final, self.id_col)
            self.data_info.fallbacks[candidate.name] = fallbacks
        fc = add_intervals(raw, self.horizon, self.levels, self.time_col, self.target_col)
        evaluated = fc[fc["window"] > 0]
        metrics, per_series, by_step = evaluate_forecasts(
            evaluated, self.levels, self.id_col, self.target_col
        )
        ev = self.config.evaluation
        _, ci = mean_difference(
            per_series["mase"],
            np.zeros(len(per_series)),
            ev.bootstrap,
            ev.seed,
            ev.confidence,
            ev.n_jobs,
        )
        metrics["mase_ci"] = ci
        example = self._input_example(final)
        wrapper = export_candidate(
            final,
            fc,
            candidate,
            role,
            self.config,
            self.data_info,
            metrics,
            fallback_text(fallbacks),
            self.full_scales["scale"],
            self.signed,
        )
        title = f"{candidate.name} ({role})"
        plots = [
            fan_chart(
                self.df,
                evaluated,
                candidate.name,
                self.levels,
                plot_dir / "fan_chart.png",
                **self.cols,
            ),
            error_figure(by_step, per_series["mase"], title, plot_dir / "errors.png"),
        ]
        self.results[candidate.name] = {
            "fc": raw,
            "final": final,
            "role": role,
            "combines": candidate.spec.build is None,
            "mase": metrics["mase"],
            "by_step": by_step,
            "per_series": per_series["mase"],
        }
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
        core = getattr(final, "primary", final)
        if hasattr(core, "lags"):
            run_params.update(lags=core.lags, rolling=core.windows, exog=list(core.exog))
        if hasattr(core, "models_"):  # lightgbm_global on Spark: one model per partition
            run_params["partitions"] = len(core.models_)
        if fallbacks is not None:
            run_params.update({f"fallback.{form}": n for form, n in fallbacks.items()})
        return Outcome(
            name=candidate.name,
            role=role,
            type=candidate.type,
            metrics=metrics,
            params=run_params,
            fit_seconds=fit_seconds,
            model=ExportedForecaster(wrapper, example),
            input_example=example,
            plots=plots,
            predictions=fc,
        )

    def datasets(self) -> dict[str, tuple[pd.DataFrame, str]]:
        """The long-format series (every backtest window is cut from them)."""
        return {"series": (self.df, "training")}

    def _input_example(self, forecaster: Any, n_series: int = 2) -> pd.DataFrame:
        ids = sorted(self.df[self.id_col].unique())[:n_series]
        exog = list(forecaster.exog) if forecaster.uses_exog else []
        return future_frame(self.df, ids, self.horizon, self.freq, exog, self.id_col, self.time_col)

    def difference(self, a: Outcome, b: Outcome) -> tuple[float, list[float]]:
        from salesml.experiment.evaluation import mean_difference

        ev = self.config.evaluation
        pa, pb = self.results[a.name]["per_series"], self.results[b.name]["per_series"]
        common = pa.index.intersection(pb.index)
        return mean_difference(
            pa.loc[common].to_numpy(),
            pb.loc[common].to_numpy(),
            ev.bootstrap,
            ev.seed,
            ev.confidence,
            ev.n_jobs,
        )

    def comparison_plots(self, outcomes: list[Outcome], plot_dir: Path) -> list[Path]:
        from salesml.forecast.plots import comparison_figure

        keep = [o.name for o in outcomes if o.name in self.results]
        by_step = {n: self.results[n]["by_step"] for n in keep}
        per_series = {n: self.results[n]["per_series"] for n in keep}
        return [comparison_figure(by_step, per_series, plot_dir / "comparison.png")]
