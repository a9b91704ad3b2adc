"""The forecast ensemble: the mean (or median) of the best models' forecasts, from typed fits.

The task keeps one :class:`CandidateFit` per candidate that succeeded. The
ensemble (the registry entry tagged ``combines``) is assembled from them, not
fitted: its backtest forecasts are the mean (``combine: median``: the median)
of its members' backtest forecasts and its final model combines their final
models the same way (:class:`EnsembleForecaster`).

Members are the ``members`` named in its params; else, with ``size``, the
``size`` successful models with the lowest MASE on the calibration window
(window 0, before every scored window, so choosing them does not peek at the
windows the ensemble is scored on); else (the default) the combination of two
or more models whose combined forecast has the lowest calibration MASE, the
M4 competition's "comb" chosen on data the scores never see
(:func:`best_combination`). Ties go to fewer members, then to names first in
alphabetical order. The choice depends on the fits only, never on the order
candidates are listed or fitted in. The ensemble must come after its members in the config only
because it needs their fits: the config refuses an ensemble listed before a
model it may combine (:class:`salesml.forecast.config.ForecastExperiment`),
and :func:`combine` names any member without a fit (one that failed).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salesml.forecast.backtest import window_mase
from salesml.forecast.contract import Forecaster
from salesml.forecast.intervals import MODEL_FORM
from salesml.forecast.models import EnsembleForecaster


@dataclass(frozen=True, eq=False)
class CandidateFit:
    """What the task keeps of a candidate that succeeded, for the ensemble and the comparisons.

    Parameters
    ----------
    backtest : DataFrame
        Its backtest forecasts before intervals (window 0 is the calibration window).
    final : Forecaster
        Its model fitted on all data (what is exported).
    role : {"baseline", "model"}
        Where the config lists it.
    combines : bool
        Whether it combines other candidates' fits (its entry is tagged ``combines``).
    mase : float
        MASE over the scored windows.
    by_step : DataFrame
        Its metrics per horizon step (for the comparison plot).
    per_series : Series
        MASE per series over the scored windows (for paired differences).
    """

    backtest: pd.DataFrame
    final: Forecaster
    role: str
    combines: bool
    mase: float
    by_step: pd.DataFrame
    per_series: pd.Series

    def calibration_mase(self, id_col: str = "unique_id", target_col: str = "y") -> float:
        """MASE on the calibration window: what the ensemble ranks its default members by."""
        return window_mase(self.backtest, 0, id_col, target_col)


# The default search tries every combination of the best SEARCHED models (by their own
# calibration MASE): 2**8 - 9 = 247 combinations at most, each a mean over window 0.
SEARCHED = 8


def choose_members(
    fits: Mapping[str, CandidateFit],
    size: int | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    how: str = "mean",
) -> list[str]:
    """The ensemble's default members among the models (not baselines, not combinations).

    Parameters
    ----------
    fits : mapping of str to CandidateFit
        The candidates fitted so far, by name.
    size : int, optional
        Take the ``size`` models with the lowest calibration MASE, ranked by
        ``(MASE, name)``. ``None``: the best combination (:func:`best_combination`).
    id_col, time_col, target_col : str
        The long frame's columns.
    how : {"mean", "median"}
        How the combination is formed (only used without ``size``).

    Returns
    -------
    list of str
        Member names; fewer than two when fewer models succeeded.
    """
    ranked = sorted(
        (fit.calibration_mase(id_col, target_col), name)
        for name, fit in fits.items()
        if fit.role == "model" and not fit.combines
    )
    if size is not None:
        return [name for _, name in ranked[:size]]
    names = [name for _, name in ranked[:SEARCHED]]
    if len(names) < 3:  # nothing to choose
        return names
    return best_combination({n: fits[n] for n in names}, id_col, time_col, target_col, how)


def _combined(frame: pd.DataFrame, how: str) -> pd.Series:
    return frame.median(axis=1) if how == "median" else frame.mean(axis=1)


def best_combination(
    fits: Mapping[str, CandidateFit],
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    how: str = "mean",
) -> list[str]:
    """The two or more of ``fits`` whose combined forecast has the lowest calibration MASE.

    Every combination is scored on window 0's rows that every fit forecast, by
    MASE (the mean over series of the mean scaled absolute error). Ranked by
    ``(MASE, number of members, names)``: a tie goes to the smaller, then to the
    alphabetically first combination.
    """
    keys = [id_col, time_col]
    cal = {n: f.backtest[f.backtest["window"] == 0].set_index(keys) for n, f in fits.items()}
    wide = pd.concat([c["yhat"].rename(n) for n, c in cal.items()], axis=1).dropna()
    base = next(iter(cal.values())).loc[wide.index, [target_col, "scale"]]
    series = base.index.get_level_values(id_col)
    ranked = []
    for size in range(2, len(fits) + 1):
        for combo in itertools.combinations(sorted(fits), size):
            err = (base[target_col] - _combined(wide[list(combo)], how)).abs() / base["scale"]
            mase = float(err.groupby(series).mean().mean())
            ranked.append((round(mase, 12), size, combo))  # float noise is no win
    return list(min(ranked)[2])


def _combined_form(backtests: list[pd.DataFrame]) -> pd.Series:
    """Per row, the ensemble's ``member_forms``: ``model`` where every member forecast by
    its own model, else the members' other forms joined by ``+`` (its intervals calibrate
    each form on its own errors, :func:`salesml.forecast.metrics.add_intervals`)."""
    forms = pd.concat(
        [
            (b["form"] if "form" in b else pd.Series(MODEL_FORM, index=b.index)).fillna(MODEL_FORM)
            for b in backtests
        ],
        axis=1,
    ).astype(str)
    out = pd.Series(MODEL_FORM, index=forms.index, name="member_forms")
    mixed = (forms != MODEL_FORM).any(axis=1)
    other = forms[mixed].where(forms[mixed] != MODEL_FORM)
    out[mixed] = other.apply(lambda r: "+".join(sorted(set(r.dropna()))), axis=1)
    return out


def combine(
    fits: Mapping[str, CandidateFit],
    params: dict[str, Any],
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> tuple[pd.DataFrame, EnsembleForecaster]:
    """The ensemble's backtest forecasts and final model; sets ``params["members"]`` and
    ``params["combine"]``.

    Parameters
    ----------
    fits : mapping of str to CandidateFit
        The candidates fitted so far, by name.
    params : dict
        The ensemble's params: ``members`` (names), ``size`` (the best ``size`` models;
        default: the best combination, :func:`choose_members`) and ``combine``
        (``mean``, the default, or ``median``).
    id_col, time_col, target_col : str
        The long frame's columns.

    Raises
    ------
    ValueError
        When a member has no fit (it failed, or is listed after the ensemble) or
        fewer than two members are available.
    """
    names = params.get("members")
    how = str(params.get("combine") or "mean")
    if names is None:
        size = params.get("size")
        names = choose_members(
            fits, None if size is None else int(size), id_col, time_col, target_col, how
        )
    missing = [n for n in names if n not in fits]
    if missing:
        raise ValueError(
            f"ensemble: no fit of {', '.join(map(repr, missing))}; a member must succeed "
            "and be listed before the ensemble (the ensemble averages its fits)"
        )
    if len(names) < 2:
        raise ValueError(
            "ensemble needs at least two successful models to average"
            + (f"; got only {names[0]!r}" if names else "; none succeeded")
        )
    keys = [id_col, time_col, "window"]
    fcs = [fits[n].backtest.set_index(keys)["yhat"] for n in names]
    fc = fits[names[0]].backtest.drop(columns=["yhat", "form"], errors="ignore")
    fc = fc.set_index(keys)
    fc = fc.join(_combined(pd.concat(fcs, axis=1), how).rename("yhat"))
    fc = fc.join(_combined_form([fits[n].backtest.set_index(keys) for n in names])).reset_index()
    params["members"], params["combine"] = list(names), how
    members = [fits[n].final for n in names]
    return fc, EnsembleForecaster(members, id_col, time_col, target_col, how=how)
