"""The ``salesml`` command line. Heavy libraries are imported inside commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from salesml import __version__
from salesml.cli.data import data_app
from salesml.cli.guard import (
    SEED_MAX,
    fail,
    free_port,
    in_range,
    input_path,
    main_guarded,
    output_file,
    output_folder,
    user_errors,
)
from salesml.cli.ranking import value_at_risk

app = typer.Typer(
    name="salesml",
    help="Predictive sales research: lead conversion, churn and sales forecasts "
    "against rule-based baselines, tracked in MLflow.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"salesml {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Predictive sales research."""


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", "-o", help="Default: reports/<name>/")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key: key.sub=value (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate config and data, print the plan, fit nothing."),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Track into OUTPUT_DIR/offline instead of the tracking store; "
            "`salesml sync OUTPUT_DIR` logs it there later.",
        ),
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(help="Forecasts: fit the candidates locally or on Spark (default: config)."),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Spark master URL; implies --engine spark "
            "(default: config, SALESML_SPARK_MASTER, local[*])."
        ),
    ] = None,
) -> None:
    """Run one experiment: data, split, baselines and models, evaluation, MLflow, summary."""

    if output_dir is not None:
        output_folder(output_dir, "--output-dir")
    with user_errors():
        from salesml.experiment.config import load_experiment
        from salesml.runner import dry_run as plan
        from salesml.runner import run_experiment

        overrides = [*(set_ or [])]
        overrides += _engine_overrides(config, overrides, engine, spark_master)
        cfg = load_experiment(config, overrides)
        if dry_run:
            plan(cfg)
            return
        summary = run_experiment(cfg, output_dir=output_dir, offline=offline)
    if summary.failed:
        fail(f"candidate(s) failed: {', '.join(summary.failed)}; see summary.json", code=1)


def _engine_overrides(
    config: Path, overrides: list[str], engine: str | None, master: str | None
) -> list[str]:
    """``--engine``/``--spark-master`` as config overrides; refused where they mean nothing."""
    import json

    from salesml.errors import ConfigError
    from salesml.experiment.config import load_experiment

    if engine is not None and engine not in ("local", "spark"):
        raise ConfigError(f"--engine {engine!r}: choose local or spark")
    if master is not None and engine == "local":
        raise ConfigError(f"--spark-master {master!r} with --engine local: drop one of them")
    if master is not None:
        engine = "spark"  # naming a master asks for Spark
    cfg = load_experiment(config, overrides) if engine is not None else None
    if cfg is not None and "engine" not in type(cfg).model_fields:
        raise ConfigError(
            f"{config}: --engine and --spark-master apply to experiments whose task has an engine "
            f"setting; {cfg.task} models train in this process (score --engine spark scores on Spark)"
        )
    out = [] if engine is None else [f"engine={engine}"]
    return out + ([] if master is None else [f"spark.master={json.dumps(master)}"])


@app.command()
def sync(
    output_dir: Annotated[Path, typer.Argument(help="The output folder of a run --offline.")],
) -> None:
    """Log the runs of a `salesml run --offline` to the tracking store (MLFLOW_TRACKING_URI)."""
    from rich.console import Console
    from rich.markup import escape

    input_path(output_dir, "OUTPUT_DIR", folder=True)  # never created here
    with user_errors():
        from salesml.runtime.logfile import library_log
        from salesml.tracking import load_mlflow, sync_offline

        load_mlflow()
        with library_log(output_dir / "salesml.log", lazy=True):
            result = sync_offline(output_dir)
    console = Console()
    if result.already:
        console.print(
            f"{escape(str(output_dir))} was already synced to "
            f"{escape(result.tracking_uri)}; nothing to do",
            highlight=False,
        )
        return
    versions = ", ".join(f"{k} as version {v}" for k, v in result.versions.items()) or "none"
    console.print(
        f"synced {len(result.runs)} runs ({result.reused} already there) and "
        f"{len(result.models)} models of {escape(', '.join(result.experiments))} to "
        f"{escape(result.tracking_uri)}; registered: {escape(versions)}; "
        f"{escape(str(output_dir / 'summary.json'))} now points at them",
        highlight=False,
    )


