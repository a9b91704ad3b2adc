"""salesml side by side with what a data scientist would pick instead, in one run.

- classification (Telco churn, the Olist funnel): salesml's whole experiment against
  PyCaret 3.3 ``setup`` + ``compare_models`` (its own virtual environment,
  ``benchmarks/.venvs/pycaret``, made by ``make bench``) and a plain scikit-learn
  logistic-regression script, all on salesml's own train/test split;
- forecasting (Walmart): salesml's experiment against statsforecast alone
  (``cross_validation`` with AutoETS, AutoTheta and SeasonalNaive) over the same
  backtest windows, both scored with salesml's MASE and WAPE.

Usage: ``python benchmarks/bench_peers.py [--skip-pycaret] [--forecast-only]
[--classification-only] [--repeats N]``
(salesml and PyCaret run N times each, default 3, and their median times are compared).
Prints a table and writes ``benchmarks/results/peers.json`` (``benchmarks/results_md.py``
renders it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
PYCARET_PYTHON = ROOT / "benchmarks" / ".venvs" / "pycaret" / "bin" / "python"
OUT = ROOT / "benchmarks" / "results" / "peers.json"
CLASSIFICATION = {
    "Telco churn": "experiments/churn/telco.yaml",
    "Olist funnel": "experiments/lead_conversion/olist.yaml",
}
FORECAST = {"Walmart weekly": "experiments/forecast/walmart.yaml"}


def _salesml(config: str, tmp: Path, warm: bool = True) -> tuple[Any, Any, float, float]:
    """Run the experiment into one new MLflow store: (summary, task, first s, second s).

    The first run makes the new store (a copy of salesml's empty-store template, which
    the machine's first store built from MLflow's migrations; the figure
    compared with the peers); with ``warm`` a second run into the same store follows, as
    a data scientist's next run (its seconds are NaN without ``warm``).
    """
    from rich.console import Console

    from salesml import load_experiment, run_experiment
    from salesml.runner import make_task

    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["SALESML_ARTIFACT_ROOT"] = str(tmp / "artifacts")
    seconds = [float("nan")] * 2
    for i, run in enumerate(("out", "again")[: 2 if warm else 1]):
        cfg = load_experiment(ROOT / config)
        task = make_task(cfg)
        started = time.perf_counter()
        summary = run_experiment(
            cfg, tmp / run, f"sqlite:///{tmp / 'mlflow.db'}", Console(quiet=True), task=task
        )
        seconds[i] = time.perf_counter() - started
        if run == "out":
            first = (summary, task)
    return *first, seconds[0], seconds[1]


def _peer(python: Path | str, script: str, *args: Any) -> dict[str, Any]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as cwd:  # PyCaret writes logs.log
        proc = subprocess.run(
            [
                str(python),
                str(PEERS / script),
                *(str(Path(a).resolve()) if isinstance(a, Path) else str(a) for a in args),
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=cwd,
        )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{script} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))


def _median(values: list[Any], key: Any = None) -> Any:
    """The middle value of ``values`` by ``key`` (the lower of the two for an even count)."""
    return sorted(values, key=key)[(len(values) - 1) // 2]


#: PyCaret's configuration, the fastest of those tried on a quiet 2-core machine
#: (2026-12-05, Telco, one run each): ``setup(n_jobs=1)`` 45.6 s (folds one after
#: another, each model on the threads it picks); the default ``n_jobs=-1`` 100.4 s,
#: ``n_jobs=-1`` with ``OMP_NUM_THREADS=1`` 73.9 s and ``n_jobs=2`` with
#: ``OMP_NUM_THREADS=1`` 134.9 s: with folds in parallel worker processes its LightGBM
#: took 4.7-10.9 s a fold on 5,282 rows (0.2 s when the folds run one at a time).
PYCARET_N_JOBS = 1


def classification(name: str, config: str, pycaret: bool, repeats: int = 1) -> dict[str, Any]:
    """salesml, the logistic script and PyCaret on one split.

    salesml and PyCaret run ``repeats`` times each, alternating (salesml, PyCaret,
    salesml, ...) so that both meet the machine in the same state; their median wall
    times are compared and the ranges kept. Neither time includes importing the
    library; salesml's includes creating its MLflow store.
    """
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        tmp = Path(tmp)
        firsts, agains, runs = [], [], []
        for i in range(repeats):
            summary, task, seconds, again = _salesml(config, tmp / f"salesml-{i}")
            firsts.append(seconds)
            agains.append(again)
            if i == 0:
                target = task.config.data.target
                for part, (frame, _) in task.datasets().items():
                    frame.to_csv(tmp / f"{part}.csv", index=False)
            split = (tmp / "train.csv", tmp / "test.csv", target)
            if pycaret and PYCARET_PYTHON.exists():
                runs.append(_peer(PYCARET_PYTHON, "pycaret_compare.py", *split, PYCARET_N_JOBS))
        seconds, again = _median(firsts), _median(agains)
        champ = summary.candidate(summary.champion.name)
        row: dict[str, Any] = {
            "dataset": name,
            "rows": summary.data.rows,
            "train_rows": summary.data.train_rows,
            "test_rows": summary.data.test_rows,
            "salesml": {
                "seconds": round(seconds, 2),
                "existing_store_seconds": round(again, 2),
                "runs_seconds": [round(x, 2) for x in firsts],
                "fit_seconds": round(sum(c.fit_seconds for c in summary.candidates), 2),
                "champion": champ.name,
                "roc_auc": champ.metrics["roc_auc"],
                "roc_auc_ci": champ.metrics["roc_auc_ci"],
                "candidates": len(summary.candidates),
                "beats_baseline": summary.champion.beats_baseline,
                "baseline": summary.champion.baseline,
            },
        }
        row["sklearn"] = _peer(sys.executable, "sklearn_logistic.py", *split)
        if runs:
            median = _median(runs, key=lambda r: r["seconds"])
            row["pycaret"] = {
                **median,
                "runs_seconds": [r["seconds"] for r in runs],
                "config": f"setup(n_jobs={PYCARET_N_JOBS}), compare_models(sort='AUC')",
            }
        elif pycaret:
            row["pycaret"] = {"missing": f"{PYCARET_PYTHON} not found: run `make bench`"}
        return row


def _score_cv(cv, history, season: int) -> dict[str, dict[str, float]]:
    """Score statsforecast's CV frame as salesml scores its backtest (same MASE, WAPE)."""
    import pandas as pd

    from salesml.forecast.metrics import evaluate_forecasts, seasonal_scales

    cv = cv.astype({"unique_id": str})
    history = history.astype({"unique_id": str})
    cv["ds"] = pd.to_datetime(cv["ds"])
    firsts = cv.groupby("cutoff")["ds"].min().sort_index()
    cv["window"] = cv["cutoff"].map({c: i for i, c in enumerate(firsts.index)})
    cv["step"] = cv.groupby(["unique_id", "cutoff"]).cumcount() + 1
    scales = []
    for cutoff, first in firsts.items():
        s = seasonal_scales(history[history["ds"] < first], season).reset_index()
        scales.append(s.assign(cutoff=cutoff))
    cv = cv.merge(pd.concat(scales), on=["unique_id", "cutoff"])
    models = [
        c
        for c in cv.columns
        if c not in {"unique_id", "ds", "cutoff", "y", "window", "step", "scale", "scale2", "index"}
    ]
    scored = {}
    for model in models:
        metrics, _, _ = evaluate_forecasts(cv.rename(columns={model: "yhat"}), levels=[])
        scored[model] = {k: metrics[k] for k in ("mase", "wape", "smape")}
    return scored


