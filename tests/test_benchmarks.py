"""The benchmark scripts' pure helpers: growth exponents, RESULTS.md rendering, child runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import benchlib  # noqa: E402
import results_md  # noqa: E402

SIZES = [1_000, 10_000, 100_000]


@pytest.mark.parametrize("k", [0.5, 1.0, 2.0])
def test_growth_exponent_recovers_a_power_law(k: float) -> None:
    values = [3.0 * n**k for n in SIZES]
    assert benchlib.growth_exponent(SIZES, values) == pytest.approx(k)


def test_growth_exponent_is_the_least_squares_slope() -> None:
    # log-log points (0, 0), (1, 1), (2, 3): slope 1.5
    assert benchlib.growth_exponent([1, 10, 100], [1, 10, 1000]) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("sizes", "values", "message"),
    [
        ([10, 10], [1.0, 2.0], "two distinct sizes"),
        ([10, 100], [1.0, 0.0], "above 0"),
        ([10, 100, 1000], [1.0, 2.0], "3 sizes but 2 values"),
    ],
)
def test_growth_exponent_refuses_what_it_cannot_fit(sizes, values, message) -> None:
    with pytest.raises(ValueError, match=message):
        benchlib.growth_exponent(sizes, values)


def _points(seconds, mib=None) -> list[dict]:
    mib = mib or [100.0] * len(SIZES)
    return [
        {
            "size": n,
            "seconds": s,
            "peak_mib": m,
            "largest_process_mib": m,
            "generate_seconds": 0.5,
            "hung_runs": 0,
        }
        for n, s, m in zip(SIZES, seconds, mib, strict=True)
    ]


def test_a_fixed_start_up_cost_flattens_the_fit_over_all_sizes() -> None:
    points = _points([20 + 0.001 * n for n in SIZES])  # 21, 30, 120 s
    exps = benchlib.curve_exponents(points)
    assert exps["time_all"] < exps["time_top2"] < 1
    assert exps["time_top2"] == pytest.approx(benchlib.growth_exponent([1e4, 1e5], [30, 120]))
    assert exps["memory_all"] == pytest.approx(0.0)


def test_curve_exponents_need_two_sizes() -> None:
    exps = benchlib.curve_exponents(_points([1.0, 2.0, 3.0])[:1])
    assert exps == {"time_all": None, "time_top2": None, "memory_all": None, "memory_top2": None}
    assert "no exponent" in benchlib.growth_line("time", exps, "time")


def test_growth_line_verdict_follows_the_two_largest_sizes() -> None:
    linear = benchlib.curve_exponents(_points([1.0, 10.0, 100.0]))
    assert benchlib.growth_line("time", linear, "time").endswith("target (≤ linear) met")
    # flat, then quadratic between the two largest: the verdict is missed
    late = benchlib.curve_exponents(_points([10.0, 10.0, 1000.0]))
    line = benchlib.growth_line("time", late, "time")
    assert "n^2.00 between the two largest sizes (n^1.00 over all sizes)" in line
    assert line.endswith("missed")


MACHINE = {
    "date": "2026-01-02",
    "cores": 2,
    "memory_mib": 24 * 1024,
    "python": "3.11.7",
    "versions": {"salesml": "0.1.0"},
}


def test_render_without_any_results_says_not_measured(tmp_path: Path) -> None:
    text = results_md.render(tmp_path)
    assert "## Cost curves" in text and "## Scoring throughput" in text
    assert text.count("Not measured yet (run `make bench`).") == 3  # peers, curves, scoring


def test_render_cost_curves_and_scoring(tmp_path: Path) -> None:
    scale = {
        "curves": {
            "forecast-spark": {"title": "Spark curve", "missing": "not in this build"},
            "leads": {
                "machine": MACHINE,
                "title": "Leads curve",
                "label": "Leads",
                "unit": "leads",
                "config": "experiments/lead_conversion/demo.yaml",
                "points": _points([5.0, 50.0, 5000.0], [100.0, 200.0, 400.0]),
            },
        }
    }
    paths = [
        {"path": "raw predict_proba", "rows": 1000, "seconds": 0.5},
        {"path": "salesml score --no-reasons", "rows": 1000, "seconds": 1.0},
        {"path": "salesml score, reasons", "rows": 1000, "seconds": 2.0, "range": [1.9, 2.4]},
        {
            "path": "salesml score --engine spark",
            "rows": 1000,
            "seconds": 10.0,
            "command_seconds": 8.0,
            "peak_mib": 900.0,
            "master": "local[2]",
        },
    ]
    scoring = {
        "machine": MACHINE,
        "model": "a model",
        "rows": 1000,
        "paths": paths,
        "overhead": {"no_reasons": 2.0, "reasons": 4.0, "reasons_over_floor": 1.6},
        "floor": {"path": "floor", "rows": 1000, "seconds": 1.25, "range": [1.2, 1.4]},
        "repeats": 3,
        "big_csv": {"path": "big", "rows": 5000, "seconds": 4.0, "peak_mib": 3000.0, "csv_gb": 1},
    }
    (tmp_path / "scale.json").write_text(json.dumps(scale), encoding="utf-8")
    (tmp_path / "scoring.json").write_text(json.dumps(scoring), encoding="utf-8")
    text = results_md.render(tmp_path)
    curves = text[text.index("## Cost curves") : text.index("## Scoring")]
    assert curves.index("### Leads curve") < curves.index("### Spark curve")  # fixed order
    assert "| 100,000 | 5000.0 | 400 | 400 | 0.5 |" in curves
    assert "Leads: time grows as n^2.00 between the two largest sizes" in curves
    assert "(n^1.50 over all sizes): target (≤ linear) missed" in curves
    assert "Leads: peak memory grows as n^0.30" in curves and "linear) met" in curves
    assert "Not measured: not in this build." in curves
    assert "Measured 2026-01-02 on 2 cores and 24 GiB" in curves
    score = text[text.index("## Scoring") :]
    assert "| salesml score --engine spark | 1,000 | 10.00 | - | 100 | 900 |" in score
    assert "| salesml score, reasons | 1,000 | 2.00 | 1.90-2.40 | 500 | - |" in score
    assert "median of 3 alternating rounds after a warm-up" in score
    assert "takes 1.25 s (range 1.20-1.40) (800 rows/s)" in score
    assert "takes 1.60x that (target <= 1.5x: **missed**)" in score
    assert "2.00x its time without reasons (target <= 1.5x: **missed**)" in score
    assert "On Spark (local[2]), the whole command scores 100 rows/s (8.0 s of its" in score
    assert "peak of 3,000 MiB (target < 2,048 MiB: **missed**)" in score


def test_a_child_of_a_large_process_is_measured_on_its_own() -> None:
    """wait4's ru_maxrss of a child includes its parent's size at the fork; VmHWM does not."""
    import numpy as np

    held = np.ones(400 * 2**20 // 8)  # 400 MiB resident in this process
    child = benchlib.run_child(
        [sys.executable, "-c", "b = bytearray(100 * 2**20); import time; time.sleep(0.6)"],
        env=benchlib.child_env(),
        interval=0.1,
    )
    assert child.returncode == 0 and held.sum() > 0
    assert 100 <= child.peak_mib < 300, child.peak_mib


def test_run_child_measures_the_child_and_kills_a_hang() -> None:
    grow = "b = bytearray(200 * 2**20); import time; time.sleep(0.5)"
    child = benchlib.run_child([sys.executable, "-c", grow], env=benchlib.child_env())
    assert child.returncode == 0 and child.killed is None
    assert child.peak_mib >= 200 and child.tree_peak_mib >= child.peak_mib
    hung = benchlib.run_child(["sleep", "30"], stall=1.0, interval=0.1)
    assert hung.killed == "stall" and hung.returncode != 0 and hung.seconds < 10
    slow = benchlib.run_child([sys.executable, "-c", "while True: pass"], timeout=1.0)
    assert slow.killed == "timeout" and slow.seconds < 10


def _classification_row(seconds: float, roc_auc: float) -> dict:
    return {
        "dataset": "Telco churn",
        "salesml": {
            "seconds": seconds,
            "existing_store_seconds": seconds - 2,
            "fit_seconds": 6.5,
            "champion": "lightgbm",
            "roc_auc": 0.85,
            "roc_auc_ci": [0.83, 0.87],
            "candidates": 5,
        },
        "pycaret": {
            "peer": "PyCaret 3.3.2",
            "seconds": 150.0,
            "best": "GradientBoostingClassifier",
            "roc_auc": roc_auc,
        },
    }


@pytest.mark.parametrize(
    ("seconds", "roc_auc", "verdict"),
    [(10.0, 0.84, "met"), (40.0, 0.84, "missed"), (10.0, 0.86, "missed")],
)
def test_classification_verdict_checks_speed_and_roc_auc(seconds, roc_auc, verdict) -> None:
    lines = results_md._classification([_classification_row(seconds, roc_auc)])
    line = next(x for x in lines if x.startswith("- Telco churn: salesml found"))
    assert f"{150.0 / seconds:.1f}x faster ({150.0 / (seconds - 2):.1f}x on a run into" in line
    assert f"at equal or better ROC-AUC: **{verdict}**." in line
    # a miss says where salesml's time went; a met target does not
    assert ("took 6.5 s of its" in line) == (verdict == "missed")
    assert f"| Telco churn | salesml | {seconds:.1f} ({seconds - 2:.1f}) | 0.8500" in "\n".join(
        lines
    )


def test_classification_verdict_gives_the_range_of_repeated_runs() -> None:
    row = _classification_row(20.0, 0.84)
    row["salesml"]["runs_seconds"] = [21.0, 20.0, 24.5]
    row["pycaret"]["runs_seconds"] = [150.0, 240.0, 120.0]
    line = results_md._classification([row])[-2]
    assert "Medians of 3 runs each: PyCaret took 120 to 240 s, salesml 20.0 to 24.5 s." in line


def test_classification_verdict_names_pycarets_slowest_model() -> None:
    row = _classification_row(10.0, 0.84)
    row["pycaret"].update(models=15, slowest={"LightGBM": 28.2, "Logistic Regression": 0.4})
    line = results_md._classification([row])[-2]
    assert line.endswith("PyCaret compared 15 models; the slowest, LightGBM, took 28.2 s per fold.")


@pytest.mark.parametrize(
    "script", sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py")), ids=str
)
def test_every_benchmark_script_imports(script: str) -> None:
    """A script that no longer imports (a helper it used was renamed) fails here, not on the
    day someone runs the benchmarks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"_bench_{script[:-3]}", ROOT / "benchmarks" / script
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # module level only: main() runs under __main__
    assert callable(getattr(module, "main", None)), f"{script} has no main()"


