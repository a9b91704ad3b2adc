"""The MLflow store: where runs go, and the Tracker that writes salesml's runs there.

The tracking URI comes from ``MLFLOW_TRACKING_URI`` or defaults to the
embedded sqlite store ``mlflow.db`` at the project root (the nearest folder
above the working directory holding ``pyproject.toml`` or ``.git``). Artifacts
go to ``SALESML_ARTIFACT_ROOT`` or, by default, ``mlruns/`` beside the store.
"""

from __future__ import annotations

import os
import subprocess
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from salesml.experiment.results import metric_items
from salesml.runtime.interrupt import deferred, uninterrupted
from salesml.tracking.backends import redact_uri
from salesml.tracking.datasets import pandas_digest, schema_rows

ROLE_TAG = "salesml.role"
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) with pyproject.toml or .git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder
    return here


# user:password@ in any scheme://; the password may hold an unencoded "@", not a "/".
def resolve_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI``, else ``sqlite:///<project root>/mlflow.db``."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{project_root() / 'mlflow.db'}"


def _artifact_root(uri: str) -> Path:
    env = os.environ.get("SALESML_ARTIFACT_ROOT")
    if env:
        return Path(env).resolve()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlruns"
    return project_root() / "mlruns"


def git_commit(folder: Path) -> str | None:
    """The HEAD commit of the git checkout holding ``folder``, if there is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


_MODEL_PACKAGES = (
    "mlflow",
    "scikit-learn",
    "pandas",
    "numpy",
    "scipy",
    "skops",
    "lightgbm",
    "statsforecast",
    "mlforecast",
    "pyarrow",
)


def model_requirements() -> list[str]:
    """Pinned pip requirements of an exported model: the libraries salesml models use.

    Given explicitly because MLflow's inference of them loads each model in a
    subprocess (about 7 s a model). The salesml code travels with the model
    (``code_paths``), so it loads where salesml is not installed.
    """
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for name in _MODEL_PACKAGES:
        try:
            reqs.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return reqs


def _code_paths() -> list[str]:
    import salesml

    return [str(Path(salesml.__file__).parent)]


def load_mlflow() -> None:
    """Import MLflow now, so its logging set-up happens before salesml redirects it."""
    import mlflow  # noqa: F401


def _one_line(exc: BaseException) -> str:
    return redact_uri(" ".join(str(getattr(exc, "message", exc)).split()))


class Tracker:
    """One MLflow experiment: a parent run per ``salesml run``, child runs per candidate.

    Parameters
    ----------
    experiment : str
        MLflow experiment name (the config's ``name``).
    tracking_uri : str, optional
        Default: :func:`resolve_tracking_uri`.
    artifact_root : Path, optional
        Where a new experiment's artifacts go. Default: ``SALESML_ARTIFACT_ROOT``,
        else ``mlruns/`` beside a sqlite store, else ``mlruns/`` at the project root.
    """

    def __init__(
        self,
        experiment: str,
        tracking_uri: str | None = None,
        artifact_root: Path | None = None,
    ) -> None:
        import mlflow

        from salesml.tracking.backends import create_experiment_once, open_store

        self.uri = tracking_uri or resolve_tracking_uri()
        open_store(self.uri)
        self.experiment = experiment
        self._datasets: list[tuple[Any, str]] | None = None
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        # MLflow prints each run's URL (with any password in the URI) for a tracking
        # server; salesml prints one masked mlflow ui hint instead.
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        mlflow.set_tracking_uri(self.uri)
        found = mlflow.get_experiment_by_name(experiment)
        if found is None:
            from salesml.io.paths import safe_name

            root = Path(artifact_root).resolve() if artifact_root else _artifact_root(self.uri)
            location = (root / safe_name(experiment)).as_uri()
            self.experiment_id = create_experiment_once(
                experiment, location, {EXPERIMENT_KIND: MODEL_DEVELOPMENT}
            )
        else:
            self.experiment_id = found.experiment_id
            if found.tags.get(EXPERIMENT_KIND) != MODEL_DEVELOPMENT:
                # mlflow ui then opens the experiment on its training runs, not on GenAI traces
                mlflow.MlflowClient(self.uri).set_experiment_tag(
                    self.experiment_id, EXPERIMENT_KIND, MODEL_DEVELOPMENT
                )

    @contextmanager
    def run(
        self, name: str, tags: dict[str, str] | None = None, nested: bool = False
    ) -> Iterator[str]:
        """Start a run (nested under the active one if ``nested``); yield its id.

        An exception escaping the block marks the run FAILED, logs the
        traceback as ``error.txt`` and is re-raised. An interruption (Ctrl-C, or
        SIGTERM under :func:`salesml.runtime.interrupt.interruptible`) marks it KILLED.
        """
        import mlflow

        active = None
        try:
            with deferred():  # an interruption waits for the run to exist, then kills it
                active = mlflow.start_run(
                    experiment_id=self.experiment_id, run_name=name, nested=nested, tags=tags
                )
            yield active.info.run_id
        except KeyboardInterrupt as exc:
            if active is not None:
                with deferred():
                    mlflow.set_tag("salesml.error", f"interrupted ({type(exc).__name__})")
                    mlflow.end_run(status="KILLED")
            raise
        except BaseException as exc:
            if active is None:  # no run was started: nothing to record
                raise
            # a Spark driver that died leaves a session MLflow would query (and fail on)
            from salesml.runtime.spark import discard_dead_session

            discard_dead_session()
            with deferred():
                self._record_failure(
                    active.info.run_id,
                    "".join(traceback.format_exception(exc)),
                    f"{type(exc).__name__}: {exc}",
                )
                mlflow.end_run(status="FAILED")
            raise
        else:
            with deferred():
                mlflow.end_run()

    @uninterrupted
    def log_params(self, params: dict[str, Any]) -> None:
        import mlflow

        mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})

    @uninterrupted
    def log_metrics(self, metrics: dict[str, Any]) -> None:
        import mlflow

        mlflow.log_metrics(metric_items(metrics))

    @uninterrupted
    def set_tags(self, tags: dict[str, Any]) -> None:
        import mlflow

        mlflow.set_tags({k: str(v) for k, v in tags.items() if v is not None})

    @uninterrupted
    def log_dict(self, data: dict[str, Any], name: str) -> None:
        import mlflow

        mlflow.log_dict(data, name)

    @uninterrupted
    def log_datasets(self, datasets: dict[str, tuple[Any, str]], source: str) -> None:
        """Log frames as MLflow dataset inputs (name, digest, rows) of the active run.

        ``datasets`` maps a name to ``(frame, context)``, e.g. ``{"train": (X, "training")}``.
        Integer columns are logged as doubles, as the exported models declare them. The
        MLflow datasets (and their digests) are built once per tracker and reused by
        every child run.
        """
        import mlflow

        if self._datasets is None:
            from mlflow.data.dataset_source_registry import get_registered_sources

            # The local-file source class is registered twice (two URI schemes); naming it
            # explicitly spares MLflow the guess and its warning.
            local = next(
                s for s in get_registered_sources() if s.__name__ == "LocalArtifactDatasetSource"
            )
            self._datasets = []
            for name, (frame, context) in datasets.items():
                ints = frame.select_dtypes("integer").columns
                typed = frame.astype(dict.fromkeys(ints, "float64")) if len(ints) else frame
                data = mlflow.data.from_pandas(
                    typed,
                    source=local(Path(source).as_uri()),
                    name=name,
                    digest=pandas_digest(typed),
                )
                # MLflow infers the schema value by value (14 s for 750,000 leads); the
                # rows that decide it (a sample, plus a row where each column is missing)
                # give the same schema. Prefilled where MLflow caches it; if MLflow stops
                # caching it there, it infers it itself again, only slower.
                sample = mlflow.data.from_pandas(schema_rows(typed), name=name)
                data.__dict__["schema"] = sample.schema
                self._datasets.append((data, context))
        for data, context in self._datasets:
            mlflow.log_input(data, context=context)

    @uninterrupted
    def log_artifacts(
        self, paths: list[Path], folder: str | None = "plots", run_id: str | None = None
    ) -> None:
        """Log files under ``folder`` (None: the artifact root) of run ``run_id``.

        Default: the active run. A finished run takes files too (figures drawn after it).
        """
        import mlflow

        if run_id is None:
            for path in paths:
                mlflow.log_artifact(str(path), artifact_path=folder)
            return
        client = mlflow.MlflowClient(self.uri)
        for path in paths:
            client.log_artifact(run_id, str(path), artifact_path=folder)

    @uninterrupted
    def fail_run(self, run_id: str | None, message: str) -> None:
        """Mark a finished run FAILED: ``message`` (a traceback) as ``error.txt``, its last
        line as the ``salesml.error`` tag, as :meth:`run` records a failure inside it."""
        import mlflow

        if run_id is None:
            return
        self._record_failure(run_id, message, message.splitlines()[-1])
        mlflow.MlflowClient(self.uri).set_terminated(run_id, status="FAILED")

    @uninterrupted
    def _record_failure(self, run_id: str, text: str, error: str) -> None:
        """``text`` (a traceback) as the run's ``error.txt``, ``error`` as its tag, redacted."""
        import mlflow

        client = mlflow.MlflowClient(self.uri)
        client.log_text(run_id, redact_uri(text), "error.txt")
        client.set_tag(run_id, "salesml.error", redact_uri(error)[:5000])

    @uninterrupted
    def log_code_model(self, model: Any, input_example: Any) -> str:
        """Log a pyfunc defined by code (``model.code_path``) with its artifacts; return its URI.

        ``model.write_artifacts(folder)`` writes the files the code loads (nothing
        pickled); ``model.signature()`` gives the typed input and output columns.
        """
        import tempfile

        import mlflow

        with tempfile.TemporaryDirectory(prefix="salesml-model-") as tmp:
            artifacts = model.write_artifacts(Path(tmp))
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(model.code_path),
                artifacts=artifacts,
                signature=model.signature(),
                input_example=input_example,
                pip_requirements=model_requirements(),
                code_paths=_code_paths(),
                metadata=model.metadata(),
            )
        return info.model_uri

    @uninterrupted
    def register_champion(self, model_uri: str, alias: str = "champion") -> str:
        """Register ``model_uri`` under the experiment's name with ``alias``; return the version."""
        import io
        import logging
        from contextlib import redirect_stderr, redirect_stdout

        import mlflow
        from mlflow import MlflowClient

        from salesml.tracking.backends import with_retry

        said = io.StringIO()  # MLflow prints "Created version ..." itself; it goes to the log
        with redirect_stdout(said), redirect_stderr(said):
            version = with_retry(
                lambda: mlflow.register_model(model_uri, self.experiment),
                f"registering {self.experiment!r}",
            )
        if said.getvalue().strip():
            logging.getLogger("mlflow").info(said.getvalue().strip())
        with_retry(
            lambda: MlflowClient(self.uri).set_registered_model_alias(
                self.experiment, alias, version.version
            ),
            f"setting alias {alias!r} of {self.experiment!r}",
        )
        return str(version.version)
