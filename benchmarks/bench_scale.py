"""Cost curves: ``salesml run`` wall time and peak memory as the data grows.

- ``leads``: the lead-conversion demo config (``experiments/lead_conversion/demo.yaml``)
  on 10,000, 100,000 and 1,000,000 synthetic leads;
- ``forecast``: ``benchmarks/configs/scale_forecast.yaml`` on 100, 1,000 and 10,000
  synthetic weekly store x department series (143 weeks each, written by
  ``salesml data generate weekly_sales``; the default candidates), with the local engine or, with
  ``--engine spark``, Spark on 2 local workers (``local[2]``), or, with ``--engine cluster``,
  Spark on a standalone cluster started for the curve on 127.0.0.1: a master and two
  one-core workers (``benchmarks/spark_cluster.py``), ``--spark-master spark://...``.

Every size is measured in fresh child processes: first one writes the data (timed
apart, not part of the run), then ``python -m salesml run`` reads it into a new MLflow
store in a temporary folder. Wall time is the whole command, Python start-up included.
Peak memory is reported twice (see ``benchlib.ChildRun``): the largest sum of
proportional set sizes over the run and its worker processes (sampled every 0.2 s;
the exponent uses it), and the largest single process (its ``VmHWM``).
The growth exponent ``k`` of ``cost ~ n**k`` is fitted over all sizes and over the two
largest (a fixed start-up cost flattens the small sizes); the issue's target is
``k <= 1`` (no worse than linear). A run that uses no CPU for ``STALL`` seconds has
hung: it is killed, reported, and run again (``--retries``).

On the cluster the executors run in the workers' processes, not under the run: its
peak memory is sampled over every process this script started (the run, and the
master, workers and executors together; ``peak_mib``), the run alone is in
``run_peak_mib``. The cluster starts before the first size and is not timed.

Usage::

    python benchmarks/bench_scale.py                                  # both curves, local
    python benchmarks/bench_scale.py --curve forecast --engine spark  # forecast on Spark
    python benchmarks/bench_scale.py --curve forecast --engine cluster  # standalone cluster
    python benchmarks/bench_scale.py --quick                          # CI-sized
    python benchmarks/bench_scale.py --curve leads --sizes 10000,30000

Writes ``benchmarks/results/scale.json`` (each curve replaces only its own entry;
``benchmarks/results_md.py`` renders it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (  # noqa: E402
    ROOT,
    ChildRun,
    child_env,
    curve_exponents,
    growth_line,
    machine,
    run_child,
)
from spark_cluster import CLUSTER_DESCRIPTION, ClusterError, standalone_cluster  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "scale.json"
LEADS_CONFIG = ROOT / "experiments" / "lead_conversion" / "demo.yaml"
FORECAST_CONFIG = ROOT / "benchmarks" / "configs" / "scale_forecast.yaml"
SIZES = {"leads": (10_000, 100_000, 1_000_000), "forecast": (100, 1_000, 10_000)}
QUICK = {"leads": (5_000, 10_000, 20_000), "forecast": (50, 100, 200)}
SEED = 7
WEEKS = 143  # generate_weekly_sales' default: Walmart's history
SPARK_MASTER = "local[2]"
NOT_AVAILABLE = "engine spark: not available in this build"
STALL = 300  # seconds without CPU use in the whole process tree: the run hung


class ChildFailed(RuntimeError):
    """A measured child process failed, timed out or hung."""


def _generate(curve: str, n: int, folder: Path, timeout: float) -> tuple[Path, ChildRun]:
    """Write the data of one size in a child process; return its path and cost."""
    kind = "leads" if curve == "leads" else "weekly_sales"
    path = folder / f"{kind}.csv"
    cmd = ["data", "generate", kind, "--rows", str(n), "--seed", str(SEED), "--out", str(path)]
    child = run_child([sys.executable, "-m", "salesml", *cmd], timeout=timeout)
    if child.returncode != 0 or child.killed:
        what = (
            f"was killed ({child.killed})" if child.killed else f"failed (exit {child.returncode})"
        )
        raise ChildFailed(f"generating {n:,} {curve} rows {what}:\n{child.tail()}")
    return path, child


def spark_options(master: str = SPARK_MASTER) -> list[str] | None:
    """The ``salesml run`` options for Spark on ``master``; ``None`` if this build has none.

    ``--spark-master`` is passed where the CLI has it; ``SALESML_SPARK_MASTER`` is set
    either way (see :func:`_run`).
    """
    env = child_env(COLUMNS="200", TERM="dumb", NO_COLOR="1")
    child = run_child([sys.executable, "-m", "salesml", "run", "--help"], env=env, timeout=120)
    if child.returncode != 0:
        raise ChildFailed(f"salesml run --help failed (exit {child.returncode}):\n{child.tail()}")
    if "--engine" not in child.stdout:
        return None
    master_option = ["--spark-master", master] if "--spark-master" in child.stdout else []
    return ["--engine", "spark", *master_option]


def _run(
    curve: str,
    n: int,
    options: list[str],
    data: Path,
    folder: Path,
    timeout: float,
    master: str = SPARK_MASTER,
) -> ChildRun:
    """``salesml run`` of one size in a child process, into its own MLflow store."""
    folder.mkdir()
    config = LEADS_CONFIG if curve == "leads" else FORECAST_CONFIG
    cmd = [sys.executable, "-m", "salesml", "run", str(config), "-o", str(folder / "out")]
    cmd += ["--set", f"data.path={data}"]
    if curve == "leads":
        cmd += ["--set", f"data.generate.rows={n}"]
    extra = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "SALESML_ARTIFACT_ROOT": str(folder / "artifacts"),
    }
    if options:
        cmd += options
        extra["SALESML_SPARK_MASTER"] = master
    return run_child(cmd, env=child_env(**extra), cwd=folder, timeout=timeout, stall=STALL)


def _rejected_engine(child: ChildRun) -> bool:
    """The CLI does not know ``--engine`` (a build without the Spark forecast engine)."""
    return child.returncode == 2 and "No such option" in child.stderr and "--engine" in child.stderr


class _AllChildren(threading.Thread):
    """The peak sum of PSS (MiB) over every descendant of this process, every 0.2 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mib = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.done.is_set():
            total = 0.0
            for p in me.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += p.memory_full_info().pss
            self.peak_mib = max(self.peak_mib, total / 2**20)
            self.done.wait(0.2)


