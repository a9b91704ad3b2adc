"""The forecasters of ``engine: spark``: fitted on Spark, predicting locally.

:class:`SparkStatsForecaster` and :class:`PartitionedLightGBM` stand in for
:class:`~salesml.forecast.models.StatsForecaster` and
:class:`~salesml.forecast.global_lgbm.GlobalLightGBM`; the engine
(:mod:`salesml.forecast.spark`, which documents the design) swaps them in.
Neither keeps a Spark session or DataFrame: what Spark returns is collected
into pandas, so a pickled forecaster predicts without Spark. A model's failure
inside a Spark task comes back as data and is raised on the driver as
:class:`SparkFitError`, which the fallback ladder handles like any failed fit;
anything else Spark raises becomes an :class:`~salesml.errors.EngineError`.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from salesml.errors import EngineError
from salesml.forecast.contract import ForecasterBase
from salesml.forecast.models import StatsForecaster

_KEY = "_salesml_part"  # the grouping column added to the Spark DataFrame


class SparkFitError(RuntimeError):
    """A model raised inside a Spark task (the fallback ladder tries a simpler form)."""


@contextmanager
def _spark_job(what: str) -> Iterator[None]:
    """Turn a failure of Spark itself (not of a model) into an :class:`EngineError`."""
    try:
        yield
    except SparkFitError:
        raise
    except Exception as exc:
        from salesml.runtime.spark import DRIVER_LOST_HINT, discard_dead_session

        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        hint = ""
        if discard_dead_session() or "OutOfMemoryError" in str(exc):
            hint = f"; {DRIVER_LOST_HINT}"
        raise EngineError(
            f"Spark failed while {what} ({type(exc).__name__}: {first[:300]}){hint}"
        ) from exc


def _raise_errors(out: pd.DataFrame, what: str) -> pd.DataFrame:
    """Raise the model errors Spark tasks reported; return the rows without errors."""
    failed = out["_error"].notna()
    if failed.any():
        errors = out.loc[failed, "_error"]
        raise SparkFitError(f"{what} failed in {len(errors)} Spark task(s): {errors.iloc[0]}")
    return out.drop(columns="_error")


def _error_row(exc: Exception, **key: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {**{k: [v] for k, v in key.items()}, "_error": [f"{type(exc).__name__}: {exc}"]}
    )


class _LocalWhenPickled:
    """Pickled (exported), a forecaster forgets its engine; deep copies keep it."""

    engine: Any

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "engine": None}

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, value if key == "engine" else copy.deepcopy(value, memo))
        return new


def _forecast_chunk(
    df: pd.DataFrame,
    model: Any,
    freq: str,
    h: int,
    id_col: str,
    time_col: str,
    target_col: str,
) -> pd.DataFrame:
    """One Spark task: statsforecast's ``forecast`` on a group of series (runs in a worker)."""
    from statsforecast import StatsForecast

    data = df.drop(columns=_KEY)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = StatsForecast(models=[model], freq=freq, n_jobs=1).forecast(
                df=data, h=h, id_col=id_col, time_col=time_col, target_col=target_col
            )
    except Exception as exc:  # reported to the driver, which raises it (see _raise_errors)
        first = {id_col: str(data[id_col].iloc[0]), time_col: pd.NaT, "yhat": np.nan}
        return _error_row(exc, **first)
    fc = fc.rename(columns={str(model): "yhat"})[[id_col, time_col, "yhat"]]
    return fc.assign(_error=None)


