"""MLflow tracking: the only place salesml talks to MLflow (besides the pyfunc model classes).

- :mod:`salesml.tracking.store`: the tracking URI, the :class:`Tracker` that
  logs an experiment's parent and child runs, datasets and models;
- :mod:`salesml.tracking.backends`: opening a store (sqlite or PostgreSQL) safely
  from concurrent processes, with clear errors and masked passwords;
- :mod:`salesml.tracking.models`: loading, serving, Spark UDFs, downloads,
  model cards and runs read back for reports;
- :mod:`salesml.tracking.sync`: offline runs kept in the output folder and
  copied to the store later (``salesml sync``).
"""

from salesml.tracking.backends import open_store, redact_uri
from salesml.tracking.models import (
    download_model,
    experiment_summary,
    fetch_run,
    frame_schema,
    load_model,
    model_card,
    serve_model,
    spark_udf,
)
from salesml.tracking.store import (
    ROLE_TAG,
    Tracker,
    git_commit,
    load_mlflow,
    model_requirements,
    project_root,
    resolve_tracking_uri,
)
from salesml.tracking.sync import offline_store, sync_offline

__all__ = [
    "ROLE_TAG",
    "Tracker",
    "download_model",
    "experiment_summary",
    "fetch_run",
    "frame_schema",
    "git_commit",
    "load_mlflow",
    "load_model",
    "model_card",
    "model_requirements",
    "offline_store",
    "open_store",
    "project_root",
    "redact_uri",
    "resolve_tracking_uri",
    "serve_model",
    "spark_udf",
    "sync_offline",
]