@contextlib.contextmanager
def _all_children_peak(on: bool) -> Iterator[_AllChildren | None]:
    if not on:
        yield None
        return
    watch = _AllChildren()
    watch.start()
    try:
        yield watch
    finally:
        watch.done.set()
        watch.join()


def measure_point(
    curve: str,
    n: int,
    options: list[str],
    timeout: float,
    retries: int = 1,
    master: str = SPARK_MASTER,
    cluster: bool = False,
) -> dict[str, Any] | None:
    """Generate and run one size; ``None`` when the CLI rejects the engine options.

    Parameters
    ----------
    curve : str
        ``"leads"`` or ``"forecast"``.
    n : int
        Leads or series.
    options : list of str
        Extra ``salesml run`` options (``--engine spark``), or none.
    timeout : float
        Seconds a run may take before it is killed.
    retries : int
        Runs started again after a hang (no CPU used for ``STALL`` seconds); each
        hang is printed and counted in the point's ``hung_runs``.
    master : str
        The Spark master of ``--engine spark`` runs.
    cluster : bool
        ``master`` is a cluster this script started: the peak memory is that of
        every process it started (the run and the cluster), the run's alone is
        ``run_peak_mib``.

    Returns
    -------
    dict or None
        The point: size, wall seconds, both peaks, generation seconds, data size.

    Raises
    ------
    ChildFailed
        When generating the data or the run fails, times out or hangs more than
        ``retries`` times (message with its stderr tail).
    """
    where = f"salesml run on {n:,} {curve} rows"
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{curve}-") as tmp:
        folder = Path(tmp)
        data, gen = _generate(curve, n, folder, timeout)
        for attempt in range(retries + 1):
            run_dir = folder / f"run{attempt}"
            with _all_children_peak(cluster) as everything:
                child = _run(curve, n, options, data, run_dir, timeout, master)
            if child.killed != "stall":
                break
            print(
                f"{where}: used no CPU for {STALL} s (hung), killed it and its workers"
                + ("; running it again" if attempt < retries else ""),
                flush=True,
            )
        if child.killed == "stall":
            raise ChildFailed(
                f"{where} hung {retries + 1} time(s). Its last lines:\n{child.tail()}"
            )
        if child.killed == "timeout":
            raise ChildFailed(
                f"{where} did not finish in {timeout:,.0f} s; killed it and its workers "
                f"(--timeout). Its last lines:\n{child.tail()}"
            )
        if options and _rejected_engine(child):
            return None
        if child.returncode != 0:
            raise ChildFailed(f"{where} failed (exit {child.returncode}):\n{child.tail()}")
        summary = json.loads((run_dir / "out" / "summary.json").read_text(encoding="utf-8"))
        data_mib = data.stat().st_size / 2**20
    peak = max(child.tree_peak_mib, everything.peak_mib if everything else 0.0)
    return {
        "size": n,
        "seconds": round(child.seconds, 2),
        "peak_mib": round(peak, 1),
        **({"run_peak_mib": round(child.tree_peak_mib, 1)} if everything else {}),
        "largest_process_mib": round(child.peak_mib, 1),
        "generate_seconds": round(gen.seconds, 2),
        "data_mib": round(data_mib, 1),
        "rows": summary["data"]["rows"],
        "candidates": len(summary["candidates"]),
        "champion": (summary["champion"] or {}).get("name"),
        "fit_seconds": {c["name"]: c.get("fit_seconds") for c in summary["candidates"]},
        "hung_runs": attempt,
    }


