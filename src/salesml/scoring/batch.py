"""``salesml score``: a file of rows in, a file of scores out, in bounded memory.

CSV and Parquet are read in chunks (``chunk_size`` rows) and written as they
are scored to a temporary file beside ``output``, which is renamed into place
only when every row is done: after an error nothing is left at ``output``.
The input's id column(s) (the training config's ``data.id``, or ``id_columns``)
are carried through in front of the model's output columns.

How a model is fed depends on its kind, declared by its task
(:class:`~salesml.experiment.tasks.ScoringSpec`): row-wise models stream the
file in chunks, with the command's options they declare (``reasons``) passed
as MLflow params; models that answer for whole groups (one forecast per
series) get the whole file, first passed through their task's ``prepare``
with the command's options (``h``: fewer steps than the stored horizon).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from salesml.errors import DataError
from salesml.experiment.tasks import ScoringSpec, resolve, scoring_for
from salesml.scoring.inputs import ModelFacts, conform, model_facts

SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class ScoreReport:
    """What a scoring run did: rows in and out, the model's kind, the output file."""

    rows: int
    output: Path
    kind: str | None
    seconds: float


def _check_paths(input_path: Path, output_path: Path) -> None:
    if not input_path.is_file():
        what = "a folder, not a file" if input_path.is_dir() else "not found"
        raise DataError(f"{input_path}: input file {what}")
    for path, role in ((input_path, "input"), (output_path, "output")):
        if path.suffix.lower() not in SUFFIXES:
            raise DataError(
                f"{path}: unsupported {role} type {path.suffix!r}; use .csv or .parquet"
            )
    if input_path.resolve() == output_path.resolve():
        raise DataError(f"{output_path}: the output would overwrite the input")


def read_chunks(
    path: Path, columns: list[str], text_columns: list[str], chunk_size: int
) -> Iterator[tuple[pd.DataFrame, float]]:
    """Yield ``(chunk, fraction read)`` of ``columns`` (those present) from CSV or Parquet.

    A CSV's delimiter, decimal mark and encoding are sniffed as for training data.

    Raises
    ------
    DataError
        For an empty, binary or unparseable file, naming it.
    """
    if path.suffix.lower() == ".csv":
        yield from _csv_chunks(path, columns, text_columns, chunk_size)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    from salesml.io.columns import check_parquet

    try:
        pf = pq.ParquetFile(path)
        # text columns as dictionaries: a category's text is made once, not once a row
        schema = pf.schema_arrow
        words = [
            c
            for c in text_columns
            if c in schema.names
            and schema.get_field_index(c) >= 0
            and pa.types.is_string(schema.field(c).type)
        ]
        if words:
            pf = pq.ParquetFile(path, read_dictionary=words)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})"
        ) from exc
    check_parquet(path, columns)  # repeated or nested columns: refused, named
    use = [c for c in pf.schema_arrow.names if c in columns]
    total, done = max(pf.metadata.num_rows, 1), 0
    for batch in pf.iter_batches(batch_size=chunk_size, columns=use):
        frame = batch.to_pandas()
        done += len(frame)
        yield frame, done / total


def _csv_chunks(
    path: Path, columns: list[str], text_columns: list[str], chunk_size: int
) -> Iterator[tuple[pd.DataFrame, float]]:
    from salesml.io.columns import csv_header, refuse_duplicates
    from salesml.io.dialect import sniff_csv
    from salesml.io.filecheck import encoding_problem, scan_csv

    scan_csv(path)
    dialect = sniff_csv(path)
    opts = {"sep": dialect.sep, "decimal": dialect.decimal, "encoding": dialect.encoding}
    refuse_duplicates(csv_header(path, dialect.sep, dialect.encoding), str(path))
    try:
        header = pd.read_csv(path, nrows=0, **opts).columns
        use = [c for c in header if c in columns]
        dtype = {c: str for c in use if c in text_columns}
        size = max(path.stat().st_size, 1)
        with open(path, "rb") as fh:
            reader = pd.read_csv(
                fh, usecols=use, dtype=dtype, chunksize=chunk_size, keep_default_na=True, **opts
            )
            for chunk in reader:
                yield chunk, min(fh.tell() / size, 1.0)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except UnicodeDecodeError as exc:
        raise DataError(encoding_problem(path, dialect.encoding, False, setting=None)) from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot be parsed ({' '.join(str(exc).split())})") from exc


