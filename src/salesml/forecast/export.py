"""The MLflow pyfunc wrapper of a fitted forecaster, with conformal intervals.

``ForecastPyfunc`` subclasses MLflow's ``PythonModel``; importing MLflow takes
seconds, so the class is defined on first attribute access. Pickles refer to
it by this module and its name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _define_pyfunc() -> type:
    from mlflow.pyfunc import PythonModel

    class ForecastPyfunc(PythonModel):
        """A fitted forecaster with conformal intervals, as an MLflow pyfunc model.

        ``predict`` takes a frame with ``unique_id`` (the series to forecast)
        and either an ``h`` column (or ``params={"h": ...}``; default: the
        experiment's horizon) or, for models using exogenous columns, one row
        per series and future date with ``ds`` and those columns. It returns
        ``unique_id, ds, <name>, <name>-lo-80, <name>-hi-80, ...``.
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
            card: dict[str, Any] | None = None,
        ) -> None:
            self.forecaster, self.name, self.horizon = forecaster, name, int(horizon)
            self.levels, self.quantiles, self.scales = list(levels), quantiles, scales
            self.id_col, self.time_col = id_col, time_col
            self.card = dict(card or {})

        def metadata(self) -> dict[str, Any]:
            """The model card's facts, as plain data for the MLmodel file."""
            import json

            facts = {
                "kind": "forecast",
                "candidate": self.name,
                "horizon": self.horizon,
                "levels": self.levels,
                "series": len(self.scales),
                "exog": list(self.forecaster.exog) if self.forecaster.uses_exog else [],
                **self.card,
            }
            return {"salesml": json.loads(json.dumps(facts, default=str))}

        def predict(
            self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
        ) -> pd.DataFrame:
            frame = pd.DataFrame(model_input)
            if self.id_col not in frame.columns:
                raise ValueError(f"model_input needs a {self.id_col!r} column")
            frame[self.id_col] = frame[self.id_col].astype(str)
            ids = list(pd.unique(frame[self.id_col]))
            unknown = [i for i in ids if i not in self.scales.index]
            if unknown:
                raise ValueError(f"unknown series: {', '.join(map(str, unknown[:5]))}")
            X = None
            if self.forecaster.uses_exog:
                need = [self.time_col, *self.forecaster.exog]
                missing = [c for c in need if c not in frame.columns]
                if missing:
                    raise ValueError(f"model_input needs future values of {', '.join(missing)}")
                sizes = frame.groupby(self.id_col).size()
                if sizes.nunique() != 1:
                    raise ValueError("give the same number of future dates for every series")
                h = int(sizes.iloc[0])
                X = frame[[self.id_col, *need]].assign(
                    **{self.time_col: pd.to_datetime(frame[self.time_col])}
                )
            elif "h" in frame.columns:
                h = int(frame["h"].max())
            else:
                h = int((params or {}).get("h", self.horizon))
            if h < 1:
                raise ValueError(f"the horizon h must be at least 1, got {h}")
            out = self.forecaster.predict(h, X_df=X)
            out = out[out[self.id_col].isin(ids)].reset_index(drop=True)
            out = out.rename(columns={"yhat": self.name})
            point = out[self.name].clip(lower=0).to_numpy(float)
            out[self.name] = point
            step = out.groupby(self.id_col).cumcount().to_numpy()
            scale = self.scales.reindex(out[self.id_col]).to_numpy(float)
            for lv in self.levels:
                q = self.quantiles[lv]
                half = q[np.minimum(step, len(q) - 1)] * scale
                out[f"{self.name}-lo-{lv}"] = np.maximum(point - half, 0.0)
                out[f"{self.name}-hi-{lv}"] = point + half
            return out

    ForecastPyfunc.__module__ = __name__
    ForecastPyfunc.__qualname__ = "ForecastPyfunc"
    return ForecastPyfunc


def __getattr__(name: str) -> Any:
    # ForecastPyfunc subclasses mlflow's PythonModel; importing mlflow takes seconds,
    # so the class is defined on first use. Pickles refer to it by module and name.
    if name == "ForecastPyfunc":
        cls = _define_pyfunc()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