def _key(curve: str, engine: str) -> str:
    return "leads" if curve == "leads" else f"forecast-{engine}"


def _describe(curve: str, engine: str) -> dict[str, str]:
    if curve == "leads":
        return {
            "title": "Lead conversion: the demo config (2 baselines, a scorecard, "
            "logistic, LightGBM)",
            "config": str(LEADS_CONFIG.relative_to(ROOT)),
            "unit": "leads",
            "label": "Leads",
            "engine": "local",
        }
    where = {"spark": f"Spark {SPARK_MASTER}", "cluster": f"Spark {CLUSTER_DESCRIPTION}"}.get(
        engine, "local engine"
    )
    return {
        "title": f"Forecasting: weekly series of {WEEKS} weeks, {where}",
        "config": str(FORECAST_CONFIG.relative_to(ROOT)),
        "unit": "series",
        "label": f"Weekly series ({where})",
        "engine": engine,
    }


def measure_curve(
    curve: str, sizes: list[int], engine: str, timeout: float, retries: int = 1
) -> dict[str, Any]:
    """Measure every size of one curve, printing one line per size.

    Returns
    -------
    dict
        The curve's entry in ``scale.json``: machine, description and points, or
        ``missing`` when the engine is not in this build.
    """
    entry: dict[str, Any] = {
        "machine": machine(("pyspark",)),
        **_describe(curve, engine),
        "points": [],
    }
    if engine == "cluster":
        with tempfile.TemporaryDirectory(prefix="bench-scale-cluster-") as tmp:
            try:
                with standalone_cluster(Path(tmp), workers=2, cores=1) as cluster:
                    print(f"cluster: {cluster.url}, 2 workers x 1 core", flush=True)
                    return _measure_sizes(
                        entry, curve, sizes, engine, timeout, retries, cluster.url, True
                    )
            except ClusterError as exc:
                raise ChildFailed(f"the Spark standalone cluster: {exc}") from exc
    return _measure_sizes(entry, curve, sizes, engine, timeout, retries, SPARK_MASTER, False)


