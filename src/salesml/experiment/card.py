"""The model card: what an exported model says about itself, typed.

A task builds a :class:`ModelCard` for each exported candidate (from its
outcome: metrics, params, the data block) and the model carries it in its
MLmodel file under ``salesml``. Scoring, serving, ``salesml export`` and the
report read it back with :meth:`ModelCard.from_metadata`; a model logged by
something else gives an empty card (``kind`` None).

The fields every task fills are attributes; what only one task knows (tier cut
points, top drivers, a forecast's horizon) is in ``facts``, read by that task's
view. The MLmodel file holds the card flat, as plain JSON data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class ModelCard:
    """Facts about one exported candidate.

    Parameters
    ----------
    kind : str or None
        The exported model's kind (its task's ``ScoringSpec.kind``); None for a
        model salesml did not write.
    task, candidate, type, role, experiment, description : str
        Where the model comes from.
    data : dict
        The run's data block (file, fingerprint, rows, split or backtest).
    metrics : dict
        Test metrics with their CIs (``<metric>_ci``).
    params : dict
        The candidate's params and what the fit chose.
    confidence : float
        The CI level of ``metrics``.
    id_columns : list of str
        Carried through to scored files.
    facts : dict
        Task-specific facts, read by the task's view.
    """

    kind: str | None = None
    task: str = ""
    candidate: str = ""
    type: str = ""
    role: str = ""
    experiment: str = ""
    description: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.95
    id_columns: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        """``{"salesml": {...}}`` for the MLmodel file: every field and fact, as JSON data."""
        flat = {k: v for k, v in asdict(self).items() if k != "facts"}
        flat.update(self.facts)
        return {"salesml": json.loads(json.dumps(flat, default=str))}

    @classmethod
    def of_outcome(
        cls, spec: Any, config: Any, candidate: Any, outcome: Any, data: Any, **extra: Any
    ) -> ModelCard:
        """The card of an exported candidate: task ``spec``, validated ``config``, the
        candidate, its ``outcome`` (role, metrics), the run's ``data`` block (an info
        object, or a dict of its fields); ``extra`` fields (``facts``, ``id_columns``,
        ``params``) as given."""
        return cls(
            kind=spec.scoring.kind,
            task=config.task,
            candidate=candidate.name,
            type=candidate.type,
            role=outcome.role,
            experiment=config.name,
            description=candidate.spec.description,
            data=dict(data) if isinstance(data, dict) else dict(vars(data)),
            metrics=outcome.metrics,
            confidence=config.evaluation.confidence,
            **extra,
        )

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> ModelCard:
        """The card in an MLmodel file's metadata (an empty card when there is none)."""
        raw = dict((metadata or {}).get("salesml") or {})
        names = {f.name for f in fields(cls)} - {"facts"}
        known = {k: raw.pop(k) for k in list(raw) if k in names}
        return cls(**known, facts=raw)
