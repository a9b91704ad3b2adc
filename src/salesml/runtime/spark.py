"""One Spark session for every engine that runs on Spark (scoring and forecasting).

Neutral ground: :mod:`salesml.scoring.spark` and :mod:`salesml.forecast.spark`
both start their session here, so neither wing imports the other.

The master is, in this order: the ``master`` argument (``--spark-master``, or
``spark.master`` in a forecast config), the environment variable
``SALESML_SPARK_MASTER``, else Spark's own default: the ``--master`` of
``spark-submit``, or ``local[*]`` (every core of this machine). Spark's Python
workers run this interpreter (``PYSPARK_PYTHON``, unless set already), so they
have salesml and its libraries; on a cluster that interpreter must exist at
the same path on every node. pyspark is imported only when a session starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from salesml.errors import EngineError

MASTER_ENV = "SALESML_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")

_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    # a driver JVM started here logs errors only (Spark's default prints its start-up
    # warnings on the screen); ignored by a driver that runs already (spark-submit)
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
}
# A local master's driver JVM is the whole cluster: it holds the data sent from
# pandas and every result. Spark's default heap (1 GiB) runs out at about a million
# rows (10,000 weekly series), and a JVM left running after an OutOfMemoryError
# answers nothing more: the run would hang. So a local driver gets a quarter of
# this machine's memory (1 to 32 GiB) and exits on its first OutOfMemoryError,
# which fails the run with a message instead.
LOCAL_MEMORY_SHARE = 0.25
DRIVER_LOST_HINT = (
    "Spark's driver JVM exited (out of memory?): raise spark.driver.memory "
    "(forecast config: spark.conf) or run on a cluster"
)
_lost: list[str] = []  # the driver JVMs found gone in this process (see driver_lost)


def local_driver_memory() -> str:
    """The ``spark.driver.memory`` of a local master: a quarter of the machine, 1-32 GiB."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    mib = int(total * LOCAL_MEMORY_SHARE / 2**20)
    return f"{min(max(mib, 1024), 32 * 1024)}m"


def session_defaults(master: str | None) -> dict[str, str]:
    """salesml's Spark settings for ``master`` (None: Spark's default, ``local[*]``).

    A cluster master gets the settings of :data:`_DEFAULTS`; a local one also the
    driver memory of :func:`local_driver_memory` and ``-XX:+ExitOnOutOfMemoryError``.
    Both are launch options: a driver that runs already (``spark-submit``) ignores them.
    """
    if not (master or DEFAULT_MASTER).startswith("local"):
        return dict(_DEFAULTS)
    java = f"{_DEFAULTS['spark.driver.extraJavaOptions']} -XX:+ExitOnOutOfMemoryError"
    return {
        **_DEFAULTS,
        "spark.driver.memory": local_driver_memory(),
        "spark.driver.extraJavaOptions": java,
    }


def resolve_master(master: str | None = None) -> str | None:
    """The master a session will use: ``master``, else ``SALESML_SPARK_MASTER``, else None.

    None leaves the choice to Spark: ``spark-submit --master``, else ``local[*]``.
    """
    return master or os.environ.get(MASTER_ENV) or None


def spark_session(
    master: str | None = None,
    conf: Mapping[str, Any] | None = None,
    app_name: str = "salesml",
) -> Any:
    """A Spark session whose Python workers run this interpreter.

    Parameters
    ----------
    master : str, optional
        Master URL (``local[2]``, ``spark://host:7077``); see :func:`resolve_master`.
    conf : mapping, optional
        Extra Spark settings; they override salesml's defaults (no UI, Arrow on,
        session time zone UTC, which keeps naive timestamps unchanged both ways,
        driver logging: errors only; for a local master a quarter of the machine's
        memory for the driver, which exits on running out; see :func:`session_defaults`).
    app_name : str
        Shown in the Spark UI of a cluster.

    Raises
    ------
    EngineError
        When pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("--engine spark needs pyspark: pip install 'salesml[spark]'") from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    chosen = resolve_master(master)
    if chosen:
        builder = builder.master(chosen)
    for key, value in {**session_defaults(chosen), **dict(conf or {})}.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def discard_dead_session() -> bool:
    """Forget a Spark session whose driver JVM is gone; return whether there was one.

    A JVM that exited (``-XX:+ExitOnOutOfMemoryError``, killed) leaves pyspark's
    active context pointing at it, and every later call that looks for an active
    session - MLflow does, when it starts or ends a run - fails with a refused
    connection instead of the error that matters. Forgetting it (what ``stop()``
    would clear, were the JVM there to answer) lets those calls work again. Without
    pyspark loaded there was never a driver: False, at no cost.
    """
    if "pyspark" not in sys.modules:
        return False
    from py4j.protocol import Py4JError
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    sc = SparkContext._active_spark_context
    if sc is None:
        return False
    try:
        sc._jsc.sc().isStopped()
        return False
    except (Py4JError, OSError, AttributeError):  # the JVM does not answer: it is gone
        pass
    # What SparkContext.stop() and SparkSession.stop() clear, without their calls to
    # the JVM (stop() raises on a refused connection before it clears anything).
    server = getattr(sc, "_accumulatorServer", None)
    if server is not None:
        server.shutdown()
        sc._accumulatorServer = None
    with SparkContext._lock:
        SparkContext._active_spark_context = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None
    _lost.append("driver")
    return True


def driver_lost() -> bool:
    """Whether a Spark driver JVM this process used has gone (and was discarded).

    Checks the active session first (:func:`discard_dead_session`).
    """
    return discard_dead_session() or bool(_lost)