def _measure_sizes(
    entry: dict[str, Any],
    curve: str,
    sizes: list[int],
    engine: str,
    timeout: float,
    retries: int,
    master: str,
    cluster: bool,
) -> dict[str, Any]:
    options = spark_options(master) if engine in ("spark", "cluster") else []
    for n in sizes:
        point = (
            None
            if options is None
            else measure_point(curve, n, options, timeout, retries, master, cluster)
        )
        if point is None:
            print(NOT_AVAILABLE)
            return {**entry, "missing": "`salesml run --engine spark` is not in this build"}
        entry["points"].append(point)
        print(
            f"{_key(curve, engine)}: {n:>10,} {entry['unit']}: run {point['seconds']:8.1f} s, "
            f"peak {point['peak_mib']:8,.0f} MiB (largest process "
            f"{point['largest_process_mib']:,.0f}"
            + (f"; the run alone {point['run_peak_mib']:,.0f}" if "run_peak_mib" in point else "")
            + f"); data written in "
            f"{point['generate_seconds']:.1f} s"
            + (f"; after {point['hung_runs']} hung run(s)" if point["hung_runs"] else ""),
            flush=True,
        )
    return entry


def table(curves: dict[str, dict[str, Any]]) -> str:
    """The measured curves as a plain-text table, then one line per exponent."""
    lines = [f"{'curve':<16} {'size':>10} {'wall s':>9} {'peak MiB':>9} {'largest':>9}"]
    verdicts = []
    for key, entry in curves.items():
        if "missing" in entry:
            lines.append(f"{key:<16} {entry['missing']}")
            continue
        for p in entry["points"]:
            lines.append(
                f"{key:<16} {p['size']:>10,} {p['seconds']:>9.1f} {p['peak_mib']:>9,.0f} "
                f"{p['largest_process_mib']:>9,.0f}"
            )
        exps = curve_exponents(entry["points"])
        verdicts += [
            f"{key}: {growth_line('time', exps, 'time')}",
            f"{key}: {growth_line('peak memory', exps, 'memory')}",
        ]
    return "\n".join([*lines, *verdicts])


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes: whole numbers, comma-separated: {exc}") from exc
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("--sizes: at least one size, each at least 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", choices=("leads", "forecast", "all"), default="all")
    parser.add_argument(
        "--engine",
        choices=("local", "spark", "cluster"),
        default="local",
        help=f"forecast curve only: spark runs `salesml run --engine spark` on {SPARK_MASTER}, "
        f"cluster on a standalone Spark cluster it starts ({CLUSTER_DESCRIPTION})",
    )
    parser.add_argument("--sizes", type=_sizes, help="comma-separated sizes (with one --curve)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument(
        "--timeout", type=float, default=7200, help="seconds one run may take (default 7200)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        help=f"runs started again after a hang (no CPU for {STALL} s; default 1)",
    )
    args = parser.parse_args(argv)
    if args.engine != "local" and args.curve == "leads":
        parser.error(f"--engine {args.engine}: the leads curve runs on the local engine only")
    curves = ["forecast"] if args.engine != "local" or args.curve == "forecast" else ["leads"]
    if args.curve == "all" and args.engine == "local":
        curves = ["leads", "forecast"]
    if args.sizes and len(curves) > 1:
        parser.error("--sizes needs --curve leads or --curve forecast")
    results: dict[str, Any] = {"curves": {}}
    if OUT.exists():  # keep the curves this run does not measure
        results = json.loads(OUT.read_text(encoding="utf-8"))
    measured: dict[str, dict[str, Any]] = {}
    for curve in curves:
        sizes = args.sizes or list((QUICK if args.quick else SIZES)[curve])
        try:
            entry = measure_curve(curve, sizes, args.engine, args.timeout, args.retries)
        except ChildFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        measured[_key(curve, args.engine)] = entry
        results["curves"][_key(curve, args.engine)] = entry
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\n{table(measured)}\nwrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
