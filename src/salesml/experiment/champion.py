"""The champion of a run: the best model against the best rule, with a paired CI and a verdict.

Shared by every task (the runner calls :func:`pick_champion`); a task's primary
metric is compared by the task's own ``difference``, another
``evaluation.metric`` by its view's paired bootstrap, the one a reopened run uses.
"""

from __future__ import annotations

from typing import Any

from salesml.experiment.results import Champion, decide
from salesml.experiment.task import Outcome, Task
from salesml.experiment.tasks import MetricSpec, TaskSpec

__all__ = ["pick_champion"]


def _best(outcomes: list[Outcome], role: str, metric: MetricSpec) -> Outcome | None:
    best = None
    for o in outcomes:
        if o.role != role or o.status != "ok":
            continue
        value = o.metrics.get(metric.name)
        if value is None or value != value:
            continue
        if best is None or metric.better(value, best.metrics[metric.name]):
            best = o
    return best


def _difference(
    spec: TaskSpec,
    task: Task,
    model: Outcome,
    baseline: Outcome,
    metric: MetricSpec,
    evaluation: Any,
) -> tuple[float, list[float]]:
    from salesml.experiment.evaluation import NotEnoughData
    from salesml.experiment.task import Resampling

    if metric.name == spec.primary_metric:
        return task.difference(model, baseline)
    view = spec.make_view()
    delta, ci = view.paired(
        model.predictions, baseline.predictions, metric.name, Resampling.of(evaluation)
    )
    if any(v != v for v in ci):  # NaN: too few units for an interval
        raise NotEnoughData(
            f"too few units for a {evaluation.confidence:.0%} CI of {metric.label}", float(delta)
        )
    return float(delta), [float(v) for v in ci]


def pick_champion(
    spec: TaskSpec,
    task: Task,
    tracker: Any,
    outcomes: list[Outcome],
    metric: MetricSpec,
    evaluation: Any,
) -> Champion | None:
    """The best model against the best rule by ``metric``, with the paired CI and verdict.

    The task's primary metric is compared by the task's own ``difference``; another
    ``evaluation.metric`` by its view's paired bootstrap (the one a reopened run uses).
    """
    model = _best(outcomes, "model", metric)
    baseline = _best(outcomes, "baseline", metric)
    if model is None:
        return None
    champ = Champion(
        name=model.name,
        type=model.type,
        model_uri=model.model_uri,
        metric=metric.name,
        confidence=evaluation.confidence,
    )
    if baseline is None:
        return champ
    from salesml.experiment.evaluation import NotEnoughData

    champ.baseline = baseline.name
    try:
        delta, ci = _difference(spec, task, model, baseline, metric, evaluation)
    except NotEnoughData as exc:  # a point difference, no interval: nothing is registered
        champ.verdict, champ.reason = "insufficient", exc.reason
        champ.delta = None if exc.point is None else float(exc.point)
        return champ
    champ.delta, champ.delta_ci = float(delta), list(ci)
    champ.verdict = decide(champ.delta_ci, metric.lower_is_better)
    champ.beats_baseline = champ.verdict == "model"
    if champ.beats_baseline and model.model_uri:
        champ.registered_version = tracker.register_champion(model.model_uri)
    return champ
