"""One registry of candidates: every baseline and model is declared once, in its wing.

A :class:`CandidateSpec` holds everything salesml knows about a candidate type:
its family and role, a one-line description, the builder that makes it, the
options it accepts (each a :class:`Param` with type, default and help), the
extra config keys it takes (``rules``, ``search``, ``calibration``), its
capabilities as tags (each wing's ``TAGS`` says what its tags mean) and, for
models that can be tuned, its search space. Config validation
(:mod:`salesml.experiment.config`), the builders, the error messages and
``salesml candidates`` all read these declarations; nothing else lists
candidate types.

The declarations live in ``salesml.classify.registry`` and
``salesml.forecast.registry``; they import nothing heavy, so validating a
config or printing the table stays fast. Builders are named by dotted path
and imported only when a candidate is built.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from salesml.experiment.tasks import resolve


def _wing(family: str) -> Any:
    """The module declaring ``family``'s candidates (named by its tasks' specs)."""
    from salesml.experiment.tasks import families

    found = families()
    if family not in found:
        raise KeyError(f"unknown family {family!r}; choose from {', '.join(found)}")
    return importlib.import_module(found[family])


@dataclass(frozen=True)
class Param:
    """One option a candidate accepts under ``params``.

    Parameters
    ----------
    annotation : type
        The type pydantic validates the value against (e.g. ``int | None``).
    default : object
        The value used when the option is not given.
    help : str
        One line for ``salesml candidates`` and the docs.
    """

    annotation: Any
    default: Any = None
    help: str = ""


@dataclass(frozen=True)
class CandidateSpec:
    """A candidate type, declared once.

    Parameters
    ----------
    type : str
        The name used in configs (``type: lightgbm`` or a bare ``- lightgbm``).
    family : str
        The candidate family of the tasks that use it (``TaskSpec.family``).
    role : {"baseline", "model"}
        Baselines go under ``baselines:`` in a config, models under ``models:``.
    description : str
        One line for ``salesml candidates``.
    build : str or None
        ``"module:callable"``; called as ``callable(context, **fixed, **params)``
        where the context is the wing's (a seed for classifiers, the series'
        frequency and season for forecasters). None for a candidate the task
        assembles itself (the forecast ensemble).
    params : mapping of str to Param
        The options accepted under ``params``.
    fixed : mapping
        Keyword arguments always passed to the builder (e.g. the statsforecast
        model class behind a statistical candidate).
    passthrough : str or None
        ``"module:Class"`` of an estimator whose own constructor parameters are
        accepted under ``params`` too (checked against the class, so a typo fails).
    options : tuple of str
        Config keys besides ``type``, ``name`` and ``params``: ``rules``
        (scorecards), ``search`` and ``calibration`` (classifiers).
    search_space : mapping or None
        Hyperparameter lists for ``search:``, keyed by pipeline parameter.
    tags : frozenset of str
        What the candidate can do, from its wing's vocabulary (``TAGS`` in the
        wing's registry module, see :func:`tag_vocabulary`): e.g. ``exog`` for
        a forecaster that reads exogenous columns. Code that treats candidate
        types differently reads these tags, ``salesml candidates`` shows them
        and the registry tests check each claim against what the builder makes.
    """

    type: str
    family: str
    role: Literal["baseline", "model"]
    description: str
    build: str | None
    params: Mapping[str, Param] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    passthrough: str | None = None
    options: tuple[str, ...] = ()
    search_space: Mapping[str, list[Any]] | None = None
    tags: frozenset[str] = frozenset()

    def builder(self) -> Any:
        """The callable named by :attr:`build`, imported now."""
        if self.build is None:
            raise TypeError(f"{self.type}: built by its task, not by a builder")
        return resolve(self.build)

    def make(self, context: Any, **params: Any) -> Any:
        """Build the unfitted candidate: ``builder(context, **fixed, **params)``."""
        return self.builder()(context, **self.fixed, **params)

    def accepted_params(self) -> set[str]:
        """Every key ``params`` may hold: the declared options plus the estimator's own."""
        keys = set(self.params)
        if self.passthrough:
            keys |= estimator_params(self.passthrough)
        return keys


def estimator_params(dotted: str) -> set[str]:
    """Constructor parameters of an estimator class (and LightGBM's own parameter names)."""
    cls = resolve(dotted)
    keys = set(cls().get_params())
    if cls.__module__.startswith("lightgbm"):
        from lightgbm.basic import _ConfigAliases

        # LightGBM's scikit-learn classes pass unknown keyword arguments on to the
        # booster, so its own parameter names and their aliases are valid too.
        for name, aliases in _ConfigAliases._get_all_param_aliases().items():
            keys |= {name, *aliases}
    return keys


def unknown_params(spec: CandidateSpec, given: Mapping[str, Any]) -> str | None:
    """A one-line complaint about keys of ``given`` that ``spec`` does not accept, or None."""
    accepted = spec.accepted_params()
    unknown = sorted(set(given) - accepted)
    if not unknown:
        return None
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(accepted), n=1)
        hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    declared = ", ".join(spec.params) or "none"
    extra = f" or any parameter of {spec.passthrough.split(':')[1]}" if spec.passthrough else ""
    return f"unknown option(s) {', '.join(hints)}; {spec.type} accepts {declared}{extra}"


def candidates(family: str) -> dict[str, CandidateSpec]:
    """Every declared candidate of ``family``, keyed by type, in declaration order."""
    return {spec.type: spec for spec in _wing(family).CANDIDATES}


def tag_vocabulary(family: str) -> dict[str, str]:
    """The tags ``family``'s candidates may declare, each with its meaning (the wing's ``TAGS``)."""
    return dict(_wing(family).TAGS)


def default_candidates(family: str) -> dict[str, list[str]]:
    """The candidates an experiment of ``family`` gets when its config lists none.

    Returns
    -------
    dict
        ``{"baselines": [...], "models": [...]}`` from the wing registry's
        ``DEFAULTS``; empty when the wing declares none.
    """
    defaults = getattr(_wing(family), "DEFAULTS", {})
    return {role: list(types) for role, types in defaults.items()}


def spec_for(family: str, type_: str) -> CandidateSpec:
    """The declaration of candidate ``type_`` in ``family``."""
    found = candidates(family)
    if type_ not in found:
        raise KeyError(f"unknown {family} candidate {type_!r}; choose from {', '.join(found)}")
    return found[type_]


def candidate_table(task: str | None = None) -> list[dict[str, str]]:
    """Rows for ``salesml candidates``: family, role, type, description, tags and options.

    Parameters
    ----------
    task : str, optional
        ``lead_conversion``, ``churn``, ``forecast`` or a family name; default all.
    """
    from salesml.experiment.tasks import families, task_names, task_spec

    if task is None:
        chosen = list(families())
    else:
        chosen = [task_spec(task).family if task in task_names() else task]
    rows = []
    for spec in (s for fam in chosen for s in candidates(fam).values()):
        opts = [f"{k}={v.default!r}" for k, v in spec.params.items()]
        if spec.passthrough:
            opts.append(f"+ {spec.passthrough.split(':')[1]} parameters")
        opts += [f"{o}:" for o in spec.options]
        rows.append(
            {
                "family": spec.family,
                "role": spec.role,
                "type": spec.type,
                "description": spec.description,
                "tags": ", ".join(sorted(spec.tags)) or "-",
                "options": ", ".join(opts) or "-",
            }
        )
    return sorted(rows, key=lambda r: (r["family"], r["role"] != "baseline", r["type"]))
