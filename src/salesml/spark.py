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
        driver logging: errors only).
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
    for key, value in {**_DEFAULTS, **dict(conf or {})}.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
