"""A Spark standalone cluster on 127.0.0.1: a master and one-core workers, as child processes.

Not a benchmark itself. ``bench_scale.py --engine cluster`` runs the forecast curve on
it, and ``tests/test_spark_cluster.py`` runs ``salesml run`` and ``salesml score``
against it; both import this module (with ``benchmarks/`` on ``sys.path``), so the
cluster is started and stopped in one place.

The cluster uses Spark's own launch classes from the pyspark package
(``$SPARK_HOME/bin/spark-class org.apache.spark.deploy.master.Master`` and
``...deploy.worker.Worker``, ``SPARK_HOME`` being pyspark's folder) and needs Java 17.
Every process runs in a session of its own, logs to a file in the cluster's folder,
and is stopped by :meth:`StandaloneCluster.stop` (SIGTERM, then SIGKILL to its
process group, which holds the executors a worker started). Usage::

    with standalone_cluster(folder) as cluster:  # two workers, one core each
        ...  # salesml run CONFIG --engine spark --spark-master cluster.url
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
START_TIMEOUT = 120.0  # seconds for the master and every worker to come up
STOP_TIMEOUT = 20.0  # seconds a process gets after SIGTERM before SIGKILL
CLUSTER_DESCRIPTION = "standalone cluster on 127.0.0.1, 2 workers x 1 core"


class ClusterError(RuntimeError):
    """The cluster cannot start: no Java, no pyspark, or a process that failed or hung."""


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on at ``host`` now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def spark_home() -> Path:
    """pyspark's package folder, which holds ``bin/spark-class`` and Spark's jars.

    Raises
    ------
    ClusterError
        When pyspark is not installed, or Java is not found (``JAVA_HOME`` or ``java``).
    """
    try:
        import pyspark
    except ImportError as exc:
        raise ClusterError(
            "a Spark standalone cluster needs pyspark: pip install 'salesml[spark]'"
        ) from exc
    home = Path(pyspark.__file__).resolve().parent
    if not (home / "bin" / "spark-class").exists():
        raise ClusterError(f"{home}: pyspark has no bin/spark-class to start a cluster with")
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ClusterError(
            "a Spark standalone cluster needs Java 17: install it and put java on PATH "
            "or set JAVA_HOME" + (f" (JAVA_HOME={java_home} has no bin/java)" if java_home else "")
        )
    return home


@dataclass
class StandaloneCluster:
    """A running cluster: its master URL, web UI, folder and processes."""

    url: str
    webui: str
    folder: Path
    workers: int
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def status(self, timeout: float = 5.0) -> dict[str, Any]:
        """The master's state: ``/json/`` of its web UI (workers, apps)."""
        with urllib.request.urlopen(f"{self.webui}/json/", timeout=timeout) as answer:
            return json.loads(answer.read().decode("utf-8"))

    def completed_app(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        """The last completed application called ``name``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            apps = [a for a in self.status().get("completedapps", []) if a["name"] == name]
            if apps:
                return max(apps, key=lambda a: a["starttime"])
            if time.monotonic() > deadline:
                raise ClusterError(f"no completed application {name!r} on {self.url}")
            time.sleep(0.5)

    def finished_tasks(self, app_id: str) -> dict[str, int]:
        """Tasks each worker's executors finished for ``app_id`` (from their logs)."""
        counts = {}
        for i in range(self.workers):
            logs = (self.folder / f"worker-{i}" / app_id).glob("*/stderr")
            counts[f"worker-{i}"] = sum(
                p.read_text(errors="replace").count("Finished task") for p in logs
            )
        return counts

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of every process's log."""
        parts = []
        for name, _ in self.procs:
            text = (self.folder / f"{name}.log").read_text(errors="replace").splitlines()
            parts.append(f"--- {name}.log\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop every process (workers first): SIGTERM, wait, then SIGKILL its group."""
        for _, proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in reversed(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT)
            # the group also holds what the process started (a worker's executors)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.procs.clear()


def _launch(
    cluster: StandaloneCluster, name: str, args: list[str], env: dict[str, str], home: Path
) -> None:
    with open(cluster.folder / f"{name}.log", "wb") as log:
        proc = subprocess.Popen(
            [str(home / "bin" / "spark-class"), *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cluster.folder,
            start_new_session=True,
        )
    cluster.procs.append((name, proc))


def _wait(cluster: StandaloneCluster, ready: Any, what: str, timeout: float) -> dict[str, Any]:
    """Poll the master's JSON until ``ready(status)``; fail on a dead process or timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for name, proc in cluster.procs:
            if proc.poll() is not None:
                raise ClusterError(
                    f"Spark {name} exited (code {proc.returncode}) before {what}:\n"
                    + cluster.log_tail()
                )
        try:
            status = cluster.status(timeout=2.0)
        except (OSError, ValueError):  # not listening yet, or a half-written answer
            status = None
        if status is not None and ready(status):
            return status
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} took over {timeout:.0f} s:\n{cluster.log_tail()}")
        time.sleep(0.25)


def start_cluster(
    folder: Path,
    workers: int = 2,
    cores: int = 1,
    memory: str = "1g",
    timeout: float = START_TIMEOUT,
) -> StandaloneCluster:
    """Start a master and ``workers`` workers on 127.0.0.1; return once all registered.

    Parameters
    ----------
    folder : Path
        Logs (``master.log``, ``worker-0.log``, ...) and the workers' work folders
        (``worker-0/APP_ID/EXECUTOR/stderr``: the executors' logs).
    workers, cores, memory
        Number of workers, and the cores and memory each one offers.
    timeout : float
        Seconds for the master, then for all workers, to come up.

    Raises
    ------
    ClusterError
        When Java or pyspark is missing, or a process exits or does not come up in
        time (with the tail of each log); what had started is stopped first.
    """
    home = spark_home()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port, webui_port = free_port(), free_port()
    cluster = StandaloneCluster(
        f"spark://{HOST}:{port}", f"http://{HOST}:{webui_port}", folder, workers
    )
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOG_DIR": str(folder),
        "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable),
    }
    try:
        _launch(
            cluster,
            "master",
            [MASTER_CLASS, "--host", HOST, "--port", str(port), "--webui-port", str(webui_port)],
            env,
            home,
        )
        _wait(cluster, lambda s: s.get("status") == "ALIVE", "the master listened", timeout)
        for i in range(workers):
            work = folder / f"worker-{i}"
            args = [WORKER_CLASS, cluster.url, "--cores", str(cores), "--memory", memory]
            args += ["--host", HOST, "--webui-port", str(free_port()), "--work-dir", str(work)]
            _launch(cluster, f"worker-{i}", args, env, home)
        _wait(
            cluster,
            lambda s: s.get("aliveworkers", 0) >= workers,
            f"{workers} worker(s) registered with the master",
            timeout,
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def standalone_cluster(folder: Path, **kwargs: Any) -> Iterator[StandaloneCluster]:
    """:func:`start_cluster` as a context manager: the cluster stops on leaving, always."""
    cluster = start_cluster(folder, **kwargs)
    try:
        yield cluster
    finally:
        cluster.stop()
