"""The shared Spark session's settings (salesml.runtime.spark): what a local driver gets."""

from __future__ import annotations

import os

import pytest

from salesml.runtime.spark import LOG_CONFIG, local_driver_memory, session_defaults


def test_a_local_driver_gets_a_quarter_of_the_machine_and_exits_on_running_out() -> None:
    total_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    memory = local_driver_memory()
    assert memory.endswith("m")
    assert int(memory[:-1]) == min(max(int(total_mib * 0.25), 1024), 32 * 1024)
    for master in ("local[2]", "local[*]", None):  # None: Spark's default, local[*]
        conf = session_defaults(master)
        assert conf["spark.driver.memory"] == memory
        java = conf["spark.driver.extraJavaOptions"].split()
        assert "-XX:+ExitOnOutOfMemoryError" in java
        assert f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}" in java


@pytest.mark.parametrize("master", ["spark://host:7077", "yarn", "k8s://https://host:443"])
def test_a_cluster_driver_keeps_spark_s_own_memory_and_oom_settings(master: str) -> None:
    conf = session_defaults(master)
    assert "spark.driver.memory" not in conf
    assert "ExitOnOutOfMemoryError" not in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_no_session_means_nothing_to_discard() -> None:
    pytest.importorskip("pyspark", reason="salesml[spark] is installed by make test")
    from pyspark import SparkContext

    from salesml.runtime.spark import discard_dead_session

    if SparkContext._active_spark_context is None:
        assert discard_dead_session() is False


DEAD_DRIVER = """
import os, signal, sys, time
from salesml.runtime.spark import driver_lost, spark_session
spark = spark_session("local[1]")
assert spark.range(3).count() == 3 and not driver_lost()
java = int(spark.sparkContext._gateway.proc.pid)
os.kill(java, signal.SIGKILL)  # as the JVM ends on -XX:+ExitOnOutOfMemoryError
os.waitpid(java, 0)
from pyspark.sql import SparkSession
assert driver_lost()
assert SparkSession.getActiveSession() is None  # MLflow asks this when a run starts or ends
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
client.create_experiment("after-the-driver-died")
print("ok")
"""


@pytest.mark.slow
def test_a_dead_driver_is_forgotten_so_mlflow_works_again(tmp_path) -> None:
    import subprocess
    import sys

    pytest.importorskip("pyspark", reason="salesml[spark] is installed by make test")
    env = {**os.environ, "SALESML_SPARK_MASTER": ""}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = subprocess.run(
        [sys.executable, "-c", DEAD_DRIVER, uri],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