def forecast(name: str, config: str) -> dict[str, Any]:
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        tmp = Path(tmp)
        summary, task, seconds, _ = _salesml(config, tmp, warm=False)
        info = summary.data
        history = task.df[["unique_id", "ds", "y"]]
        history.to_csv(tmp / "series.csv", index=False)
        step = task.config.backtest.step or info.horizon
        stats = _peer(
            sys.executable,
            "statsforecast_cv.py",
            tmp / "series.csv",
            info.freq,
            info.horizon,
            len(info.cutoffs),
            step,
            info.season_length,
            tmp / "cv.csv",
        )
        cv = pd.read_csv(tmp / "cv.csv", parse_dates=["ds", "cutoff"])
        first_dates = sorted(cv.groupby("cutoff")["ds"].min().dt.strftime("%Y-%m-%d"))
        assert first_dates == info.cutoffs, (first_dates, info.cutoffs)  # same windows
        stats["models"] = _score_cv(cv, history, info.season_length)
        champ = summary.candidate(summary.champion.name)
        return {
            "dataset": name,
            "series": info.series,
            "windows": info.cutoffs,
            "horizon": info.horizon,
            "salesml": {
                "seconds": round(seconds, 2),
                "champion": champ.name,
                "mase": champ.metrics["mase"],
                "wape": champ.metrics["wape"],
                "candidates": len(summary.candidates),
            },
            "statsforecast": stats,
        }


def main(argv: list[str]) -> None:
    pycaret = "--skip-pycaret" not in argv
    repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 3
    results: dict[str, Any] = {"machine": machine(), "classification": [], "forecast": []}
    if "--forecast-only" in argv and OUT.exists():  # keep the classification figures...
        kept = json.loads(OUT.read_text(encoding="utf-8"))
        results["classification"] = kept["classification"]
        results["machine"] = kept["machine"]  # ... and the machine they were measured on
        results["forecast_machine"] = machine()
    if "--classification-only" in argv and OUT.exists():  # keep the forecast figures
        kept = json.loads(OUT.read_text(encoding="utf-8"))
        results["forecast"] = kept["forecast"]
        results["forecast_machine"] = kept.get("forecast_machine", kept["machine"])
    for name, config in CLASSIFICATION.items() if "--forecast-only" not in argv else ():
        row = classification(name, config, pycaret, repeats)
        results["classification"].append(row)
        _save(results)
        s = row["salesml"]
        print(
            f"{name}: salesml {s['seconds']:.1f} s ({s['existing_store_seconds']:.1f} s into "
            f"an existing store), {s['champion']} ROC-AUC {s['roc_auc']:.4f}"
        )
        for peer in ("pycaret", "sklearn"):
            p = row.get(peer)
            if p and "seconds" in p:
                runs = ", ".join(f"{x:.1f}" for x in p.get("runs_seconds", []))
                print(
                    f"  {p['peer']}: {p['seconds']:.1f} s"
                    + (f" (median of {runs})" if runs else "")
                    + f", ROC-AUC {p['roc_auc']:.4f}"
                )
            elif p:
                print(f"  {peer}: {p['missing']}")
    for name, config in FORECAST.items() if "--classification-only" not in argv else ():
        row = forecast(name, config)
        results["forecast"].append(row)
        s, p = row["salesml"], row["statsforecast"]
        print(f"{name}: salesml {s['seconds']:.1f} s, {s['champion']} MASE {s['mase']:.3f}")
        for model, m in p["models"].items():
            print(f"  statsforecast {model}: MASE {m['mase']:.3f}, WAPE {m['wape']:.3f}")
        print(f"  statsforecast time: {p['seconds']:.1f} s")
    _save(results)
    print(f"wrote {OUT.relative_to(ROOT)}")


def _save(results: dict[str, Any]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