def test_the_competition_section_names_the_ensemble_members_and_the_peer() -> None:
    import bench_competition

    assert "Not measured yet" in "\n".join(bench_competition.render(None))
    cell = {"mase": 1.5, "smape": 19.1, "coverage_80": 0.8, "coverage_95": 0.95}
    payload = {
        "machine": {"date": "2026-12-05", "cores": 2},
        "datasets": [
            {
                "dataset": "tourism-monthly",
                "series": 366,
                "horizon": 24,
                "published": "best MASE 1.38",
                "salesml": {
                    "seconds": 120.0,
                    "champion": "ensemble",
                    "candidates": {
                        "auto_ets": {**cell, "ms_per_series": 220.0},
                        "ensemble": {
                            **cell,
                            "mase": 1.45,
                            "ms_per_series": 0.2,
                            "members": ["auto_ces", "auto_ets"],
                            "combine": "mean",
                        },
                    },
                },
                "statsforecast": {
                    "seconds": 33.7,
                    "models": {"AutoETS": {"mase": 1.531, "smape": 0.1909}},
                },
            }
        ],
    }
    text = "\n".join(bench_competition.render(payload))
    assert "| ensemble (mean of auto_ces, auto_ets) | 1.450 | 19.10 |" in text
    assert "| statsforecast AutoETS | 1.531 | 19.09 |" in text
    assert "Published: best MASE 1.38." in text and "| auto_ets | 1.500 |" in text


