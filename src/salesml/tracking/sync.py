"""Offline runs: track into the output folder now, log to the real store later.

``salesml run --offline`` tracks into a sqlite store inside the run's output
folder (``<output>/offline/mlflow.db``, artifacts beside it), the same code path
as a normal run. ``salesml sync <output>`` copies everything to the configured
store: experiments, runs with their parents, params, metric histories, tags,
dataset inputs, artifacts and statuses, the logged models, the registered
champion with its alias; then it points ``summary.json`` at the copies.

A sync that stops halfway can be run again: each copied run and model carries
the id it had offline (``salesml.offline_id``), and copies already complete are
reused, not duplicated. A finished sync leaves ``offline/synced.json``.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from salesml.errors import DataError, TrackingError
from salesml.tracking.sync_checks import OFFLINE, artifacts_of, check_offline

ORIGIN_TAG = "salesml.offline_id"
_DONE_TAG = "salesml.offline_copied"
_PARENT = "mlflow.parentRunId"


def offline_store(output_dir: Path) -> tuple[str, Path]:
    """The sqlite tracking URI and artifact folder of an offline run into ``output_dir``."""
    folder = Path(output_dir).resolve() / OFFLINE
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}", folder / "mlruns"


@dataclass
class SyncResult:
    """What :func:`sync_offline` copied, old id to new id."""

    tracking_uri: str
    experiments: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    reused: int = 0
    already: bool = False


def sync_offline(output_dir: Path, tracking_uri: str | None = None) -> SyncResult:
    """Copy the offline runs of ``output_dir`` to ``tracking_uri`` (default: the configured store).

    Parameters
    ----------
    output_dir : Path
        The ``--output-dir`` of a ``salesml run --offline``.
    tracking_uri : str, optional
        Default: :func:`salesml.tracking.resolve_tracking_uri`.

    Returns
    -------
    SyncResult
        ``already`` is true (and nothing is copied) when the folder was synced before.

    Raises
    ------
    DataError
        When the folder holds no offline runs, or the target is the offline store itself.
    TrackingError
        When the target store cannot be reached, or a copy fails (run it again).
    """
    from mlflow import MlflowClient

    from salesml.tracking.backends import open_store, redact_uri
    from salesml.tracking.store import resolve_tracking_uri

    folder = Path(output_dir)
    db = folder / OFFLINE / "mlflow.db"
    if not db.is_file():
        raise DataError(
            f"{folder}: no offline runs to sync (no {db}); make them with "
            f"`salesml run CONFIG --offline -o {folder}`"
        )
    marker = folder / OFFLINE / "synced.json"
    target = tracking_uri or resolve_tracking_uri()
    if marker.is_file():
        return SyncResult(tracking_uri=_synced_before(marker), already=True)
    source_uri = f"sqlite:///{db.resolve()}"
    if target == source_uri:
        raise DataError(f"{folder}: the target tracking store is the offline store itself")
    from mlflow.exceptions import MlflowException

    check_offline(folder, db, source_uri)  # everything to copy is read first: nothing half-synced
    result = SyncResult(tracking_uri=redact_uri(target))
    open_store(target)  # unreachable or misconfigured: one clear error, nothing copied
    try:
        _copy_all(MlflowClient(source_uri), MlflowClient(target), folder, target, result)
    except MlflowException as exc:
        raise TrackingError(
            f"{folder}: sync to {result.tracking_uri} stopped: "
            f"{' '.join(str(exc.message).split())}; run `salesml sync {folder}` again when "
            "that is fixed (runs and models already copied are reused, not duplicated)"
        ) from exc
    from salesml.io.data import atomic_write

    record = {**asdict(result), "synced_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    text = json.dumps(record, indent=2) + "\n"
    atomic_write(marker, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return result


def _synced_before(marker: Path) -> str:
    """The store a finished sync went to, from its ``synced.json``."""
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
        return str(done["tracking_uri"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{marker}: not a record of a finished sync ({type(exc).__name__}); delete it to "
            "sync again (runs and models already copied are reused, not duplicated)"
        ) from None


def _copy_all(src: Any, dst: Any, folder: Path, target: str, result: SyncResult) -> None:
    from salesml.tracking.store import Tracker

    experiment_ids: dict[str, str] = {}
    for exp in src.search_experiments():
        runs = _all_runs(src, exp.experiment_id)
        if not runs:
            continue
        new_exp = Tracker(exp.name, target).experiment_id
        experiment_ids[exp.experiment_id] = new_exp
        result.experiments.append(exp.name)
        done = {
            r.data.tags[ORIGIN_TAG]: r for r in _all_runs(dst, new_exp) if ORIGIN_TAG in r.data.tags
        }
        for run in sorted(runs, key=lambda r: (_PARENT in r.data.tags, r.info.start_time)):
            _copy_run(src, dst, run, new_exp, done, result, folder)
        _copy_models(src, dst, exp.experiment_id, new_exp, result, folder)
    _copy_registry(src, dst, result)
    _rewrite_summary(folder, result, experiment_ids)


def _all_runs(client: Any, experiment_id: str) -> list[Any]:
    from mlflow.entities import ViewType

    runs, token = [], None
    while True:
        page = client.search_runs(
            [experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def _copy_run(
    src: Any,
    dst: Any,
    run: Any,
    experiment_id: str,
    done: dict[str, Any],
    result: SyncResult,
    folder: Path,
) -> None:
    old = run.info.run_id
    previous = done.get(old)
    if previous is not None and previous.data.tags.get(_DONE_TAG) == "true":
        result.runs[old] = previous.info.run_id
        result.reused += 1
        return
    if previous is not None:  # a copy cut short by an earlier sync: start it again
        dst.delete_run(previous.info.run_id)
    tags = {k: v for k, v in run.data.tags.items() if k != _DONE_TAG}
    if _PARENT in tags:
        tags[_PARENT] = result.runs[tags[_PARENT]]
    tags[ORIGIN_TAG] = old
    new = dst.create_run(
        experiment_id, start_time=run.info.start_time, tags=tags, run_name=run.info.run_name
    ).info.run_id
    from mlflow.entities import Param

    params = [Param(k, v) for k, v in run.data.params.items()]
    metrics = [m for key in run.data.metrics for m in src.get_metric_history(old, key)]
    for i in range(0, max(len(params), len(metrics)), 100):
        dst.log_batch(new, metrics=metrics[i : i + 100], params=params[i : i + 100])
    if run.inputs and run.inputs.dataset_inputs:
        dst.log_inputs(new, datasets=run.inputs.dataset_inputs)
    files = artifacts_of(folder, run.info.artifact_uri)
    if files is not None and files.is_dir() and any(files.iterdir()):
        dst.log_artifacts(new, str(files))  # read where the offline folder is now
    dst.set_tag(new, _DONE_TAG, "true")
    dst.set_terminated(new, status=run.info.status, end_time=run.info.end_time)
    result.runs[old] = new


def _copy_models(
    src: Any, dst: Any, old_exp: str, new_exp: str, result: SyncResult, folder: Path
) -> None:
    import mlflow
    from mlflow.entities import LoggedModelOutput

    copied = {
        m.tags[ORIGIN_TAG]: m.model_id
        for m in dst.search_logged_models([new_exp])
        if ORIGIN_TAG in m.tags and m.status == "READY"
    }
    for model in src.search_logged_models([old_exp]):
        if model.model_id in copied:
            result.models[model.model_id] = copied[model.model_id]
            continue
        run = result.runs.get(model.source_run_id) if model.source_run_id else None
        new = dst.create_logged_model(
            new_exp,
            name=model.name,
            source_run_id=run,
            tags={**model.tags, ORIGIN_TAG: model.model_id},
            params=model.params,
            model_type=model.model_type,
        )
        files = artifacts_of(folder, model.artifact_location)
        with tempfile.TemporaryDirectory(prefix="salesml-sync-") as tmp:
            local = (
                str(files)
                if files is not None
                else mlflow.artifacts.download_artifacts(
                    artifact_uri=model.artifact_location, dst_path=tmp
                )
            )
            dst.log_model_artifacts(new.model_id, local)
        dst.finalize_logged_model(new.model_id, "READY")
        if run:
            dst.log_outputs(run, [LoggedModelOutput(new.model_id, 0)])
        result.models[model.model_id] = new.model_id


def _copy_registry(src: Any, dst: Any, result: SyncResult) -> None:
    from mlflow.exceptions import MlflowException

    for registered in src.search_registered_models():
        name = registered.name
        try:
            dst.get_registered_model(name)
        except MlflowException:
            dst.create_registered_model(name, tags=registered.tags)
        query = f"name = '{_quote(name)}'"
        there = {
            v.tags[ORIGIN_TAG]: str(v.version)
            for v in dst.search_model_versions(query)
            if ORIGIN_TAG in v.tags
        }
        for version in sorted(src.search_model_versions(query), key=lambda v: int(v.version)):
            key = f"{name}/{version.version}"
            if key in there:
                result.versions[key] = there[key]
                continue
            old_model = version.model_id or version.source.removeprefix("models:/")
            model_id = result.models.get(old_model)
            source = f"models:/{model_id}" if model_id else version.source
            new = dst.create_model_version(
                name,
                source,
                run_id=result.runs.get(version.run_id or ""),
                tags={**version.tags, ORIGIN_TAG: key},
                model_id=model_id,
            )
            result.versions[key] = str(new.version)
        for alias, number in registered.aliases.items():
            dst.set_registered_model_alias(name, alias, result.versions[f"{name}/{number}"])


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _rewrite_summary(folder: Path, result: SyncResult, experiment_ids: dict[str, str]) -> None:
    """Point ``summary.json`` at the copies: run ids, model URIs, store, registry version."""
    from salesml.io.data import atomic_write

    path = folder / "summary.json"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    for old, new in {**result.runs, **result.models}.items():
        text = text.replace(old, new)
    summary = json.loads(text)
    exp = summary["experiment"]
    exp["tracking_uri"] = result.tracking_uri
    exp["experiment_id"] = experiment_ids.get(str(exp.get("experiment_id")), exp["experiment_id"])
    champion = summary.get("champion") or {}
    if champion.get("registered_version"):
        key = f"{exp['name']}/{champion['registered_version']}"
        champion["registered_version"] = result.versions.get(key, champion["registered_version"])
    out = json.dumps(summary, indent=2, default=str) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(out, encoding="utf-8"))
