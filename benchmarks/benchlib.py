"""Helpers the benchmark scripts share: the machine's facts and a measured child process.

Not a benchmark itself. ``bench_scale.py``, ``bench_scoring.py`` and ``bench_peers.py``
import it (each runs with ``benchmarks/`` first on ``sys.path``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("salesml", "scikit-learn", "lightgbm", "statsforecast", "mlflow", "pandas")


def machine(extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The facts every figure is published with.

    Parameters
    ----------
    extra : tuple of str
        Further distributions whose versions matter (``"pyspark"``); one that is not
        installed is listed as ``"not installed"``.

    Returns
    -------
    dict
        ``date``, ``cores``, ``memory_mib``, ``python`` and ``versions``.
    """
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    versions = {}
    for lib in (*LIBRARIES, *extra):
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            versions[lib] = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "python": sys.version.split()[0],
        "versions": versions,
    }


def child_env(**extra: str) -> dict[str, str]:
    """This environment with this checkout's ``src`` first on ``PYTHONPATH``.

    A child ``python -m salesml`` then runs the code of this working tree, whatever
    copy of salesml the interpreter has installed.
    """
    env = {**os.environ, **extra}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


@dataclass
class ChildRun:
    """What one child process cost.

    ``peak_mib`` is the peak resident memory of the largest single process among the
    child and its descendants (a process pool's workers), not their sum: the kernel's
    high-water mark of each process (``VmHWM``), read every 0.2 s (``run_child``'s
    ``interval``), so a peak in a process's last 0.2 s can be missed. Not ``wait4``'s
    ``ru_maxrss``: a child started from a large process inherits that process's
    resident size at the fork, and a benchmark's own process holds the data (a
    ``salesml score`` of 5 M rows read 2,319 MiB that way, 1,041 MiB by ``VmHWM``).
    ``tree_peak_mib`` is the largest sum of proportional set sizes (PSS: a page shared
    by forked workers is divided among them, not counted once per process) over the
    child and all its descendants at once, sampled alike, and at least ``peak_mib``.
    """

    seconds: float
    peak_mib: float
    tree_peak_mib: float
    returncode: int
    stdout: str
    stderr: str
    killed: str | None = None  # "timeout" or "stall" when this module killed it

    def tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of the child's stderr (else stdout)."""
        text = self.stderr.strip() or self.stdout.strip()
        return "\n".join(text.splitlines()[-lines:])


def _high_water(pid: int) -> float:
    """The peak resident bytes of process ``pid`` since it started its program (``VmHWM``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024  # kB
    except OSError:  # gone
        pass
    return 0.0


def _tree(root: Any) -> tuple[float, float, float] | None:
    """PSS (bytes), CPU seconds and the largest ``VmHWM`` (bytes) of ``root`` and its
    descendants; None once it is gone."""
    import psutil

    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    pss = cpu = largest = 0.0
    for p in procs:
        try:
            pss += p.memory_full_info().pss
            t = p.cpu_times()
            cpu += t.user + t.system + t.children_user + t.children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        largest = max(largest, _high_water(p.pid))
    return pss, cpu, largest


class _Watch(threading.Thread):
    """Samples a child's process tree; kills its process group on timeout or stall."""

    def __init__(self, pid: int, interval: float, timeout: float | None, stall: float | None):
        super().__init__(daemon=True)
        self.pid, self.interval, self.timeout, self.stall = pid, interval, timeout, stall
        self.peak_mib = 0.0
        self.largest_mib = 0.0
        self.killed: str | None = None  # "timeout" or "stall"
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        started = busy = time.monotonic()
        cpu = 0.0
        while not self.done.is_set():
            sample = _tree(root)
            if sample is None:
                return
            now = time.monotonic()
            self.peak_mib = max(self.peak_mib, sample[0] / 2**20)
            self.largest_mib = max(self.largest_mib, sample[2] / 2**20)
            if sample[1] > cpu + 0.05:
                cpu, busy = sample[1], now
            if self.timeout is not None and now - started > self.timeout:
                self.killed = "timeout"
            elif self.stall is not None and now - busy > self.stall:
                self.killed = "stall"
            if self.killed:
                kill_group(self.pid)
                return
            self.done.wait(self.interval)


