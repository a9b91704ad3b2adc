"""Candidate entries of a config: pydantic models generated from the registry.

Each declared :class:`~salesml.experiment.registry.CandidateSpec` becomes a model of its
own: ``type`` fixed to its name, ``params`` checked against its declared
options (and its estimator's own parameters), plus exactly the extra keys the
spec lists (``rules``, ``search``, ``calibration``). :func:`candidate_union`
gives the discriminated union a config's ``baselines:`` or ``models:`` list
holds.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from salesml.experiment.registry import CandidateSpec, candidates, unknown_params


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Rule(_Strict):
    """One scorecard rule: ``points`` are earned when every condition holds."""

    column: str
    points: float
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    eq: Any = None
    ne: Any = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    missing: bool | None = None

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        conds = ("in_", "not_in", "eq", "ne", "lt", "le", "gt", "ge", "missing")
        if all(getattr(self, c) is None for c in conds):
            raise ValueError(
                f"rule on column {self.column!r} has no condition; use one of "
                "in, not_in, eq, ne, lt, le, gt, ge, missing"
            )
        return self


class SearchConfig(_Strict):
    """Bounded random hyperparameter search, cross-validated on train only."""

    n_trials: int = Field(default=20, ge=1, le=200)
    cv: int = Field(default=3, ge=2, le=10)


class CandidateConfig(_Strict):
    """A baseline or model: ``type``, display ``name`` and the options its spec declares.

    Subclasses are generated per candidate type by :func:`_candidate_model`;
    ``spec`` is that type's registry declaration.
    """

    spec: ClassVar[CandidateSpec]
    type: str
    name: str = ""
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> CandidateConfig:
        if not self.name:
            self.name = self.type
        problem = unknown_params(self.spec, self.params)
        if problem:
            raise ValueError(f"params: {problem}")
        declared = {k: v for k, v in self.params.items() if k in self.spec.params}
        checked = _params_model(self.spec).model_validate(declared)
        self.params = {**self.params, **checked.model_dump(include=set(declared))}
        return self

    def builder_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the spec's builder: the given params (and scorecard rules)."""
        out = dict(self.params)
        if "rules" in self.spec.options:
            out["rules"] = [r.model_dump(by_alias=True, exclude_none=True) for r in self.rules]
        return out


_OPTION_FIELDS: dict[str, tuple[Any, Any]] = {
    "rules": (list[Rule], Field(min_length=1)),
    "search": (SearchConfig | None, None),
    "calibration": (Literal["isotonic", "sigmoid", "none"], "isotonic"),
}
_PARAM_MODELS: dict[tuple[str, str], type[BaseModel]] = {}


def _params_model(spec: CandidateSpec) -> type[BaseModel]:
    key = (spec.family, spec.type)
    if key not in _PARAM_MODELS:
        fields = {k: (p.annotation, p.default) for k, p in spec.params.items()}
        _PARAM_MODELS[key] = create_model(f"{spec.type}_params", **fields)
    return _PARAM_MODELS[key]


def _candidate_model(spec: CandidateSpec) -> type[CandidateConfig]:
    fields: dict[str, Any] = {"type": (Literal[spec.type], ...)}
    fields.update({opt: _OPTION_FIELDS[opt] for opt in spec.options})
    model = create_model(f"{spec.family}_{spec.type}", __base__=CandidateConfig, **fields)
    model.spec = spec
    return model


def candidate_union(family: str, role: str) -> Any:
    """The type of one entry of a ``baselines:`` or ``models:`` list of ``family``."""
    models = [_candidate_model(s) for s in candidates(family).values() if s.role == role]
    if len(models) == 1:
        return models[0]
    return Annotated[Union[tuple(models)], Field(discriminator="type")]  # noqa: UP007


def normalise_candidates(value: Any, family: str, role: str, task: str) -> Any:
    """Bare strings become ``{type: ...}``; a type of the wrong role or family is named."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of candidate types or {type: ...} mappings")
    specs = candidates(family)
    mine = [t for t, s in specs.items() if s.role == role]
    out = []
    for entry in value:
        entry = {"type": entry} if isinstance(entry, str) else entry
        kind = entry.get("type") if isinstance(entry, dict) else None
        if isinstance(kind, str) and kind not in mine:
            if kind in specs:
                other = "models" if role == "baseline" else "baselines"
                raise ValueError(f"{kind!r} is a {specs[kind].role}; list it under {other}")
            raise ValueError(
                f"unknown type {kind!r} for task {task!r}; choose from {', '.join(mine)} "
                f"(see salesml candidates --task {task})"
            )
        out.append(entry)
    return out
