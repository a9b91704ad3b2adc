"""The issue's forecasting scale targets, and what the cheap paths cost and save.

Each case is one ``salesml run`` in a child process (wall time and the child's peak
RSS), on data generated beforehand (not timed) by
:func:`salesml.synthetic.generate_weekly_sales`:

- ``3000``: 3,000 weekly store x department series x 143 weeks, horizon 8, the
  default candidates (the config lists none). Target: under 10 minutes on 2 cores.
- ``mixed``: 1,000 weekly series of 80 to 2,600 weeks (log-uniform, as M4 weekly),
  default candidates. Target: under 5 minutes.
- ``cheap``: auto_ets alone against seasonal naive on the 3,000 series, as configured
  by default and with each cheap path a user can pick for many series:
  ``refit: false``, ``max_history: 104``, ``backtest.windows: 1``.

Usage: ``python benchmarks/bench_targets.py [3000 mixed cheap]`` (default all); writes
``benchmarks/results/targets.json`` (``benchmarks/results_md.py`` renders it).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"3000": 600.0, "mixed": 300.0}


def _data(folder: Path, name: str, n_series: int, weeks: Any, seed: int) -> Path:
    from salesml.synthetic import generate_weekly_sales

    path = folder / f"{name}.csv"
    if not path.exists():
        generate_weekly_sales(n_series, seed=seed, weeks=weeks).to_csv(path, index=False)
    return path


def _config(folder: Path, name: str, data: Path, **extra: Any) -> Path:
    config = {
        "name": name,
        "task": "forecast",
        "data": {
            "path": str(data),
            "id": "unique_id",
            "time": "ds",
            "target": "y",
            "freq": "W-FRI",
            "exog": ["is_holiday", "markdown"],
        },
        "horizon": 8,
        **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run(config: Path, folder: Path) -> dict[str, Any]:
    """``salesml run config`` in a child process: seconds, peak RSS (MiB) and the summary."""
    from benchlib import child_env, run_child

    out = folder / f"out-{config.stem}"
    env = child_env(
        MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}",
        SALESML_ARTIFACT_ROOT=str(folder / "artifacts"),
    )
    child = run_child(
        [sys.executable, "-m", "salesml", "run", str(config), "-o", str(out)],
        env=env,
        cwd=folder,
        stall=600,
    )
    if child.returncode != 0:
        raise SystemExit(f"{config.name} failed (exit {child.returncode}):\n{child.tail()}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "seconds": round(child.seconds, 1),
        "peak_mib": round(child.tree_peak_mib),  # the process tree's peak (PSS), see benchlib
        "series": summary["data"]["series_used"],
        "candidates": {
            c["name"]: {
                "mase": round(c["metrics"]["mase"], 4),
                "fit_seconds": round(c["fit_seconds"], 1),
            }
            for c in summary["candidates"]
            if "mase" in (c.get("metrics") or {})
        },
        "champion": (summary.get("champion") or {}).get("name"),
        "fallbacks": summary["data"].get("fallbacks", {}),
    }


def _line(name: str, r: dict[str, Any]) -> str:
    best = r["candidates"].get(r["champion"] or "", {})
    return (
        f"{name:<34} {r['seconds']:7.1f} s  peak {r['peak_mib']:6d} MiB  "
        f"{r['series']} series  champion {r['champion']} MASE {best.get('mase', float('nan')):.3f}"
    )


def main(cases: list[str]) -> None:
    out_path = ROOT / "benchmarks" / "results" / "targets.json"
    from benchlib import machine  # the shared machine facts of RESULTS.md

    results: dict[str, Any] = {}
    dates: dict[str, str] = {}  # the day each case was measured (cases not run keep theirs)
    if out_path.exists():
        kept = json.loads(out_path.read_text(encoding="utf-8"))
        results = kept.get("cases", {})
        dates = {k: kept.get("dates", {}).get(k, kept["machine"]["date"]) for k in results}
    today = machine()["date"]
    dates.update({case: today for case in cases})
    with tempfile.TemporaryDirectory(prefix="bench-targets-") as tmp:
        folder = Path(tmp)
        if "3000" in cases or "cheap" in cases:
            weekly = _data(folder, "weekly3000", 3000, 143, seed=11)
        if "3000" in cases:
            r = run(_config(folder, "weekly-3000", weekly), folder)
            results["3000"] = {**r, "target_seconds": TARGETS["3000"]}
            print(_line("3,000 weekly series (defaults)", r), flush=True)
        if "mixed" in cases:
            mixed = _data(folder, "mixed1000", 1000, (80, 2600), seed=12)
            r = run(_config(folder, "weekly-mixed-1000", mixed), folder)
            results["mixed"] = {**r, "target_seconds": TARGETS["mixed"]}
            print(_line("1,000 mixed-length series (defaults)", r), flush=True)
        if "cheap" in cases:
            variants: dict[str, dict[str, Any]] = {
                "default": {},
                "refit: false": {"refit": False},
                "max_history: 104": {"max_history": 104},
                "backtest.windows: 1": {},
            }
            rows = {}
            for label, params in variants.items():
                extra: dict[str, Any] = {
                    "baselines": ["seasonal_naive"],
                    "models": [{"type": "auto_ets", "params": params}],
                }
                if label.startswith("backtest"):
                    extra["backtest"] = {"windows": 1}
                slug = "cheap-" + "".join(ch for ch in label if ch.isalnum())
                r = run(_config(folder, slug, weekly, **extra), folder)
                rows[label] = {
                    "seconds": r["seconds"],
                    "ets_fit_seconds": r["candidates"]["auto_ets"]["fit_seconds"],
                    "ets_mase": r["candidates"]["auto_ets"]["mase"],
                }
                print(
                    f"auto_ets {label:<20} fit {rows[label]['ets_fit_seconds']:6.1f} s  "
                    f"MASE {rows[label]['ets_mase']:.3f}  run {r['seconds']:.1f} s",
                    flush=True,
                )
            results["cheap"] = rows
    out_path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), "cases": results, "dates": dates}
    out_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out_path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main(sys.argv[1:] or ["3000", "mixed", "cheap"])