def run_child(
    cmd: list[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.2,
    timeout: float | None = None,
    stall: float | None = None,
) -> ChildRun:
    """Run ``cmd`` to its end and measure its wall time and peak memory.

    The child runs in a session of its own; when it outlives ``timeout``, stops using
    the CPU for ``stall`` seconds (a hang), or this process is interrupted, its whole
    process group is killed.

    Parameters
    ----------
    cmd : list of str
        The command.
    env : dict, optional
        Its environment (default: :func:`child_env`).
    cwd : Path, optional
        Its working directory.
    interval : float
        Seconds between two samples of the process tree's memory and CPU time.
    timeout : float, optional
        Seconds after which the child is killed (``ChildRun.killed == "timeout"``).
    stall : float, optional
        Seconds without CPU progress in the whole tree after which the child is
        killed (``ChildRun.killed == "stall"``).

    Returns
    -------
    ChildRun
        Wall seconds, both peaks in MiB, exit code and captured output. A failed
        child is returned, not raised: the caller decides what its failure means.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env or child_env(), cwd=cwd, stdout=out, stderr=err, start_new_session=True
        )
        watch = _Watch(proc.pid, interval, timeout, stall)
        watch.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            kill_group(proc.pid)
            os.wait4(proc.pid, 0)
            raise
        finally:
            watch.done.set()
            watch.join()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # a child gone before its first sample: only wait4's figure is left (see ChildRun)
        largest = watch.largest_mib or usage.ru_maxrss / 1024  # Linux reports KiB
        return ChildRun(
            seconds=seconds,
            peak_mib=largest,
            tree_peak_mib=max(watch.peak_mib, largest),
            returncode=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
            killed=watch.killed,
        )


def kill_group(pgid: int) -> None:
    """Kill the process group of a child started in its own session (it and its workers)."""
    with contextlib.suppress(ProcessLookupError):  # already gone: nothing to kill
        os.killpg(pgid, signal.SIGKILL)


def growth_exponent(sizes: list[float], values: list[float]) -> float:
    """The exponent ``k`` of ``value ~ size**k``: least-squares slope of log(value) on log(size).

    Parameters
    ----------
    sizes : list of float
        The sizes measured (at least two distinct ones, all positive).
    values : list of float
        What each size cost (seconds, MiB), all positive.

    Returns
    -------
    float
        ``k``: 1 is linear growth, below 1 slower, above 1 faster.

    Raises
    ------
    ValueError
        With fewer than two distinct sizes, unequal lengths, or a value not above 0.
    """
    import numpy as np

    x, y = np.asarray(sizes, dtype=float), np.asarray(values, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{x.size} sizes but {y.size} values")
    if np.unique(x).size < 2:
        raise ValueError("a growth exponent needs at least two distinct sizes")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("sizes and values must be above 0 to take logarithms")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def curve_exponents(points: list[dict[str, Any]]) -> dict[str, float | None]:
    """Growth exponents of a cost curve's time and peak memory.

    Parameters
    ----------
    points : list of dict
        One per size: ``size``, ``seconds`` and ``peak_mib``.

    Returns
    -------
    dict
        ``time_all`` and ``memory_all`` (fitted over every size), ``time_top2`` and
        ``memory_top2`` (over the two largest sizes); ``None`` where fewer than two
        distinct sizes were measured.
    """
    ordered = sorted(points, key=lambda p: p["size"])
    out: dict[str, float | None] = {}
    for name, field in (("time", "seconds"), ("memory", "peak_mib")):
        for span, part in (("all", ordered), ("top2", ordered[-2:])):
            sizes = [p["size"] for p in part]
            enough = len(set(sizes)) >= 2
            out[f"{name}_{span}"] = (
                growth_exponent(sizes, [p[field] for p in part]) if enough else None
            )
    return out


def growth_line(
    what: str, exponents: dict[str, float | None], name: str, target: float = 1.0
) -> str:
    """One plain-words line: how ``what`` grows and whether the target is met.

    The verdict uses the exponent over the two largest sizes (where a fixed start-up
    cost weighs least); the fit over every size is given beside it.

    Parameters
    ----------
    what : str
        ``"time"`` or ``"peak memory"``.
    exponents : dict
        From :func:`curve_exponents`.
    name : str
        ``"time"`` or ``"memory"``: which exponents to read.
    target : float
        The largest exponent that meets the target (1: no worse than linear).

    Returns
    -------
    str
        For example ``"time grows as n^0.93 between the two largest sizes (n^0.61 over
        all sizes): target (≤ linear) met"``.
    """
    top, every = exponents.get(f"{name}_top2"), exponents.get(f"{name}_all")
    if top is None:
        return f"{what}: fewer than two sizes measured, no exponent"
    met = round(top, 2) <= target
    return (
        f"{what} grows as n^{top:.2f} between the two largest sizes (n^{every:.2f} over "
        f"all sizes): target (≤ linear) {'met' if met else 'missed'}"
    )


@dataclass
class ScaleRun:
    """One scale benchmark's three commands and the run's summary (see :func:`scale_run`)."""

    generate: ChildRun
    run: ChildRun
    score: ChildRun
    summary: dict[str, Any]
    data: Path


def require_ok(child: ChildRun, what: str) -> None:
    """Stop the benchmark when a command failed, with its output's tail."""
    if child.returncode != 0 or child.killed:
        raise SystemExit(
            f"{what} failed (exit {child.returncode}, {child.killed}):\n{child.tail()}"
        )