def _scale_payload(**figures: object) -> dict[str, object]:
    """A scale benchmark's figures as ``benchlib.scale_figures`` writes them."""
    base = {"machine": {"date": "2026-12-05"}, "customers": 100_000, "run_peak_mib": 1500}
    return {**base, "verdict": "model", **figures}


def test_the_customer_value_section_states_the_target_from_the_figures() -> None:
    import bench_lifecycle

    assert "Not measured yet" in "\n".join(bench_lifecycle.render(None))
    payload = _scale_payload(
        lines=1_360_000, run_seconds=80.0, score_seconds=30.0, score_peak_mib=900,
        total_seconds=110.0, champion="bgnbd_gamma_gamma",
    )  # fmt: skip
    text = "\n".join(bench_lifecycle.render(payload))
    assert "100,000 customers and 1,360,000 order lines" in text and ": met." in text
    slow = "\n".join(bench_lifecycle.render({**payload, "total_seconds": 130.0}))
    assert ": missed." in slow


def test_the_survival_section_states_the_target_from_the_figures() -> None:
    import bench_survival

    assert "Not measured yet" in "\n".join(bench_survival.render(None))
    payload = _scale_payload(
        run_seconds=70.0, score_seconds=20.0, score_peak_mib=2100, total_seconds=90.0,
        champion="cox",
    )  # fmt: skip
    text = "\n".join(bench_survival.render(payload))
    assert "100,000 synthetic SaaS customers" in text and ": missed." in text  # 2.1 GB
    fits = "\n".join(bench_survival.render({**payload, "score_peak_mib": 900}))
    assert ": met." in fits and "| **total** | **90.0** |" in fits