class SparkStatsForecaster(_LocalWhenPickled, StatsForecaster):
    """A statsforecast model whose fit is a forecast computed on Spark.

    statsforecast's fit/predict API is not distributed; its ``forecast`` is. So
    ``fit`` sends the series to Spark in groups (one ``StatsForecast.forecast``
    per group, through fugue) for the engine's horizon and keeps the forecasts
    and the training frame: ``predict(h)`` for ``h`` up to that horizon returns
    the first ``h`` steps, a longer ``h`` is forecast locally from the kept
    frame. A fit of fewer than ``min_series`` series runs locally, as on the
    local engine but in one process (``n_jobs`` 1: a process forked beside the
    Spark gateway's threads can hang; results do not depend on it). Pickled, it
    forgets the engine: refits (a series moved down the fallback ladder at
    predict time) then run locally too.
    """

    def __init__(self, base: StatsForecaster, engine: Any) -> None:
        super().__init__(
            base.sf_model,
            base.freq,
            base.season_length,
            base.params,
            seasonal=base.seasonal,
            max_history=base.max_history,
            n_jobs=1,  # no process pool on the driver: forking beside the JVM's threads can hang
            id_col=base.id_col,
            time_col=base.time_col,
            target_col=base.target_col,
            decompose=base.decompose,
        )
        self.engine = engine

    @property
    def _cols_kw(self) -> dict[str, str]:
        return {"id_col": self.id_col, "time_col": self.time_col, "target_col": self.target_col}

    def fit(self, df: pd.DataFrame) -> SparkStatsForecaster:
        data = self._cols(df).reset_index(drop=True)
        self.spark_h_ = 0
        if self.engine is None or not self.engine.wants_spark(data[self.id_col].nunique()):
            super().fit(data)
            return self
        schema = f"{self.id_col}:str,{self.time_col}:datetime,yhat:double,_error:str"
        h, model = int(self.engine.horizon), self._model()
        with _spark_job(f"forecasting {self.sf_model}"):
            from fugue import transform

            spark = self.engine.session()
            groups = _groups(data[self.id_col], spark.sparkContext.defaultParallelism * 4)
            out = transform(
                spark.createDataFrame(data.assign(**{_KEY: groups})),
                _forecast_chunk,
                schema=schema,
                params={"model": model, "freq": self.freq, "h": h, **self._cols_kw},
                partition={"by": _KEY},
                engine=spark,
            ).toPandas()
        out = _raise_errors(out, self.sf_model)
        out[self.id_col] = out[self.id_col].astype(object)
        out[self.time_col] = out[self.time_col].astype(data[self.time_col].dtype)
        out = out.sort_values([self.id_col, self.time_col], kind="mergesort")
        self.alias_, self.train_, self.spark_h_ = str(model), data, h
        self.spark_fc_ = out.reset_index(drop=True)
        self.history_ = None
        return self

    def update(self, df: pd.DataFrame) -> SparkStatsForecaster:
        """Estimate locally from the training frame kept at ``fit``, then filter through ``df``."""
        if self.spark_h_:
            super().fit(self.train_)
            self.spark_h_ = 0
        super().update(df)
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        if not self.spark_h_:
            return super().predict(h, X_df)
        if h <= self.spark_h_:
            fc = self.spark_fc_
            return fc[fc.groupby(self.id_col).cumcount() < h].reset_index(drop=True)
        from statsforecast import StatsForecast

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = StatsForecast(models=[self._model()], freq=self.freq, n_jobs=self.n_jobs)
            out = out.forecast(df=self.train_, h=h, **self._cols_kw)
        out = out.rename(columns={self.alias_: "yhat"})
        return out[[self.id_col, self.time_col, "yhat"]].reset_index(drop=True)


def _groups(ids: pd.Series, n: int) -> np.ndarray:
    """Spread the series over ``n`` groups (round robin in sorted order)."""
    codes, _ = pd.factorize(ids, sort=True)
    return codes % max(1, n)