def scale_run(
    config: Path, kind: str, rows: int, folder: Path, name: str, scored: str | None = None
) -> ScaleRun:
    """``salesml data generate KIND``, then ``salesml run CONFIG`` on it, then ``salesml score``.

    Each a child process into ``folder`` (a temporary MLflow store there); ``scored``
    names the candidate whose exported model scores the file (default: the champion).
    """
    data = folder / name
    gen = run_child(
        [sys.executable, "-m", "salesml", "data", "generate", kind,
         "--rows", str(rows), "--seed", "0", "--out", str(data)],
        timeout=1800,
    )  # fmt: skip
    require_ok(gen, f"generating {kind}")
    env = child_env(
        MLFLOW_TRACKING_URI=f"sqlite:///{folder / 'mlflow.db'}",
        SALESML_ARTIFACT_ROOT=str(folder / "artifacts"),
    )
    run = run_child(
        [sys.executable, "-m", "salesml", "run", str(config), "-o", str(folder / "out"),
         "--set", f"data.path={data}", "--set", f"data.generate.rows={rows}"],
        env=env, cwd=folder, timeout=1800,
    )  # fmt: skip
    require_ok(run, "salesml run")
    summary = json.loads((folder / "out" / "summary.json").read_text())
    name_ = scored or summary["champion"]["name"]
    uri = next(c for c in summary["candidates"] if c["name"] == name_)["model_uri"]
    score = run_child(
        [sys.executable, "-m", "salesml", "score", "-m", uri, "-i", str(data),
         "-o", str(folder / "scored.csv")],
        env=env, cwd=folder, timeout=1800,
    )  # fmt: skip
    require_ok(score, "salesml score")
    return ScaleRun(gen, run, score, summary, data)


def scale_figures(done: ScaleRun) -> dict[str, Any]:
    """The figures every scale benchmark keeps: seconds and peaks, champion and metrics."""
    summary, champ = done.summary, done.summary["champion"]
    return {
        "machine": machine(),
        "customers": summary["data"]["rows"],
        "generate_seconds": round(done.generate.seconds, 1),
        "run_seconds": round(done.run.seconds, 1),
        "run_peak_mib": round(done.run.peak_mib),
        "run_tree_peak_mib": round(done.run.tree_peak_mib),
        "score_seconds": round(done.score.seconds, 1),
        "score_peak_mib": round(done.score.peak_mib),
        "total_seconds": round(done.run.seconds + done.score.seconds, 1),
        "champion": champ["name"],
        "verdict": champ.get("verdict"),
        "fit_seconds": {c["name"]: c["fit_seconds"] for c in summary["candidates"]},
        "metrics": {
            c["name"]: {k: v for k, v in c["metrics"].items() if not k.endswith("_ci")}
            for c in summary["candidates"]
        },
    }


def save_scale(result: dict[str, Any], path: Path, what: str | None = None) -> None:
    """Write a scale benchmark's figures to ``path`` and print them on one line
    (``what``: how much data, default the customers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    what = what or f"{result['customers']:,} customers"
    print(
        f"{what}: run {result['run_seconds']:.1f} s (peak {result['run_peak_mib']:,} MiB), "
        f"score {result['score_seconds']:.1f} s (peak {result['score_peak_mib']:,} MiB); "
        f"total {result['total_seconds']:.1f} s; champion {result['champion']} "
        f"({result['verdict']})"
    )


def scale_table(payload: dict[str, Any], run_step: str, score_step: str) -> list[str]:
    """A scale benchmark's table and verdict (target: under 2 minutes and 2 GB)."""
    target = (
        payload["total_seconds"] < 120
        and max(payload["run_peak_mib"], payload["score_peak_mib"]) < 2048
    )
    return [
        "| step | seconds | peak MiB (largest process) |",
        "|---|---:|---:|",
        f"| {run_step} | {payload['run_seconds']:.1f} | {payload['run_peak_mib']:,} |",
        f"| {score_step} | {payload['score_seconds']:.1f} | {payload['score_peak_mib']:,} |",
        f"| **total** | **{payload['total_seconds']:.1f}** | |",
        "",
        f"Target (under 2 minutes, under 2 GB): {'met' if target else 'missed'}. "
        f"Champion {payload['champion']} ({payload['verdict']}). Measured on "
        f"{payload['machine'].get('date', '?')}.",
        "",
    ]