def test_render_short_series_shows_each_form_and_the_ladders_choice(tmp_path: Path) -> None:
    row = {
        "data": "walmart",
        "weeks": 90,
        "horizon": 8,
        "series": 45,
        "errors": {
            "non_seasonal": 1.953,
            "seasonal_difference": 0.739,
            "ladder": 0.991,
            "seasonal_naive": 0.876,
        },
        "ladder_forms": {"seasonal_difference": 31, "non_seasonal": 14},
        "seconds": 2.0,
    }
    (tmp_path / "short_series.json").write_text(json.dumps({"machine": MACHINE, "rows": [row]}))
    text = results_md.render(tmp_path)
    assert "## Forecasting: series with one to two seasons of history" in text
    assert (
        "| walmart (h=8) | 90 | 45 | 1.953 | 0.739 | 0.991 | 0.876 | "
        "14 non_seasonal, 31 seasonal_difference |" in text
    )


def _target_case(seconds: float) -> dict:
    return {
        "seconds": seconds,
        "peak_mib": 1500,
        "series": 3000,
        "champion": "ensemble",
        "candidates": {"ensemble": {"mase": 0.76}},
        "target_seconds": 600.0,
    }


def test_render_targets_dates_each_case_when_they_were_measured_apart(tmp_path: Path) -> None:
    payload = {
        "machine": {**MACHINE, "date": "2026-12-06"},
        "cases": {"3000": _target_case(171.4), "mixed": _target_case(251.6)},
        "dates": {"3000": "2026-11-24", "mixed": "2026-12-06"},
    }
    (tmp_path / "targets.json").write_text(json.dumps(payload))
    text = results_md.render(tmp_path)
    assert (
        "| 3,000 series x 143 weeks | 3000 | 171.4 | 1500 | ensemble 0.760 | < 10 min: met | 2026-11-24 |"
        in text
    )
    assert "| 251.6 |" in text and "| 2026-12-06 |" in text
    assert "Measured on 2 cores" in text and "Measured 2026-12-06 on" not in text
    # a file from before the per-case dates: every row carries the file's one date
    del payload["dates"]
    (tmp_path / "targets.json").write_text(json.dumps(payload))
    assert "Measured 2026-12-06 on 2 cores" in results_md.render(tmp_path)
