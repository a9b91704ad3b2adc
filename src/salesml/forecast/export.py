"""The exported forecast model: a fitted forecaster with conformal intervals, from code.

:class:`ForecastPredictor` holds the fitted forecaster, its horizon, interval
levels, conformal quantiles and per-series scales; it needs no MLflow.
:class:`ExportedForecaster` is what the runner logs: an MLflow model from code
(``salesml/tracking/pickled_entry.py``) whose state is ``predictor.pkl``,
written with cloudpickle (statsforecast and mlforecast objects are not
skops-serialisable), and an explicit signature: its input columns are declared
MLflow ``any`` and coerced by ``predict`` to the types of the input example
(kept as the card's ``input_types`` fact), so a frame read from a file, with
integer ids or ``h`` as a decimal, is taken as it comes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesml.experiment.card import ModelCard
from salesml.forecast.covariates import PastCovariates
from salesml.forecast.model_input import from_raw_columns, history_ends
from salesml.tracking.pickled import ENTRY


class ForecastPredictor:
    """A fitted forecaster with conformal intervals: what an exported forecast model runs.

    ``predict`` takes a frame with ``unique_id`` (the series to forecast)
    and either an ``h`` column (or ``params={"h": ...}``; default: the
    experiment's horizon) or, for models using future covariates, one row
    per series and future date with ``ds`` and those columns (only them:
    past covariates are lagged by at least the horizon and read from the
    history the predictor keeps, ``past``). It returns
    ``unique_id, ds, <name>, <name>-lo-80, <name>-hi-80, ...``.

    The forecaster is the candidate wrapped in its fallback ladder
    (:mod:`salesml.forecast.fallback`), so every series of the history gets a
    forecast. Forecasts and lower bounds are clipped at 0 except for the
    ``signed`` series (those with returns, negative values, in the history).
    """

    def __init__(
        self,
        forecaster: Any,
        name: str,
        horizon: int,
        levels: list[int],
        quantiles: dict[int, np.ndarray],
        scales: pd.Series,
        id_col: str = "unique_id",
        time_col: str = "ds",
        card: ModelCard | None = None,
        signed: list[str] | None = None,
        past: PastCovariates | None = None,
    ) -> None:
        self.forecaster, self.name, self.horizon = forecaster, name, int(horizon)
        self.signed = set(signed or ())
        self.levels, self.quantiles, self.scales = list(levels), quantiles, scales
        self.id_col, self.time_col = id_col, time_col
        self.card = card or ModelCard(kind="forecast", candidate=name)
        self.past = past  # the history of the past covariates (lagged features come from it)
        self.last_dates = history_ends(forecaster)  # each series' last date (None: unknown)
        # the input columns' types; set by ExportedForecaster (None: taken as given)
        self.input_types: dict[str, str] | None = None

    def metadata(self) -> dict[str, Any]:
        """The model card's facts, as plain data for the MLmodel file."""
        facts = {
            "horizon": self.horizon,
            "levels": self.levels,
            "series": len(self.scales),
            "exog": self.future_exog(),
            "past_exog": list(self.past.columns) if self.past else [],
            **self.card.facts,
        }
        return replace(self.card, facts=facts).to_metadata()

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Forecasts of the series in ``model_input`` (see the class docstring).

        Raises
        ------
        ValueError
            For unknown series, a bad horizon or missing future values;
            :class:`~salesml.errors.DataError` for a value that cannot be
            coerced to its column's type (``inf`` included), naming it.
        """
        frame = self._conform(pd.DataFrame(model_input))
        if self.id_col not in frame.columns:
            raise ValueError(f"model_input needs a {self.id_col!r} column")
        frame[self.id_col] = frame[self.id_col].astype(str)
        ids = list(pd.unique(frame[self.id_col]))
        unknown = [i for i in ids if i not in self.scales.index]
        if unknown:
            raise ValueError(f"unknown series: {', '.join(map(str, unknown[:5]))}")
        X = None
        past = getattr(self, "past", None)  # predictors pickled before past covariates
        future = self.future_exog()
        if self.forecaster.uses_exog and past is not None and not future:
            frame = self._future_dates(frame, ids, params, past)  # past covariates only: ids, h
        if self.forecaster.uses_exog:
            need = [self.time_col, *future]
            missing = [c for c in need if c not in frame.columns]
            if missing:
                raise ValueError(
                    f"model_input needs future values of {', '.join(missing)}: this model "
                    f"forecasts from one row per series and future date, with {self.time_col!r} "
                    f"and the covariates known in advance ({', '.join(future) or 'none'}); "
                    "salesml.future_frame makes a naive scenario to start from"
                )
            sizes = frame.groupby(self.id_col).size()
            if sizes.nunique() != 1:
                raise ValueError("give the same number of future dates for every series")
            h = int(sizes.iloc[0])
            X = frame[[self.id_col, *need]].assign(
                **{self.time_col: pd.to_datetime(frame[self.time_col])}
            )
            self._check_dates(X, h)
            if past is not None:  # lagged by at least the horizon: from the stored history
                X = past.fill(X)
        elif "h" in frame.columns:
            h = int(frame["h"].max())
        else:
            h = int((params or {}).get("h", self.horizon))
        if h < 1:
            raise ValueError(f"the horizon h must be at least 1, got {h}")
        out = self.forecaster.predict(h, X_df=X)
        out = out[out[self.id_col].isin(ids)].reset_index(drop=True)
        out = out.rename(columns={"yhat": self.name})
        signed = out[self.id_col].isin(self.signed).to_numpy()
        raw = out[self.name].to_numpy(float)
        point = np.where(signed, raw, np.maximum(raw, 0.0))
        out[self.name] = point
        step = out.groupby(self.id_col).cumcount().to_numpy()
        scale = self.scales.reindex(out[self.id_col]).to_numpy(float)
        for lv in self.levels:
            q = self.quantiles[lv]
            half = q[np.minimum(step, len(q) - 1)] * scale
            lo = point - half
            out[f"{self.name}-lo-{lv}"] = np.where(signed, lo, np.maximum(lo, 0.0))
            out[f"{self.name}-hi-{lv}"] = point + half
        return out

    def _check_dates(self, X: pd.DataFrame, h: int) -> None:
        """Refuse future rows that are not each series' next ``h`` dates (they would be ignored)."""
        last = getattr(self, "last_dates", None)  # predictors pickled before it was added
        if last is None:
            return
        for uid, part in X.groupby(self.id_col, sort=False):
            want = pd.date_range(last[uid], periods=h + 1, freq=self.forecaster.freq)[1:]
            got = pd.DatetimeIndex(part[self.time_col]).sort_values()
            if not got.equals(want):
                raise ValueError(
                    f"series {uid!r}: the future rows must be the {h} dates after its history, "
                    f"{want[0]:%Y-%m-%d} to {want[-1]:%Y-%m-%d} ({self.forecaster.freq}), one row "
                    f"each; got {got[0]:%Y-%m-%d} to {got[-1]:%Y-%m-%d}"
                )

    def future_exog(self) -> list[str]:
        """The covariates whose future values ``predict`` needs (the past ones are stored)."""
        if not self.forecaster.uses_exog:
            return []
        past = getattr(self, "past", None)
        derived = set(past.features) if past is not None else set()
        return [c for c in self.forecaster.exog if c not in derived]

    def _future_dates(
        self,
        frame: pd.DataFrame,
        ids: list[str],
        params: dict[str, Any] | None,
        past: PastCovariates,
    ) -> pd.DataFrame:
        """Rows ``unique_id, ds`` for the next ``h`` dates of each series (``h`` as without exog)."""
        from salesml.forecast.data import future_dates

        if self.time_col in frame.columns:
            return frame
        if "h" in frame.columns:
            h = int(frame["h"].max())
        else:
            h = int((params or {}).get("h", self.horizon))
        dates = future_dates(past.last_dates().reindex(ids), h, past.freq)
        return pd.DataFrame({self.id_col: np.repeat(ids, h), self.time_col: dates})

    def _conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its known input columns coerced to their types (others kept)."""
        from salesml.io.coerce import conform_columns

        types = getattr(self, "input_types", None)  # predictors pickled before it was added
        if not types:
            return frame
        optional = [c for c in types if c != self.id_col]  # predict names the missing ones
        typed = conform_columns(frame, types.items(), "model input", optional=optional)
        return frame.assign(**{str(c): typed[c] for c in typed.columns})


@dataclass
class ExportedForecaster:
    """A forecast candidate as the runner logs it: code, artifacts, signature, metadata."""

    predictor: ForecastPredictor
    input_example: pd.DataFrame
    code_path: Path = ENTRY

    def __post_init__(self) -> None:
        past = self.predictor.past
        if past is not None:  # lagged past covariates come from the stored history
            self.input_example = self.input_example.drop(
                columns=[c for c in past.features if c in self.input_example.columns]
            )
            if not self.predictor.future_exog() and "ds" in self.input_example.columns:
                ids = list(pd.unique(self.input_example[self.predictor.id_col]))
                self.input_example = pd.DataFrame(
                    {self.predictor.id_col: ids, "h": [self.predictor.horizon] * len(ids)}
                )
        self.predictor.input_types = self.input_types()

    def input_types(self) -> dict[str, str]:
        """The input example's column types (integers as ``long``)."""
        from salesml.tracking.pickled import example_types

        return example_types(self.input_example)

    def write_artifacts(self, folder: Path) -> dict[str, str]:
        from salesml.tracking.pickled import pickled_artifacts

        return pickled_artifacts(self.predictor, folder)

    def signature(self) -> Any:
        """Input columns declared ``any`` (``h`` optional), output columns typed."""
        from mlflow.models import ModelSignature

        from salesml.tracking import frame_schema
        from salesml.tracking.serving import input_schema

        output = self.predictor.predict(self.input_example)
        inputs = input_schema(self.input_types(), optional=("h",))
        return ModelSignature(inputs=inputs, outputs=frame_schema(output))

    def metadata(self) -> dict[str, Any]:
        """The model card, with the trained input types (``input_types``)."""
        from salesml.io.coerce import INPUT_TYPES

        meta = self.predictor.metadata()
        meta["salesml"][INPUT_TYPES] = self.input_types()
        return meta


def export_candidate(
    forecaster: Any,
    backtest: pd.DataFrame,
    candidate: Any,
    role: str,
    config: Any,
    prepared: Any,
    metrics: dict[str, Any],
    short_series: str | None,
) -> ForecastPredictor:
    """The exported predictor of a fitted candidate, with its model card.

    Its intervals are split-conformal on every backtest window's scaled
    absolute errors (``backtest``: the candidate's forecasts with ``y``,
    ``yhat``, ``scale`` and ``step``), its own model's rows only when there are
    enough (:func:`salesml.forecast.intervals.final_quantiles`). ``prepared`` is the
    run's :class:`~salesml.forecast.prepare.ForecastPrepared`: the data block, the
    series' scales and signs, and the past covariates' history.
    """
    from salesml.forecast.intervals import final_quantiles

    past = _past_covariates(forecaster, prepared)
    h, levels = int(config.horizon), list(config.levels)
    quantiles = final_quantiles(backtest, h, levels)
    return ForecastPredictor(
        forecaster,
        candidate.name,
        h,
        levels,
        quantiles,
        prepared.full_scales["scale"],
        signed=list(prepared.signed),
        past=past,
        card=ModelCard(
            kind="forecast",
            task=config.task,
            candidate=candidate.name,
            type=candidate.type,
            role=role,
            experiment=config.name,
            description=candidate.spec.description,
            data=dict(vars(prepared.info)),
            metrics=metrics,
            confidence=config.evaluation.confidence,
            facts={
                "unknown_series": "refused with an error naming them (no fallback)",
                "short_series": short_series,
                # the training file's columns: salesml score reads files shaped like it
                "raw_columns": {
                    "id": config.data.id_columns,
                    "time": config.data.time,
                    "date_format": config.data.date_format,
                },
            },
        ),
    )


def _past_covariates(forecaster: Any, prep: Any) -> PastCovariates | None:
    """The past covariates' recent history, when ``forecaster`` reads their lags.

    The history is the run's prepared series, the ones the fits were made on; each
    series keeps its last ``max(lags)`` periods.
    """
    if not prep.past or not forecaster.uses_exog:
        return None
    past = PastCovariates.from_history(prep.df, list(prep.past), list(prep.past_lags), prep.freq)
    return past if set(past.features) & set(forecaster.exog) else None


def scoring_input(
    frame: pd.DataFrame,
    card: ModelCard,
    columns: list[str],
    options: dict[str, Any],
    uri: str,
) -> pd.DataFrame:
    """``salesml score``'s input for a forecaster: the ``h`` option applied.

    A model that takes an ``h`` column gets ``--h`` (default its stored horizon);
    one that takes future exogenous rows keeps the first ``h`` rows of each series.
    A file with the training file's id and date columns (e.g. ``Store, Date``)
    instead of ``unique_id, ds`` is read like the training file (:func:`~salesml.forecast.model_input.from_raw_columns`).

    Raises
    ------
    DataError
        When ``--h`` is outside 1 to the stored horizon.
    """
    from salesml.errors import DataError

    frame = from_raw_columns(frame, card.facts.get("raw_columns") or {}, uri)
    h = options.get("h")
    horizon = int(card.facts.get("horizon") or 0)
    if h is not None and horizon and not 1 <= h <= horizon:
        raise DataError(f"--h {h}: the model {uri} forecasts 1 to {horizon} steps")
    if "h" in columns and "h" not in frame.columns:
        frame = frame.assign(h=h or horizon)
    elif "h" in columns and h is not None:
        frame = frame.assign(h=h)
    elif h is not None and "ds" in frame.columns:  # future exogenous rows: keep the first h
        frame = frame.sort_values(["unique_id", "ds"]).groupby("unique_id").head(h)
    return frame
