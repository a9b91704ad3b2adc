"""The house layout, checked on the code's own imports: one wing per task, no cycles.

Every ``import`` in ``src/salesml`` counts, at module level or inside a
function. Rules:

- the top level holds only the entry points (CLI, runner, demo, screen) and
  errors; the core is grouped by concept in ``experiment/``, ``io/``, ``crm/``,
  ``runtime/`` and ``tracking/``;
- no import cycles between modules;
- a wing (``classify``, ``forecast``, ``synthetic``, ...) never imports another
  wing or the runner; the core (``experiment``, ``io``, ``crm``) imports no wing;
- only ``salesml.cli`` and ``__main__`` import the CLI;
- MLflow is imported only by ``salesml.tracking`` and the pyfunc model classes;
- the runner, the report, scoring and the CLI name no task, metric or candidate;
- every module stays under about 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PKG = ROOT / "src" / "salesml"
# report/ composes findings (it may use funnel/); the rooms below stay apart.
WINGS = ("classify", "forecast", "synthetic", "scoring", "funnel", "pipeline", "lifecycle")
MLFLOW_ALLOWED = {
    "salesml.tracking.backends",
    "salesml.tracking.store",
    "salesml.tracking.datasets",
    "salesml.tracking.models",
    "salesml.tracking.sync",
    "salesml.tracking.sync_checks",
    "salesml.tracking.serving",
    "salesml.forecast.export",
    "salesml.classify.export",
    "salesml.classify.pyfunc_entry",
    "salesml.tracking.pickled_entry",
    "salesml.tracking.pickled",
}
MAX_LINES = 400
TOP_LEVEL = {"__init__", "__main__", "cli", "runner", "demo", "screen", "errors"}
CORE = ("experiment", "io", "crm")


def _name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


MODULES = {_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            out.add(module)
            out |= {f"{module}.{a.name}" for a in node.names}
    return out


IMPORTS = {m: _imports(m, p) for m, p in MODULES.items()}
GRAPH = {m: {i for i in imps if i in MODULES and i != m} for m, imps in IMPORTS.items()}


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in WINGS else None


def test_the_wings_exist():
    for wing in WINGS:
        assert (PKG / wing / "__init__.py").exists()
    assert {
        "salesml.experiment.task",
        "salesml.experiment.registry",
        "salesml.experiment.results",
    } <= set(MODULES)
    flat = [
        m
        for m in MODULES
        if m.count(".") == 1 and m.split(".")[1].startswith(("forecast_", "synthetic_"))
    ]
    assert not flat, f"prefixed flat modules are left: {flat}"


def test_no_import_cycles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(GRAPH[m]):
            if state.get(d) == 1:
                cycle = stack[stack.index(d) :] + [d]
                # A package's __init__ re-exporting its own submodules is not a cycle.
                if not all(x.startswith(cycle[0]) or cycle[0].startswith(x) for x in cycle):
                    pytest.fail("import cycle: " + " -> ".join(cycle))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def test_a_wing_imports_no_other_wing_and_not_the_runner():
    problems = []
    for m, deps in GRAPH.items():
        wing = _wing(m)
        if wing is None:
            continue
        for d in deps:
            other = _wing(d)
            if other is not None and other != wing:
                problems.append(f"{m} imports {d}")
            if d == "salesml.runner":
                problems.append(f"{m} imports the runner")
    assert not problems, problems


def test_only_the_cli_imports_the_cli():
    users = {m for m, deps in GRAPH.items() if "salesml.cli" in deps}
    assert users <= {"salesml.__main__"}, users


def test_only_tracking_and_pyfunc_classes_import_mlflow():
    users = {m for m, imps in IMPORTS.items() if any(i.split(".")[0] == "mlflow" for i in imps)}
    assert users <= MLFLOW_ALLOWED, users - MLFLOW_ALLOWED


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_under_the_size_limit(module: str):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by what it holds"


def test_tests_mirror_the_wings():
    for wing in ("classify", "forecast", "synthetic", "pipeline"):
        assert list((ROOT / "tests" / wing).glob("test_*.py")), f"tests/{wing}/ has no tests"


def test_the_top_level_shows_the_architecture():
    flat = {p.stem for p in PKG.glob("*.py")}
    assert flat <= TOP_LEVEL, f"group these by concept: {sorted(flat - TOP_LEVEL)}"


def test_the_core_imports_no_wing():
    problems = [
        f"{m} imports {d}"
        for m, deps in GRAPH.items()
        if m.split(".")[1:2] and m.split(".")[1] in CORE
        for d in deps
        # the synthetic generators are a data source (io creates a missing file), not a task
        if _wing(d) not in (None, "synthetic")
    ]
    assert not problems, problems


def _task_words() -> set[str]:
    """Every task, metric and candidate name the registries declare."""
    from salesml.experiment.registry import candidates
    from salesml.experiment.tasks import families, task_names, task_spec

    words = set(task_names())
    for name in task_names():
        words |= {m.name for m in task_spec(name).metrics}
    for family in families():
        words |= set(candidates(family))
    return words


SHARED = [
    PKG / "runner.py",
    *sorted((PKG / "cli").rglob("*.py")),
    *sorted((PKG / "report").rglob("*.py")),
]
SHARED += [*sorted((PKG / "scoring").rglob("*.py")), *sorted((PKG / "report").rglob("*.j2"))]


@pytest.mark.parametrize("path", SHARED, ids=lambda p: str(p.relative_to(PKG)))
def test_shared_code_names_no_task_metric_or_candidate(path: Path):
    import re

    text = path.read_text(encoding="utf-8")
    strings = re.findall(r"[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']", text)
    named = sorted({s for s in strings if s in _task_words()})
    assert not named, f"{path.name} names {named}: that belongs in the task's wing"
