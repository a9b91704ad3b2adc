"""Forecasting on Spark: ``engine: spark`` (or ``salesml run --engine spark``).

The experiment is the same: data preparation, the rolling-origin backtest, the
fallback ladder (:mod:`salesml.forecast.fallback`), the seasonality test,
clipping, metrics and intervals all run on the driver exactly as on the local
engine. What moves to Spark is the expensive part, the model fits:

- **Statistical candidates** (naive, seasonal_naive, moving_average, croston,
  adida, auto_ets, auto_theta, auto_arima, auto_ces, and the statistical forms
  of every fallback ladder): statsforecast's fit/predict API is not
  distributed, its ``forecast`` is. So each fit is a forecast for the
  experiment's horizon, computed on a Spark DataFrame through fugue: the
  series are spread over groups and each Spark task runs
  ``StatsForecast(models=[m], freq=...).forecast(df=group, h=horizon)``
  (:class:`~salesml.forecast.spark_models.SparkStatsForecaster`). This is
  statsforecast's own distributed recipe (``FugueBackend``) with two changes,
  both needed for equal results: forecasts come back as float64 (the backend
  declares float32, which moves them by ~1e-7 and turns huge forecasts into
  inf), and a model's error is returned to the driver instead of failing the
  job (Spark would retry it and print the traceback). The driver raises the
  error where the local fit would have raised, so the fallback ladder tries
  the next form as it does locally, and demotes series with non-finite
  forecasts as it does locally. ``predict(h)`` returns the first ``h`` steps.
- **Small fits run on the driver**: a fit of fewer than ``spark.min_series``
  series (default 50; always the ladder's one-series-at-a-time search for the
  series a form fails on) costs less locally than a Spark job's start.
- **refit: false** (fit at the first origin, then filter with fixed
  parameters): statsforecast's distributed forecast returns forecasts, not the
  fitted parameters the filter needs, so such a statistical candidate's
  backtest runs on the driver (estimated once, filtered after); its final fit
  runs on Spark. lightgbm_global keeps its models and runs on Spark either way.
- **lightgbm_global**: mlforecast's distributed LightGBM needs SynapseML's
  jars, so salesml trains one global model per partition of at most
  ``partition_series`` series (default 5,000) in a Spark task each
  (:class:`~salesml.forecast.spark_models.PartitionedLightGBM`). With one
  partition the forecasts are the local engine's; with several, each model
  learns from its own partition's series only.
- **The exported model** holds forecasts, fitted models and training frames
  collected to the driver, never a Spark session or DataFrame: loaded
  elsewhere it predicts locally, without pyspark, and gives the same forecasts
  (a horizon longer than the experiment's is forecast locally from the kept
  history).

The session comes from :func:`salesml.runtime.spark.spark_session`: master from
``--spark-master``, ``spark.master`` in the config, ``SALESML_SPARK_MASTER``,
else Spark's default (``spark-submit --master``, or ``local[*]``). The workers
must run the same salesml: the engine checks that once before the first fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesml.errors import EngineError
from salesml.forecast.contract import Forecaster


def _worker_versions(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Runs in a Spark worker: the versions it forecasts with."""
    import sys

    import lightgbm
    import mlforecast
    import statsforecast

    import salesml

    for _ in batches:
        pass
    versions = {
        "python": sys.version.split()[0],
        "salesml": salesml.__version__,
        "statsforecast": statsforecast.__version__,
        "mlforecast": mlforecast.__version__,
        "lightgbm": lightgbm.__version__,
    }
    yield pd.DataFrame({k: [v] for k, v in versions.items()})


@dataclass(frozen=True)
class SparkEngine:
    """Where and how the candidates of ``engine: spark`` are fitted.

    Holds settings only (it is pickled with the forecasters that use it, which
    drop it when they are exported); the session is looked up when needed.

    Parameters
    ----------
    master : str, optional
        Master URL; see :func:`salesml.runtime.spark.resolve_master`.
    conf : mapping
        Extra Spark settings.
    horizon : int
        The experiment's horizon: what each statistical fit forecasts.
    min_series : int
        A fit of fewer series runs on the driver.
    """

    master: str | None = None
    conf: Mapping[str, Any] = field(default_factory=dict)
    horizon: int = 1
    min_series: int = 50

    def session(self) -> Any:
        """The Spark session (started on first use, then reused).

        Raises
        ------
        EngineError
            When this process's driver JVM has gone (out of memory, killed): a new
            one would hold none of the work, and would likely fail the same way.
        """
        from salesml.runtime.spark import DRIVER_LOST_HINT, driver_lost, spark_session

        if driver_lost():
            raise EngineError(DRIVER_LOST_HINT)
        return spark_session(self.master, self.conf, app_name="salesml-forecast")

    def wants_spark(self, n_series: int) -> bool:
        """Whether a fit of ``n_series`` series goes to Spark."""
        return n_series >= max(2, self.min_series)

    def start(self) -> str:
        """Start the session, check that its workers run this salesml; return the master URL.

        Raises
        ------
        EngineError
            When Spark does not start, or its Python workers cannot import
            salesml and its forecasting libraries, or have other versions.
        """
        try:
            import fugue  # noqa: F401  (statsforecast's route to Spark)
        except ImportError as exc:
            raise EngineError(
                "engine: spark needs pyspark and fugue: pip install 'salesml[spark]'"
            ) from exc
        try:
            spark = self.session()
        except EngineError:
            raise
        except Exception as exc:
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), "")
            raise EngineError(
                f"Spark did not start ({type(exc).__name__}: {first[:300]}); it needs Java 17 "
                "(JAVA_HOME) and, for a cluster, a master URL it can reach"
            ) from exc
        schema = "python string, salesml string, statsforecast string, mlforecast string, lightgbm string"
        try:
            got = spark.range(1).mapInPandas(_worker_versions, schema).toPandas().iloc[0]
        except Exception as exc:
            first = next((ln for ln in str(exc).splitlines() if "Error" in ln), str(exc)[:300])
            raise EngineError(
                f"Spark's Python workers cannot run salesml ({first.strip()}); install "
                "salesml[spark] on every node and point PYSPARK_PYTHON at that interpreter"
            ) from exc
        here = next(_worker_versions(iter([])))
        diff = [
            f"{k} {got[k]} (driver {here[k].iloc[0]})" for k in here if got[k] != here[k].iloc[0]
        ]
        if diff:
            raise EngineError(
                f"Spark's Python workers run other versions than the driver: {', '.join(diff)}; "
                "install the same environment on every node"
            )
        return str(spark.sparkContext.master)

    def adapter(self, refit: bool = True) -> Callable[[Forecaster], Forecaster]:
        """The function that puts one fallback form's forecaster on Spark (see module docs)."""

        def adapt(forecaster: Forecaster) -> Forecaster:
            from salesml.forecast.global_lgbm import GlobalLightGBM
            from salesml.forecast.models import StatsForecaster
            from salesml.forecast.spark_models import PartitionedLightGBM, SparkStatsForecaster

            if isinstance(forecaster, StatsForecaster) and refit:
                return SparkStatsForecaster(forecaster, self)
            if isinstance(forecaster, GlobalLightGBM):
                return PartitionedLightGBM(forecaster, self)
            return forecaster

        return adapt
