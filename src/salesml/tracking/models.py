"""Exported models in MLflow: load, serve, score on Spark, download, read cards and runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from salesml.experiment.card import ModelCard
from salesml.experiment.results import Summary, parse_summary
from salesml.tracking.store import (
    ROLE_TAG,
    _artifact_root,
    _one_line,
    resolve_tracking_uri,
)

STORE_SCHEMES = ("runs:/", "models:/", "mlflow-artifacts:/")


def in_tracking_store(model_uri: str, tracking_uri: str | None = None) -> bool:
    """Whether ``model_uri`` names a model of the tracking store.

    ``runs:/``, ``models:/`` and ``mlflow-artifacts:/`` URIs do; so does a local
    folder (or ``file:`` URI) inside the store's artifact root. Anything else (a
    folder elsewhere, ``s3://``, ``http://``) comes from outside.
    """
    if model_uri.startswith(STORE_SCHEMES):
        return True
    local = _local_path(model_uri)
    if local is None:
        return False
    root = _artifact_root(tracking_uri or resolve_tracking_uri())
    return local.resolve().is_relative_to(root.resolve())


def _local_path(model_uri: str) -> Path | None:
    """The folder a plain path or ``file:`` URI names; None for other schemes."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(model_uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if len(parsed.scheme) <= 1:  # a plain path (a Windows drive letter is one letter)
        return Path(model_uri)
    return None


def untrusted_model_message(model_uri: str) -> str:
    """The one-line warning given when a model is loaded from outside the tracking store."""
    return (
        f"model {model_uri} is loaded from outside the tracking store: MLflow models may "
        "contain pickles, which run code when loaded; load models only from sources you trust"
    )


def frame_schema(frame: Any) -> Any:
    """An explicit MLflow column schema of ``frame`` (integers stay integers, without the
    warning MLflow gives when it infers them)."""
    from mlflow.types.schema import ColSpec, Schema

    from salesml.io.schema import column_type

    return Schema([ColSpec(column_type(frame[c], "long"), str(c)) for c in frame.columns])


