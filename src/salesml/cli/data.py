"""``salesml data``: generate synthetic CRM data and inspect a file as salesml reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesml.cli.guard import SEED_MAX, fail, in_range, input_path, output_file, user_errors

data_app = typer.Typer(help="Generate and inspect data.", no_args_is_help=True)


@data_app.command("generate")
def data_generate(
    kind: Annotated[
        str,
        typer.Argument(
            help="leads, customers, sales, opportunities, weekly_sales, pipeline, pipeline_history or transactions."
        ),
    ],
    rows: Annotated[int, typer.Option(help="Rows (for sales: number of series).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Output file, .csv or .parquet.")] = Path(
        "data/synthetic/out.csv"
    ),
) -> None:
    """Generate a deterministic synthetic CRM dataset."""
    from salesml.io.data import write_frame
    from salesml.synthetic import generate

    in_range(rows, "--rows", 1)
    in_range(seed, "--seed", 0, SEED_MAX)
    output_file(out, "--out")
    try:
        frame = generate(kind, rows, seed)
        write_frame(frame, out)
    except ValueError as exc:  # SalesmlError is one; generate() names the valid kinds
        fail(str(exc))
    typer.echo(f"wrote {len(frame):,} rows x {frame.shape[1]} columns of {kind} to {out}")


@data_app.command("inspect")
def data_inspect(
    path: Annotated[Path, typer.Argument(help="A .csv or .parquet file.")],
    date_format: Annotated[str | None, typer.Option(help="strftime format of dates.")] = None,
) -> None:
    """Print a file's inferred schema (column kinds, missing share, distinct values)."""
    from salesml.io.data import load_table

    input_path(path, "PATH")
    with user_errors():
        table = load_table(path, date_format=date_format)
    typer.echo(f"{path}: {table.rows:,} rows, sha256 {table.sha256[:12]}")
    if table.dialect is not None:
        typer.echo(f"read with {table.dialect.describe()}")
    typer.echo(str(table.schema))
