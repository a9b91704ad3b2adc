"""What real sales series look like: returns (negative values) and intermittent demand.

Negative values are returns or corrections netted into a period's sales.
``data.negative`` decides what happens to them (:func:`handle_negatives`):

- ``keep`` (default): they stay in the data and are counted; forecasts of a
  series that had a negative value are not clipped at 0;
- ``clip``: they are set to 0 and counted;
- ``error``: the file is refused, naming the series, the date and the value.

Every series is classified by its demand pattern (:func:`demand_classes`),
after Syntetos and Boylan (2005): ``ADI`` is the average interval between
non-zero periods, ``CV2`` the squared coefficient of variation of the non-zero
sizes (absolute values). ``smooth`` (ADI < 1.32, CV2 < 0.49), ``erratic``
(ADI < 1.32, CV2 >= 0.49), ``intermittent`` (ADI >= 1.32, CV2 < 0.49) and
``lumpy`` (ADI >= 1.32, CV2 >= 0.49); a series that never sold is ``zero``.
Intermittent and lumpy series are where the ``croston`` and ``adida``
baselines belong.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from salesml.errors import DataError
from salesml.experiment.results import ForecastData
from salesml.forecast.data import _series_list, period_word

ADI_CUT, CV2_CUT = 1.32, 0.49
DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "zero")


def handle_negatives(
    df: pd.DataFrame,
    mode: Literal["keep", "clip", "error"] = "keep",
    where: str = "data",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> tuple[pd.DataFrame, int, int]:
    """Apply ``data.negative`` to a long frame (see the module docstring).

    Parameters
    ----------
    df : DataFrame
        Long-format series; not modified.
    mode : {"keep", "clip", "error"}
        What to do with negative target values.
    where : str
        File name used in error messages.

    Returns
    -------
    frame : DataFrame
        ``df`` itself (keep), or a copy with negatives set to 0 (clip).
    values, series : int
        How many negative values were found, in how many series.

    Raises
    ------
    DataError
        With ``mode="error"`` when a value is negative: names the series, date and value.
    """
    neg = df[target_col] < 0
    values, series = int(neg.sum()), int(df.loc[neg, id_col].nunique())
    if not values:
        return df, 0, 0
    if mode == "error":
        first = df[neg].iloc[0]
        raise DataError(
            f"{where}: {values} negative sales (returns) in series {_series_list(df.loc[neg, id_col])} "
            f"(e.g. {first[id_col]!r} on {first[time_col]:%Y-%m-%d}: {first[target_col]:.12g}); "
            "set data.negative to keep or clip to accept them"
        )
    if mode == "clip":
        df = df.copy()
        df.loc[neg, target_col] = 0.0
    return df, values, series


def demand_class(y: np.ndarray) -> str:
    """The Syntetos-Boylan class of one series (see the module docstring)."""
    y = np.asarray(y, float)
    nonzero = np.abs(y[y != 0])
    if nonzero.size == 0:
        return "zero"
    adi = y.size / nonzero.size
    mean = nonzero.mean()
    cv2 = float(nonzero.var() / mean**2) if nonzero.size > 1 else 0.0
    if adi < ADI_CUT:
        return "smooth" if cv2 < CV2_CUT else "erratic"
    return "intermittent" if cv2 < CV2_CUT else "lumpy"


def demand_classes(df: pd.DataFrame, id_col: str = "unique_id", target_col: str = "y") -> pd.Series:
    """Demand class of every series, indexed by series (sorted)."""
    return df.groupby(id_col, sort=True)[target_col].agg(demand_class)


def class_counts(classes: pd.Series) -> dict[str, int]:
    """``{class: series}`` in the order of :data:`DEMAND_CLASSES`, classes present only."""
    counts = classes.value_counts()
    return {c: int(counts[c]) for c in DEMAND_CLASSES if c in counts.index}


def fill_note(gaps: dict[str, int], fill: str, freq: str) -> str:
    """One line on the periods without a row: how many were filled with 0, and how.

    ``filled 1,234 missing weeks in 56 series with 0 (data.fill: zero)``.
    """
    unit, n, k = period_word(freq), sum(gaps.values()), len(gaps)
    if not n:
        return f"no missing {unit} (data.fill: {fill})"
    if fill == "zero":
        return f"filled {n:,} missing {unit} in {k:,} series with 0 (data.fill: zero)"
    return (
        f"filled {n:,} missing {unit} inside {k:,} series with 0; a series ends at its "
        "last row (data.fill: missing)"
    )


def screen_notes(info: ForecastData) -> list[str]:
    """One-line verdicts for the screen: series, demand classes, returns, left out; fallbacks."""
    demand = ", ".join(f"{n} {c}" for c, n in info.demand.items())
    head = (
        f"series: {info.series_used} of {info.series} forecast; demand: {demand}; "
        f"returns: {info.negative_values} negative values in {info.negative_series} series"
    )
    if info.negative_values:
        head += f" ({'set to 0' if info.negative == 'clip' else 'kept'})"
    gone = [u for u, why in info.excluded.items() if why.startswith("discontinued")]
    ended = [u for u in info.excluded if u not in gone]
    if gone:
        quiet = info.discontinued_after or 0
        head += (
            f"; left out: {len(gone):,} discontinued (no sale in the last "
            f"{quiet or 'few'} {period_word(info.freq)}): {_series_list(pd.Series(gone))}"
        )
    if ended:
        head += f"; left out (ended early): {_series_list(pd.Series(ended))}"
    if info.unscored:
        head += f"; not scored (too new): {_series_list(pd.Series(list(info.unscored)))}"
    lines = [head]
    fill = info.fill
    if fill is not None:
        lines.append(fill_note(info.gaps_filled, fill, info.freq))
    if info.seasonal is not None:
        n = info.seasonal["seasonal"] + info.seasonal["not_seasonal"]
        lines.append(
            f"seasonality test (lag {info.season_length} autocorrelation, 90 %): "
            f"{info.seasonal['seasonal']} of {n} series seasonal; the others get the "
            "statistical models' non-seasonal form"
        )
    for name, how in info.combined.items():
        lines.append(f"{name}: {how['combine']} of {', '.join(how['members'])}")
    if info.fallbacks:
        parts = [
            f"{name} " + " + ".join(f"{n} {form}" for form, n in counts.items())
            for name, counts in info.fallbacks.items()
            if counts
        ]
        lines.append(
            "fallbacks (series on a simpler form, see data.fallbacks): "
            + ("; ".join(parts) if parts else "none")
        )
    return lines
