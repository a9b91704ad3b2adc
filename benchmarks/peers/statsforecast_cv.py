"""statsforecast alone, as its documentation shows it: ``cross_validation`` with
AutoETS, AutoTheta and SeasonalNaive on every core.

Usage: ``python statsforecast_cv.py SERIES.csv FREQ H WINDOWS STEP SEASON OUT.csv OUT.json``
(``SERIES.csv`` in long format ``unique_id, ds, y``). Writes the cross-validation
forecasts to ``OUT.csv`` and the wall time to ``OUT.json``; the harness scores them
with the same MASE and WAPE as salesml.
"""

from __future__ import annotations

import json
import sys
import time


def main(
    series: str,
    freq: str,
    h: str,
    windows: str,
    step: str,
    season: str,
    out_csv: str,
    out_json: str,
) -> None:
    import pandas as pd
    import statsforecast
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, AutoTheta, SeasonalNaive

    df = pd.read_csv(series, parse_dates=["ds"])[["unique_id", "ds", "y"]]
    m = int(season)
    started = time.perf_counter()
    sf = StatsForecast(
        models=[AutoETS(season_length=m), AutoTheta(season_length=m), SeasonalNaive(m)],
        freq=freq,
        n_jobs=-1,
    )
    cv = sf.cross_validation(df=df, h=int(h), n_windows=int(windows), step_size=int(step))
    seconds = time.perf_counter() - started
    cv.reset_index().to_csv(out_csv, index=False)
    with open(out_json, "w", encoding="utf-8") as fh:
        json.dump({"peer": f"statsforecast {statsforecast.__version__}", "seconds": seconds}, fh)


if __name__ == "__main__":
    main(*sys.argv[1:9])
