"""``salesml value-at-risk``: rank customers by chance of leaving times value, from two score files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salesml.cli.guard import input_path, output_file, user_errors


def value_at_risk(
    risk: Annotated[Path, typer.Option("--risk", help="Scores with a chance of leaving.")],
    risk_column: Annotated[
        str, typer.Option(help="Its probability column, e.g. p_leave_6 or a churn score.")
    ],
    value: Annotated[
        Path, typer.Option("--value", help="Scores or data with a value per customer.")
    ],
    value_column: Annotated[
        str, typer.Option(help="Its value column, e.g. expected_value or yearly revenue.")
    ],
    id_: Annotated[str, typer.Option("--id", help="The customer id column of both files.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Ranking: .csv or .parquet.")],
    value_id: Annotated[
        str | None, typer.Option(help="The value file's id column, if named differently.")
    ] = None,
) -> None:
    """Rank customers by value at risk: chance of leaving times what they are worth."""
    from salesml.lifecycle.value_at_risk import rank_files

    input_path(risk, "--risk")
    input_path(value, "--value")
    output_file(output, "--output")
    with user_errors():
        result = rank_files(risk, risk_column, value, value_column, id_, output, value_id)
    typer.echo(
        f"ranked {result.customers:,} customers by value at risk ({result.total:,.2f} in all); "
        f"the top 10 % hold {result.top_decile_share:.1%} of it -> {result.output}"
    )
    if result.unmatched or result.unscored:
        typer.echo(
            f"left out: {result.unmatched:,} customer(s) in one file only, "
            f"{result.unscored:,} with a blank chance or value (customers already gone)"
        )
