"""salesml: predictive sales research against rule-based baselines.

The public API, for notebooks and scripts::

    import salesml

    config = salesml.load_experiment("experiments/churn/telco.yaml")
    summary = salesml.run_experiment(config)
    salesml.candidates_frame(summary)          # one row per baseline and model
    print(salesml.champion_verdict(summary))   # does a model beat the rules?

Importing the package is cheap: each name below is imported from its module
on first use, so ``salesml --help`` never loads pandas, scikit-learn or MLflow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    # experiments
    "load_experiment": "salesml.experiment.config",
    "run_experiment": "salesml.runner",
    "dry_run": "salesml.runner",
    "load_run": "salesml.experiment.reopen",
    "register_task": "salesml.experiment.tasks",
    "TaskSpec": "salesml.experiment.tasks",
    # results
    "load_summary": "salesml.experiment.results",
    "candidates_frame": "salesml.experiment.results",
    "champion_verdict": "salesml.experiment.results",
    "ci_label": "salesml.experiment.results",
    "Summary": "salesml.experiment.results",
    # data
    "load_table": "salesml.io.data",
    "read_frame": "salesml.io.data",
    "feature_frame": "salesml.classify.prepare",
    "to_long": "salesml.forecast.data",
    "future_frame": "salesml.forecast.data",
    "generate": "salesml.synthetic",
    # funnel analytics
    "run_funnel": "salesml.funnel.run",
    # customer lifecycle
    "value_at_risk": "salesml.lifecycle.value_at_risk",
    "share_held": "salesml.lifecycle.value_at_risk",
    # models and candidates
    "load_model": "salesml.tracking",
    "candidate_table": "salesml.experiment.registry",
    # errors
    "SalesmlError": "salesml.errors",
    "ConfigError": "salesml.errors",
    "DataError": "salesml.errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'salesml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