class AtomicWriter:
    """Append frames to a temporary CSV or Parquet file; :meth:`commit` renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        self.parquet = path.suffix.lower() != ".csv"
        self.writer: Any = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
        else:
            frame.to_csv(self.tmp, mode="a", header=self.rows == 0, index=False)
        self.rows += len(frame)

    def commit(self) -> Path:
        if self.writer is not None:
            self.writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _score_rows(
    model: Any,
    facts: ModelFacts,
    input_path: Path,
    writer: AtomicWriter,
    id_columns: list[str],
    chunk_size: int,
    params: dict[str, Any] | None,
    progress: Any,
) -> None:
    """Score ``input_path`` chunk by chunk, two chunks at a time.

    While one chunk is in the model's compiled code (LightGBM's trees, which run
    without Python's lock), the next one's Python work (coercion, reasons, the
    file) goes on beside it, so neither core waits. Chunks are written in file
    order, and the first bad chunk in file order is the error reported.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    from salesml.tracking.serving import conformed_predict

    predict = conformed_predict(model)
    where = str(input_path)

    def score(chunk: pd.DataFrame, offset: int) -> pd.DataFrame:
        X = conform(chunk, facts, where, offset)
        scores = pd.DataFrame(predict(X, params=params)).reset_index(drop=True)
        ids = chunk[[c for c in id_columns if c in chunk.columns]].reset_index(drop=True)
        return pd.concat([ids, scores], axis=1)

    texts = [c for c, kind in facts.inputs if kind == "string"]
    pending: deque[tuple[Future[pd.DataFrame], float, int]] = deque()

    def write_oldest() -> None:
        future, fraction, done = pending.popleft()
        writer.write(future.result())
        progress(fraction, done)

    offset = 0
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="salesml-score")
    try:
        for chunk, fraction in read_chunks(
            input_path, [*id_columns, *facts.columns], texts, chunk_size
        ):
            if chunk.empty:  # a Parquet file without rows still has a batch
                continue
            pending.append((pool.submit(score, chunk, offset), fraction, offset + len(chunk)))
            offset += len(chunk)
            if len(pending) == 2:
                write_oldest()
        while pending:
            write_oldest()
    finally:
        for future, _, _ in pending:
            future.cancel()
        pool.shutdown(wait=True)
    if offset == 0:
        raise DataError(f"{input_path}: the file has no data rows to score")


def _whole(
    model: Any,
    facts: ModelFacts,
    how: ScoringSpec,
    input_path: Path,
    writer: AtomicWriter,
    options: dict[str, Any],
) -> None:
    """Score the whole file at once, after the kind's ``prepare`` step."""
    from salesml.io.data import read_frame

    frame = read_frame(input_path)
    where = str(input_path)
    if how.prepare is not None:
        frame = resolve(how.prepare)(frame, facts.card, facts.columns, options, facts.uri)
    X = conform(frame, facts, where)
    params = {k: options[k] for k in how.params if options.get(k) is not None} or None
    try:
        out = model.predict(X, params=params) if params else model.predict(X)
    except ValueError as exc:  # the pyfunc names unknown series and bad horizons
        raise DataError(f"{where}: model {facts.uri} cannot score these rows: {exc}") from exc
    writer.write(pd.DataFrame(out))


def _require_ids(path: Path, ids: list[str]) -> None:
    """``--id`` names columns of the input: a missing one is refused, not skipped."""
    if path.suffix.lower() == ".csv":
        from salesml.io.columns import csv_header
        from salesml.io.dialect import sniff_csv

        dialect = sniff_csv(path)
        header = csv_header(path, dialect.sep, dialect.encoding)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            header = pq.ParquetFile(path).schema_arrow.names
        except (pa.ArrowException, OSError):
            return  # read_chunks refuses the file with what pyarrow says
    missing = [c for c in ids if c not in header]
    if missing:
        raise DataError(
            f"{path}: --id {', '.join(map(repr, missing))}: no such column; the file has "
            f"{', '.join(map(str, header[:20]))}{' ...' if len(header) > 20 else ''}"
        )


def score_file(
    model_uri: str,
    input_path: str | Path,
    output_path: str | Path,
    chunk_size: int = 100_000,
    id_columns: list[str] | None = None,
    reasons: bool = True,
    h: int | None = None,
    tracking_uri: str | None = None,
    console: Any = None,
    as_of: str | None = None,
    period: str | None = None,
) -> ScoreReport:
    """Score a CSV or Parquet file with an exported model; write CSV or Parquet.

    Parameters
    ----------
    model_uri : str
        ``models:/<name>@champion``, ``runs:/<id>/model`` or a local model folder.
    chunk_size : int
        Rows read, scored and written at a time (bounds memory).
    id_columns : list of str, optional
        Carried through to the output; default the training config's ``data.id``.
    reasons : bool
        Classifiers: compute ``reason_1..3`` (the slower part).
    h : int, optional
        Forecasters: steps to forecast (default the stored horizon).
    as_of, period : str, optional
        Pipeline models: the forecast's day (default the day after the export's
        last record) and ``month`` or ``quarter`` (default the experiment's).

    Raises
    ------
    DataError
        For a missing or unreadable file, a column the model needs, a value
        that cannot be coerced, or a series the model never saw.
    """
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from salesml.tracking import load_model

    input_path, output_path = Path(input_path), Path(output_path)
    _check_paths(input_path, output_path)
    if id_columns:
        _require_ids(input_path, list(id_columns))
    if chunk_size < 1:
        raise DataError(f"--chunk-size must be at least 1, got {chunk_size}")
    started = time.perf_counter()
    model = load_model(model_uri, tracking_uri)
    facts = model_facts(model, model_uri)
    how = scoring_for(facts.kind)
    options = {"reasons": reasons, "h": h, "as_of": as_of, "period": period}
    params = {k: options[k] for k in how.params if options[k] is not None} or None
    ids = list(id_columns) if id_columns else facts.id_columns
    writer = AtomicWriter(output_path)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
    )
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task(f"scoring {input_path.name}", total=1.0, rows=0)
            if not how.streaming:
                _whole(model, facts, how, input_path, writer, options)
            else:
                _score_rows(
                    model,
                    facts,
                    input_path,
                    writer,
                    ids,
                    chunk_size,
                    params,
                    lambda frac, rows: bar.update(task, completed=frac, rows=rows),
                )
        path = writer.commit()
    except BaseException:
        writer.abort()
        raise
    return ScoreReport(writer.rows, path, facts.kind, time.perf_counter() - started)