def partition_ids(ids: Any, size: int) -> dict[str, int]:
    """Series to partitions of at most ``size`` series: balanced runs of the sorted ids."""
    ordered = sorted(set(ids))
    parts = max(1, math.ceil(len(ordered) / size))
    per = math.ceil(len(ordered) / parts) if ordered else 1
    return {uid: i // per for i, uid in enumerate(ordered)}


def _fit_partition(
    df: pd.DataFrame, template: Any, cols: list[str], cats: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    """One Spark task: a global LightGBM on one partition's series (runs in a worker).

    ``cats``: the categorical exog columns (sent as text) and their categories.
    """
    import cloudpickle

    from salesml.forecast.covariates import categorical

    part = int(df[_KEY].iloc[0])
    data = df[cols].sort_values(cols[:2], kind="mergesort").reset_index(drop=True)
    for col, categories in (cats or {}).items():
        data[col] = categorical(data[col], categories)
    try:
        model = copy.deepcopy(template).fit(data)
    except Exception as exc:  # reported to the driver, which raises it (see _raise_errors)
        return _error_row(exc, **{_KEY: part, "model": None})
    return pd.DataFrame({_KEY: [part], "model": [cloudpickle.dumps(model)], "_error": [None]})


class PartitionedLightGBM(_LocalWhenPickled, ForecasterBase):
    """``lightgbm_global`` on Spark: one global LightGBM per partition of series.

    mlforecast's distributed LightGBM needs SynapseML's jars; this fallback
    needs nothing but pyspark. Series are split into partitions of at most
    ``partition_series`` (sorted ids, balanced); each partition's model is
    trained in its own Spark task (``groupBy(...).applyInPandas``) and comes
    back pickled; ``predict`` routes each series to its partition's model,
    locally. With one partition the forecasts are the local engine's; with
    several, each model learns from fewer series (the price of the split).

    Parameters
    ----------
    base : GlobalLightGBM
        The unfitted local model; its settings and ``partition_series`` are used.
    engine : SparkEngine or None
        None (as after unpickling) fits the partitions one after another locally.
    """

    def __init__(self, base: Any, engine: Any) -> None:
        self.template, self.engine = base, engine
        self.partition_series = int(base.partition_series)
        self.exog, self.uses_exog, self.freq = base.exog, base.uses_exog, base.freq
        self.lags, self.windows = base.lags, base.windows
        self.id_col, self.time_col, self.target_col = base.id_col, base.time_col, base.target_col
        self.models_: dict[int, Any] = {}

    def describe(self) -> dict[str, Any]:
        """The global model's settings and, once fitted, how many partitions (models) it has."""
        out = self.template.describe()
        if self.models_:
            out["partitions"] = len(self.models_)
        return out

    def fit(self, df: pd.DataFrame) -> PartitionedLightGBM:
        cols = [self.id_col, self.time_col, self.target_col, *self.exog]
        self.part_of_ = partition_ids(df[self.id_col], self.partition_series)
        parts = df[self.id_col].map(self.part_of_)
        self.on_spark_ = False
        if self.engine is None or not self.engine.wants_spark(len(self.part_of_)):
            self.models_ = {
                int(p): copy.deepcopy(self.template).fit(group[cols])
                for p, group in df.groupby(parts, sort=True)
            }
            return self
        import cloudpickle

        template, schema = self.template, f"{_KEY} long, model binary, _error string"
        # categorical exog columns travel as text; every partition gets all the categories
        cats = {
            c: list(df[c].cat.categories)
            for c in self.exog
            if isinstance(df[c].dtype, pd.CategoricalDtype)
        }
        sent = df[cols].astype({c: object for c in cats})
        with _spark_job("training lightgbm_global"):
            spark = self.engine.session()
            frame = spark.createDataFrame(sent.assign(**{_KEY: parts.to_numpy()}))
            out = (
                frame.groupBy(_KEY)
                .applyInPandas(lambda pdf: _fit_partition(pdf, template, cols, cats), schema=schema)
                .toPandas()
            )
        out = _raise_errors(out, "lightgbm_global")
        # the models this job's own tasks pickled (PySpark pickles across that boundary anyway)
        self.models_ = {
            int(p): cloudpickle.loads(b) for p, b in zip(out[_KEY], out["model"], strict=True)
        }
        self.on_spark_ = True
        return self

    def update(self, df: pd.DataFrame) -> PartitionedLightGBM:
        """Keep every partition's model, forecast from the end of ``df``."""
        parts = df[self.id_col].map(self.part_of_)
        for p, model in self.models_.items():
            model.update(df[parts == p])
        return self

    def predict(self, h: int, X_df: pd.DataFrame | None = None) -> pd.DataFrame:
        out = []
        for p, model in sorted(self.models_.items()):
            X = None
            if X_df is not None and self.uses_exog:
                X = X_df[X_df[self.id_col].map(self.part_of_) == p]
                if X.empty:
                    continue
            out.append(model.predict(h, X_df=X))
        if not out:
            return pd.DataFrame(columns=[self.id_col, self.time_col, "yhat"])
        fc = pd.concat(out, ignore_index=True)
        return fc.sort_values([self.id_col, self.time_col], kind="mergesort").reset_index(drop=True)
