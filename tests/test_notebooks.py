"""Every notebook is paired with its jupytext script and executes top to bottom.

Each notebook's first cell is tagged ``parameters``; the test injects a cell
after it that makes the run small and sends tracking to a temporary store.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _code(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


# Notebooks that run an experiment (the funnel notebook runs analytics, not a run).
EXPERIMENTS = [p for p in NOTEBOOKS if "salesml.run_experiment(" in _code(p)]


def _small(tmp: Path) -> dict[str, list[str]]:
    return {
        "01-lead-conversion": [
            f"data.path={tmp / 'leads.csv'}",
            "data.generate.rows=4000",
            "evaluation.bootstrap=200",
        ],
        "02-churn-telco": ["evaluation.bootstrap=200", "models.1.search.n_trials=2"],
        "03-sales-forecast": [
            f"data.path={tmp / 'sales.csv'}",
            "data.generate.rows=8",
            "evaluation.bootstrap=200",
        ],
        "06-customer-lifecycle": ["evaluation.bootstrap=200"],
        "05-pipeline-forecast": [
            f"data.path={tmp / 'opportunities.csv'}",
            f"data.history={tmp / 'stage_history.csv'}",
            "data.generate.rows=4000",
            "backtest.cutoffs=4",
            "backtest.min_past=8",
            "evaluation.bootstrap=200",
        ],
    }


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_paired_with_its_script(path: Path):
    script = path.with_suffix(".py")
    assert script.exists(), (
        f"{script.name} missing: pair it with jupytext --set-formats ipynb,py:percent"
    )
    assert _sources(jupytext.read(script)) == _sources(nbformat.read(path, as_version=4)), (
        f"{path.name} and {script.name} differ: run jupytext --sync {script}"
    )


def test_experiment_notebooks_are_found():
    assert len(EXPERIMENTS) >= 4


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_notebook_reads_its_findings_from_the_reopened_run(path: Path):
    """Findings come from salesml.load_run: its table, metrics on request, its figures."""
    code = _code(path)
    assert "salesml.load_run(" in code, "reopen the run with salesml.load_run"
    assert ".metrics_frame()" in code, "the comparison table comes from run.metrics_frame()"
    assert "against=" in code, "a paired difference computed on request (run.metric(..., against=))"
    assert ".figure(" in code, "figures come from run.figure(...)"
    for hand_made in ("summary.plots", '"plots"', "candidates_frame(summary)"):
        assert hand_made not in code, f"{hand_made}: use the reopened run instead"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path, tracking: str):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert "parameters" in first.metadata.get("tags", []), "first cell must be tagged parameters"
    overrides = _small(tmp_path).get(path.stem, [])
    injected = f"OUTPUT_DIR = {str(tmp_path / 'out')!r}\nTRACKING_URI = {tracking!r}\nOVERRIDES = {overrides!r}\n"
    nb.cells.insert(1, nbformat.v4.new_code_cell(injected))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
    made = tmp_path / "out"
    assert any(made.rglob("summary.json")) or (made / "demo" / "headline.json").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_shows_its_findings(path: Path):
    """Committed executed (make notebooks): tables and figures visible without running anything."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) / 2, "run make notebooks"
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure in the outputs"
    assert not [o for o in outputs if o.output_type == "error"]
    assert path.stat().st_size < 1_000_000, f"{path.name} is {path.stat().st_size:,} bytes"