@app.command()
def candidates(
    task: Annotated[
        str | None,
        typer.Option(help="A task name (default: every task); see the table's family column."),
    ] = None,
) -> None:
    """List every baseline and model a config can use, with its options."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from salesml.experiment.registry import candidate_table
    from salesml.experiment.tasks import task_names

    if task is not None and task not in task_names():
        fail(f"--task {task!r}: choose from {', '.join(task_names())}")
    table = Table(title=f"salesml candidates{f' for {task}' if task else ''}")
    for col in (rows := candidate_table(task))[0]:  # family, role, type, ..., tags, options
        table.add_column(col.replace("options", "options (params: and keys)"), overflow="fold")
    for row in rows:
        table.add_row(*(escape(v) for v in row.values()))
    Console(width=max(Console().width, 160)).print(table)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where to write the synthetic datasets.")] = Path(
        "data/synthetic"
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    experiments: Annotated[
        Path, typer.Option(help="Folder whose */demo.yaml (and real-data) configs are run.")
    ] = Path("experiments"),
    real: Annotated[
        bool, typer.Option("--real/--synthetic-only", help="Also run the real-data configs.")
    ] = True,
) -> None:
    """The whole story: data, every experiment and its HTML report, funnels, where to look."""
    from salesml.demo import DEMO_SIZES, run_demo

    in_range(seed, "--seed", 0, SEED_MAX)
    output_folder(out, "--out")
    input_path(experiments, "--experiments", folder=True)
    with user_errors():
        failed = run_demo(out=out, seed=seed, sizes=DEMO_SIZES, experiments=experiments, real=real)
    if failed:
        fail(f"demo experiment(s) with failures: {', '.join(failed)}", code=1)


@app.command()
def score(
    model: Annotated[str, typer.Option("--model", "-m", help="MLflow model URI or folder.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="Rows to score: .csv or .parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scores: .csv or .parquet.")],
    chunk_size: Annotated[int, typer.Option(help="Rows scored at a time.")] = 100_000,
    engine: Annotated[str, typer.Option(help="pandas (one process) or spark.")] = "pandas",
    spark_master: Annotated[
        str | None,
        typer.Option(help="Spark master URL (default: SALESML_SPARK_MASTER, else local[*])."),
    ] = None,
    id_: Annotated[
        list[str] | None,
        typer.Option("--id", help="Id column(s) to carry through (default: the training id)."),
    ] = None,
    h: Annotated[
        int | None,
        typer.Option("--h", help="Forecasts: steps (default: all); customer value: days."),
    ] = None,
    reasons: Annotated[
        bool, typer.Option("--reasons/--no-reasons", help="Classifiers: reason_1..3.")
    ] = True,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Pipeline models: the forecast's day (YYYY-MM-DD)."),
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Pipeline models: month or quarter.")
    ] = None,
) -> None:
    """Score a file with an exported model: scores, tiers and reasons, or forecasts."""
    from salesml.runtime.logfile import library_log
    from salesml.tracking import load_mlflow

    if engine not in ("pandas", "spark"):
        fail(f"--engine {engine!r}: choose pandas or spark")
    in_range(chunk_size, "--chunk-size", 1)
    in_range(h, "--h", 1)
    for column in id_ or []:
        if not column.strip():
            fail(f"--id {column!r}: name a column of {input}")
    input_path(input, "--input")
    output_file(output, "--output")
    load_mlflow()
    with user_errors(), library_log(output.parent / f".{output.name}.salesml.log", lazy=True):
        report = _score(
            model, input, output, chunk_size, engine, spark_master, id_, h, reasons, as_of, period
        )
    typer.echo(
        f"scored {report.rows:,} rows ({report.kind}) in {report.seconds:.1f} s -> {report.output}"
    )


def _score(
    model: str,
    input: Path,
    output: Path,
    chunk_size: int,
    engine: str,
    spark_master: str | None,
    id_: list[str] | None,
    h: int | None,
    reasons: bool,
    as_of: str | None = None,
    period: str | None = None,
) -> Any:
    if engine == "spark":
        from salesml.scoring.spark import score_file_spark

        return score_file_spark(model, input, output, id_ or None, reasons, spark_master)
    from salesml.scoring.batch import score_file

    return score_file(
        model, input, output, chunk_size, id_ or None, reasons, h, as_of=as_of, period=period
    )


@app.command()
def serve(
    model: Annotated[str, typer.Option("--model", "-m", help="MLflow model URI or folder.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
) -> None:
    """Serve a model over REST (MLflow's scoring server): POST /invocations, GET /ping."""
    from salesml.runtime.logfile import own_warnings_on_screen
    from salesml.tracking import serve_model

    in_range(port, "--port", 1, 65535)
    free_port(host, port)
    typer.echo(f"serving {model} on http://{host}:{port}/invocations (Ctrl-C stops)")
    with user_errors(), own_warnings_on_screen():
        serve_model(model, host, port)


@app.command()
def export(
    model: Annotated[str, typer.Option("--model", "-m", help="MLflow model URI or folder.")],
    to: Annotated[Path, typer.Option("--to", help="New folder: model/, requirements.txt, card.")],
) -> None:
    """Export a model as a self-contained folder with pinned requirements and MODEL_CARD.md."""
    from salesml.scoring.card import export_model

    output_folder(to, "--to", empty=True)
    with user_errors():
        folder = export_model(model, to)
    typer.echo(f"exported {model} to {folder} (model/, requirements.txt, MODEL_CARD.md)")


@app.command()
def funnel(
    source: Annotated[
        Path, typer.Argument(help="Funnel YAML config, or an opportunities CSV/Parquet.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Default: reports/funnel-<name>/")
    ] = None,
) -> None:
    """Sales-funnel analytics: stage conversion, cycle length, win rate, speed to lead, velocity."""
    from salesml.funnel.run import run_funnel

    input_path(source, "SOURCE")
    if out is not None:
        output_folder(out, "--out")
    with user_errors():
        result = run_funnel(source, out)
    typer.echo(f"tables and figure: {result.folder} ({result.figure.name})")


@app.command()
def report(
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="MLflow experiment name.")],
    run: Annotated[
        str | None, typer.Option("--run", help="Parent run id (default: the latest).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Default: reports/<experiment>.html")
    ] = None,
) -> None:
    """Write one self-contained HTML report of an experiment, from MLflow."""
    from salesml.io.paths import safe_name
    from salesml.report.build import write_report
    from salesml.runtime.logfile import library_log
    from salesml.tracking import load_mlflow

    load_mlflow()
    target = out or Path("reports") / f"{safe_name(experiment)}.html"
    output_file(target, "--out")
    with user_errors(), library_log(target.parent / f".{target.name}.salesml.log", lazy=True):
        path = write_report(experiment, run, target)
    typer.echo(f"report: {path}")


app.command("value-at-risk")(value_at_risk)


def main() -> None:
    """Entry point of the ``salesml`` script."""
    main_guarded(lambda: app(prog_name="salesml"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