def load_model(model_uri: str, tracking_uri: str | None = None) -> Any:
    """Load an exported candidate (``summary.champion.model_uri``) as an MLflow pyfunc.

    Its ``predict`` takes the raw feature frame; classifiers return
    ``probability, score, tier, reason_1..3``, forecasters the point forecast and
    interval columns. A model from outside the tracking store (see
    :func:`in_tracking_store`) is loaded with an :class:`~salesml.errors.UntrustedModelWarning`:
    MLflow models may contain pickles (salesml's forecasters do).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from salesml.errors import DataError

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(tracking_uri or resolve_tracking_uri())
    local = _local_path(model_uri)
    missing = local is not None and not local.exists()  # nothing to warn about: an error follows
    if not missing and not in_tracking_store(model_uri, tracking_uri):
        import warnings

        from salesml.errors import UntrustedModelWarning

        warnings.warn(untrusted_model_message(model_uri), UntrustedModelWarning, stacklevel=2)
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except (MlflowException, OSError) as exc:
        raise DataError(f"model {model_uri}: cannot be loaded ({_one_line(exc)})") from exc


def serve_model(
    model_uri: str, host: str = "127.0.0.1", port: int = 5000, tracking_uri: str | None = None
) -> None:
    """Serve a model over REST with MLflow's scoring server until interrupted.

    ``POST /invocations`` takes ``{"dataframe_records": [...]}`` (or
    ``dataframe_split``, CSV) and returns ``{"predictions": [...]}``: for a
    classifier, probability, score, tier and reasons per row. ``GET /ping`` is
    the health check. Rows the model refuses (a missing column, a value that is
    not a number, ``Infinity``) are answered with HTTP 400 and
    ``{"error_code": ..., "message": ...}``: one paragraph naming the column,
    the value and its row, no stack trace (see :func:`salesml.tracking.serving.serving_app`).
    """
    import uvicorn

    from salesml.tracking.serving import serving_app

    model = load_model(model_uri, tracking_uri)
    uvicorn.run(serving_app(model, model_uri), host=host, port=port, log_level="warning")


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: str,
    params: dict[str, Any] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """The model as a Spark pandas UDF (``mlflow.pyfunc.spark_udf``, this Python's packages)."""
    import mlflow

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(tracking_uri or resolve_tracking_uri())
    return mlflow.pyfunc.spark_udf(
        spark, model_uri, result_type=result_type, env_manager="local", params=params
    )


def download_model(model_uri: str, folder: Path, tracking_uri: str | None = None) -> Path:
    """Copy an MLflow model (any URI) into ``folder``; return the folder holding ``MLmodel``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from salesml.errors import DataError

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(tracking_uri or resolve_tracking_uri())
    try:
        path = Path(
            mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(folder))
        )
    except (MlflowException, OSError) as exc:
        raise DataError(f"model {model_uri}: cannot be downloaded ({_one_line(exc)})") from exc
    if not (path / "MLmodel").exists():
        raise DataError(f"model {model_uri}: no MLmodel file there; is it an MLflow model?")
    return path


def _run_of(client: Any, experiment: str, experiment_id: str, run_id: str, shown: str) -> Any:
    """Run ``run_id``, refused unless it is a salesml experiment run of ``experiment``."""
    from mlflow.exceptions import MlflowException

    from salesml.errors import DataError

    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise DataError(f"{shown}: --run {run_id}: no such run (not found)") from None
    if run.info.experiment_id != experiment_id:
        other = client.get_experiment(run.info.experiment_id).name
        raise DataError(
            f"{shown}: --run {run_id} is a run of experiment {other!r}, not of {experiment!r}; "
            f"use --experiment {other!r} or a run id of {experiment!r}"
        )
    if run.data.tags.get(ROLE_TAG) != "experiment":
        parent = run.data.tags.get("mlflow.parentRunId")
        hint = f"; its experiment run is {parent}" if parent else ""
        raise DataError(f"{shown}: --run {run_id} is a candidate's run, not a salesml run{hint}")
    if run.info.status != "FINISHED":
        raise DataError(
            f"{shown}: --run {run_id} ended {run.info.status}, without a summary to report"
        )
    return run


def fetch_run(
    experiment: str, run_id: str | None = None, tracking_uri: str | None = None
) -> dict[str, Any]:
    """What a report needs from MLflow besides the predictions: summary, config, model cards.

    ``summary`` is a typed :class:`~salesml.experiment.results.Summary`; figures are
    drawn from the run's predictions (:func:`salesml.experiment.reopen.load_run`).

    ``run_id`` defaults to the experiment's latest finished salesml run.
    """
    import mlflow
    from mlflow import MlflowClient

    from salesml.errors import DataError
    from salesml.tracking.backends import open_store, redact_uri

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri or resolve_tracking_uri()
    open_store(uri)
    shown = redact_uri(uri)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        names = [e.name for e in client.search_experiments()][:10]
        raise DataError(
            f"{shown}: no experiment {experiment!r}; there are: {', '.join(names) or 'none'}"
        )
    if run_id is None:
        runs = client.search_runs(
            [exp.experiment_id],
            filter_string=f"tags.`{ROLE_TAG}` = 'experiment' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not runs:
            raise DataError(f"{shown}: experiment {experiment!r} has no finished salesml run")
        run_id = runs[0].info.run_id
    run = _run_of(client, experiment, exp.experiment_id, run_id, shown)
    summary = parse_summary(
        mlflow.artifacts.load_text(f"runs:/{run_id}/summary.json"), f"run {run_id}: summary.json"
    )
    import yaml

    config = yaml.safe_load(mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml"))

    out = {"summary": summary, "config": config, "run": run.info.run_id, "cards": {}}
    for cand in summary.candidates:
        if cand.status == "ok" and cand.model_uri:
            info = mlflow.models.get_model_info(cand.model_uri)
            out["cards"][cand.name] = ModelCard.from_metadata(info.metadata)
    return out


def model_card(model_dir: Path) -> ModelCard:
    """The card of the MLflow model in ``model_dir`` (empty for foreign models)."""
    from mlflow.models import Model

    return ModelCard.from_metadata(Model.load(str(model_dir / "MLmodel")).metadata)


def experiment_summary(model_dir: Path, tracking_uri: str | None = None) -> Summary | None:
    """The summary of the salesml run that logged the model in ``model_dir``, if any."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    run_id = Model.load(str(model_dir / "MLmodel")).run_id
    if not run_id:
        return None
    client = MlflowClient(tracking_uri or resolve_tracking_uri())
    try:
        parent = client.get_run(run_id).data.tags.get("mlflow.parentRunId", run_id)
        text = mlflow.artifacts.load_text(f"runs:/{parent}/summary.json")
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return None  # a run of another store, or not a salesml run: the card says so
    return parse_summary(text, f"run {parent}: summary.json")


def download_run_files(
    run_id: str,
    names: list[str],
    folder: Path,
    tracking_uri: str | None = None,
    *,
    missing_ok: bool = False,
) -> dict[str, Path]:
    """Download artifacts ``names`` (paths inside the run, e.g. ``summary.json``) of one run.

    Parameters
    ----------
    run_id : str
        The MLflow run (a salesml experiment's parent run keeps ``summary.json``
        and ``predictions.parquet`` at its artifact root).
    names : list of str
        Artifact paths relative to the run's artifact root.
    folder : Path
        Where the files are written (created if missing).
    tracking_uri : str, optional
        Default :func:`~salesml.tracking.store.resolve_tracking_uri`.
    missing_ok : bool
        True: a missing artifact is left out of the answer instead of refused.

    Returns
    -------
    dict of str to Path
        The local file of each name.

    Raises
    ------
    DataError
        One line naming the run id (and the store, password masked) for an
        unknown run, a missing artifact or a failed download.
    """
    from pathlib import PurePosixPath

    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from salesml.errors import DataError
    from salesml.tracking.backends import open_store, redact_uri

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri or resolve_tracking_uri()
    open_store(uri)
    shown = redact_uri(uri)
    client = MlflowClient(uri)
    try:
        client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise DataError(f"no MLflow run {run_id} in the tracking store {shown}") from exc
        raise DataError(
            f"MLflow run {run_id} ({shown}): cannot be read ({_one_line(exc)})"
        ) from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in names:
        parent = str(PurePosixPath(name).parent)
        try:
            listed = client.list_artifacts(run_id, None if parent == "." else parent)
            if not any(a.path == name and not a.is_dir for a in listed):
                if missing_ok:
                    continue
                raise DataError(f"MLflow run {run_id} ({shown}) has no artifact {name}")
            out[name] = Path(client.download_artifacts(run_id, name, str(folder)))
        except (MlflowException, OSError) as exc:
            raise DataError(
                f"MLflow run {run_id} ({shown}): {name} cannot be downloaded ({_one_line(exc)})"
            ) from exc
    return out
