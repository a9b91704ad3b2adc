"""Series with one to two seasons of history: which fallback form forecasts them best.

A weekly series with 60 to 103 weeks is too short for a seasonal model (STL and
seasonal ETS states need two seasons). The fallback ladder
(``salesml.forecast.fallback``) gives it the model's seasonal differences when they
forecast the series' last quarter season better than its non-seasonal form does,
else the non-seasonal form. This script truncates every series to its first ``L``
weeks, forecasts the next ``h`` and prints the mean scaled error (MAE over the
in-sample naive MAE, per series, averaged) of:

- ``non_seasonal``: AutoETS without a season (the only form before 2026-12-05);
- ``seasonal_difference``: AutoETS on the year-over-year differences, every series;
- ``ladder``: what salesml does (the holdout choice between the two);
- ``seasonal_naive``: the value a year earlier.

Data: Walmart's 45 stores (h = 8), 360 synthetic weekly store x department series
(``generate_weekly_sales``, seed 7, h = 13) and 60 seasonless series (random walks
with drift and noisy linear trends, seed 0, h = 13): the case where differencing a
season apart only adds noise.

Usage: ``python benchmarks/bench_short_series.py``. Writes
``benchmarks/results/short_series.json`` (``benchmarks/results_md.py`` renders it).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_competition import mixed_weekly  # noqa: E402
from benchlib import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "short_series.json"
LENGTHS = (60, 70, 80, 90, 103)
FORMS = ("non_seasonal", "seasonal_difference", "ladder", "seasonal_naive")


def walmart() -> tuple[pd.DataFrame, int]:
    raw = pd.read_csv(ROOT / "data/external/walmart_sales/Walmart_Store_sales.csv")
    ds = pd.to_datetime(raw["Date"], format="%d-%m-%Y")
    return pd.DataFrame(
        {"unique_id": raw["Store"].astype(str), "ds": ds, "y": raw["Weekly_Sales"]}
    ), 8


def synthetic() -> tuple[pd.DataFrame, int]:
    frame, horizon, _, _ = mixed_weekly()  # the competition benchmark's 360 series
    return frame, horizon


def seasonless() -> tuple[pd.DataFrame, int]:
    rng = np.random.default_rng(0)
    parts = []
    for i in range(60):
        t = np.arange(150)
        walk = 100 + np.cumsum(rng.normal(0.2, 2, 150))
        trend = 100 + 0.5 * t + rng.normal(0, 4, 150)
        y = walk if i % 2 else trend
        ds = pd.date_range("2020-01-03", periods=150, freq="W-FRI")
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True), 13


def _forms(freq: str) -> dict[str, Any]:
    from salesml.forecast.fallback import with_fallbacks
    from salesml.forecast.models import StatsForecaster
    from salesml.forecast.seasonal_difference import SeasonalDifference

    def ets(m: int, model: str, decompose: bool = False) -> StatsForecaster:
        return StatsForecaster(
            "AutoETS", freq, m, {"model": model, "damped": False}, decompose=decompose
        )

    return {
        "non_seasonal": ets(1, "ZZN"),
        "seasonal_difference": SeasonalDifference(ets(1, "ZZN"), 52),
        "ladder": with_fallbacks(ets(52, "ZZZ", decompose=True), 52),
        "seasonal_naive": StatsForecaster("SeasonalNaive", freq, 52),
    }


def one(name: str, frame: pd.DataFrame, h: int) -> list[dict[str, Any]]:
    frame = frame.sort_values(["unique_id", "ds"], kind="mergesort").reset_index(drop=True)
    pos = frame.groupby("unique_id").cumcount()
    size = frame.groupby("unique_id")["y"].transform("size")
    rows = []
    for length in LENGTHS:
        keep = size >= length + h
        train = frame[keep & (pos < length)]
        test = frame[keep & (pos >= length) & (pos < length + h)]
        scale = train.groupby("unique_id")["y"].agg(lambda s: np.mean(np.abs(np.diff(s))))
        errors, shares, started = {}, {}, time.perf_counter()
        for form, model in _forms("W-FRI").items():
            fc = model.fit(train).predict(h)
            both = test.merge(fc, on=["unique_id", "ds"])
            scaled = (both["y"] - both["yhat"]).abs() / both["unique_id"].map(scale)
            errors[form] = round(float(scaled.groupby(both["unique_id"]).mean().mean()), 3)
            if form == "ladder":
                chosen = pd.Series(model.assignment())
                shares = {f: int((chosen == f).sum()) for f in chosen.unique()}
        rows.append(
            {
                "data": name,
                "weeks": length,
                "horizon": h,
                "series": int(train["unique_id"].nunique()),
                "errors": errors,
                "ladder_forms": shares,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        e = errors
        print(
            f"{name:<11} {length:>4} {rows[-1]['series']:>6} "
            + " ".join(f"{e[f]:>8.3f}" for f in FORMS)
            + f"  {shares}",
            flush=True,
        )
    return rows


def render(payload: dict[str, Any] | None) -> list[str]:
    """The RESULTS.md section of ``short_series.json``."""
    head = ["## Forecasting: series with one to two seasons of history", ""]
    if not payload:
        return [*head, "Not measured yet (run `benchmarks/bench_short_series.py`).", ""]
    lines = [
        *head,
        f"`bench_short_series.py`, {payload['machine']['date']}: every series cut to its first "
        "L weeks, the next h forecast; mean scaled error (MAE over the in-sample naive MAE, "
        "per series). `ladder` is salesml: the seasonal differences where they forecast the "
        "series' last 13 weeks better than the non-seasonal form (from 73 weeks), else the "
        "non-seasonal form.",
        "",
        "| data | weeks | series | non_seasonal | seasonal_difference | ladder | seasonal_naive "
        "| ladder's forms |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in payload["rows"]:
        e = r["errors"]
        forms = ", ".join(f"{n} {f}" for f, n in sorted(r["ladder_forms"].items()))
        lines.append(
            f"| {r['data']} (h={r['horizon']}) | {r['weeks']} | {r['series']} | "
            + " | ".join(f"{e[f]:.3f}" for f in FORMS)
            + f" | {forms} |"
        )
    lines.append("")
    return lines


def main() -> int:
    warnings.filterwarnings("ignore")
    print(f"{'data':<11} {'weeks':>4} {'series':>6} " + " ".join(f"{f[:8]:>8}" for f in FORMS))
    rows = []
    for name, make in (("walmart", walmart), ("synthetic", synthetic), ("seasonless", seasonless)):
        rows += one(name, *make())
    OUT.write_text(json.dumps({"machine": machine(()), "rows": rows}, indent=1), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
