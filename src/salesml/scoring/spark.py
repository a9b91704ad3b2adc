"""``salesml score --engine spark``: the same model and columns, scored by Spark.

The model runs as ``mlflow.pyfunc.spark_udf`` inside Spark's Python workers
(``PYSPARK_PYTHON`` is set to this interpreter, so they have salesml and its
libraries). Input columns are read as text and cast to the model's schema the
way the pandas path coerces them, so both engines give the same scores. The
input can be a CSV or Parquet file or folder; an output named ``*.csv`` or
``*.parquet`` is written as one file (through a single partition), anything
else as a Spark folder of part files, which is what a cluster run wants:

    salesml score --engine spark --spark-master spark://host:7077 \\
        --model models:/leads@champion --input s3a://crm/leads/ --output s3a://crm/scores/

Needs ``pip install salesml[spark]`` and Java 17.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from salesml.errors import DataError
from salesml.experiment.tasks import scoring_for
from salesml.runtime.spark import spark_session
from salesml.scoring.batch import ScoreReport
from salesml.scoring.inputs import NUMERIC, model_facts

# pandas writes Parquet timestamps in nanoseconds, which Spark reads only as longs
_CONF = {"spark.sql.legacy.parquet.nanosAsLong": "true"}

_SPARK_TYPES = {
    "double": "double",
    "string": "string",
    "boolean": "boolean",
    "datetime": "timestamp",
}


def _read(spark: Any, path: str) -> Any:
    if path.lower().rstrip("/").endswith(".csv") or (
        Path(path).is_dir() and any(Path(path).glob("*.csv"))
    ):
        return spark.read.csv(path, header=True, inferSchema=False)
    return spark.read.parquet(path)


# MLflow column types as Spark SQL types, for the UDF's result struct
_SQL = {
    "double": "double",
    "float": "float",
    "long": "bigint",
    "integer": "int",
    "boolean": "boolean",
}


def _cast(df: Any, name: str, kind: str) -> Any:
    from pyspark.sql import functions as F

    col = F.col(f"`{name}`")
    if kind in NUMERIC:
        return col.cast("double").alias(name)
    if kind == "boolean":
        text = F.lower(F.trim(col.cast("string")))
        true = text.isin("true", "t", "yes", "y", "1", "1.0")
        false = text.isin("false", "f", "no", "n", "0", "0.0")
        return F.when(true, F.lit(True)).when(false, F.lit(False)).alias(name)
    if kind == "datetime":
        if dict(df.dtypes)[name] == "bigint":  # nanoseconds since the epoch (see spark_session)
            return F.timestamp_micros(F.floor(col / 1000)).alias(name)
        return F.to_timestamp(col).alias(name)
    if kind == "string":
        return col.cast("string").alias(name)
    return col.alias(name)  # "any": the model coerces it


def _refuse_bad_numbers(df: Any, facts: Any, ids: list[str], src: str) -> None:
    """Refuse text that is not a number, and non-finite numbers, in the numeric columns.

    One pass over the input (a ``limit(1)`` job), so the error names the column,
    the value and the row's id(s), as the pandas path does, rather than failing
    inside a Spark worker.

    Raises
    ------
    DataError
    """
    from functools import reduce

    from pyspark.sql import functions as F

    numeric = [n for n, k in facts.inputs if k in NUMERIC]
    if not numeric:
        return
    flags = []
    for name in numeric:
        raw = F.col(f"`{name}`")
        num = raw.cast("double")
        blank = raw.isNull() | (F.trim(raw.cast("string")) == "")
        infinite = num.isin(float("inf"), float("-inf"))
        flags.append(
            F.when(~blank & num.isNull(), "be numeric").when(infinite, "hold finite numbers")
        )
    marked = df.select(
        *[F.col(f"`{c}`") for c in dict.fromkeys([*ids, *numeric])],
        *[flag.alias(f"_salesml_bad_{i}") for i, flag in enumerate(flags)],
    )
    bad = reduce(
        lambda a, b: a | b, [F.col(f"_salesml_bad_{i}").isNotNull() for i in range(len(flags))]
    )
    row = marked.filter(bad).limit(1).collect()
    if not row:
        return
    found = row[0].asDict()
    i = next(i for i in range(len(numeric)) if found[f"_salesml_bad_{i}"] is not None)
    key = ", ".join(f"{c}={found[c]!r}" for c in ids) or "no id column"
    raise DataError(
        f"{src}: column {numeric[i]!r} must {found[f'_salesml_bad_{i}']} for model {facts.uri} "
        f"(got {found[numeric[i]]!r} in the row with {key})"
    )


def score_file_spark(
    model_uri: str,
    input_path: str | Path,
    output_path: str | Path,
    id_columns: list[str] | None = None,
    reasons: bool = True,
    master: str | None = None,
    tracking_uri: str | None = None,
) -> ScoreReport:
    """Score ``input_path`` with Spark; same output columns as :func:`~salesml.scoring.batch.score_file`."""
    from pyspark.sql import functions as F

    from salesml.tracking import load_model, spark_udf

    started = time.perf_counter()
    model = load_model(model_uri, tracking_uri)
    facts = model_facts(model, model_uri)
    how = scoring_for(facts.kind)
    if not how.streaming:
        raise DataError(
            f"model {model_uri}: --engine spark scores row-wise models; a {how.kind} model "
            "answers for whole groups of rows: score it with --engine pandas"
        )
    src, out = str(input_path), Path(output_path)
    if not Path(src).exists() and "://" not in src:
        raise DataError(f"{src}: input not found")
    spark = spark_session(master, _CONF, app_name="salesml-score")
    df = _read(spark, src)
    missing = [c for c in facts.columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{src}: column(s) {', '.join(map(repr, missing))} required by model {model_uri} "
            f"are missing; it needs {', '.join(facts.columns)}"
        )
    ids = [c for c in (id_columns or facts.id_columns) if c in df.columns]
    _refuse_bad_numbers(df, facts, ids, src)
    typed = df.select(*[F.col(f"`{c}`") for c in ids], *[_cast(df, n, k) for n, k in facts.inputs])
    result = ", ".join(
        f"{c} {_SQL.get(facts.output_types.get(c, ''), 'string')}" for c in facts.outputs
    )
    params = {p: v for p, v in {"reasons": reasons}.items() if p in how.params} or None
    udf = spark_udf(spark, model_uri, f"struct<{result}>", params, tracking_uri)
    inputs = F.struct(*[F.col(f"`{n}`") for n in facts.columns])
    final = typed.withColumn("_scores", udf(inputs)).select(
        *[F.col(f"`{c}`") for c in ids], "_scores.*"
    )
    rows = _write(final, out)
    return ScoreReport(rows, out, facts.kind, time.perf_counter() - started)


def _write(frame: Any, out: Path) -> int:
    """Write one CSV/Parquet file (by suffix) or a folder of parts; rename into place."""
    suffix = out.suffix.lower()
    single = suffix in (".csv", ".parquet", ".pq")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        target = Path(tmp) / "parts"
        writer = (frame.coalesce(1) if single else frame).write.mode("overwrite")
        if suffix == ".csv":
            writer.option("header", True).csv(str(target))
            rows = frame.sparkSession.read.option("header", True).csv(str(target)).count()
        else:
            writer.parquet(str(target))
            rows = frame.sparkSession.read.parquet(str(target)).count()
        if single:
            part = next(p for p in sorted(target.glob("part-*")) if p.stat().st_size > 0)
            os.replace(part, out)
        else:
            if out.exists():
                shutil.rmtree(out)
            os.replace(target, out)
    return int(rows)
