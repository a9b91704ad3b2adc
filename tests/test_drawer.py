"""The figure worker: drawings drawn in another process, failures and warnings brought back."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from salesml.io.figures import Drawing
from salesml.runtime.drawer import Drawer, DrawingError


def warn_and_draw(text: str, path: Path) -> Path:
    """A drawing that warns and prints (imported by the worker from this file)."""
    warnings.warn(text, UserWarning, stacklevel=1)
    print("printed while drawing")
    path.write_text("drawn")
    return path


def exit_worker(path: Path) -> Path:
    """A drawing that kills the worker process."""
    os._exit(3)


@pytest.fixture
def worker() -> Drawer:
    """A drawer of its own (its worker imports this test file: it has this import path)."""
    drawer = Drawer(background=True)
    yield drawer
    drawer.close()


def _evaluation(path: Path) -> Drawing:
    from salesml.classify.plots import candidate_figure

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1)
    return Drawing(path, candidate_figure, (y, p, None, "a candidate"))


def test_a_drawing_in_the_worker_is_the_figure_drawn_here(worker, tmp_path: Path):
    here = _evaluation(tmp_path / "here" / "evaluation.png")
    there = _evaluation(tmp_path / "there" / "evaluation.png")
    assert here() == here.path
    future = worker.submit([there])
    assert worker._proc is not None and worker._proc.pid != os.getpid()
    assert worker.result(future) == [there.path]
    assert there.path.read_bytes() == here.path.read_bytes()


def test_a_failed_drawing_raises_with_its_traceback_and_the_worker_goes_on(worker, tmp_path: Path):
    from salesml.classify.plots import candidate_figure

    bad = Drawing(tmp_path / "bad.png", candidate_figure, (np.ones(3), np.ones(4), None, "x"))
    failed = worker.submit([bad])
    with pytest.raises(DrawingError, match=r"(?s)Traceback.*ValueError"):
        worker.result(failed)
    assert not bad.path.exists()
    good = _evaluation(tmp_path / "good.png")
    assert worker.result(worker.submit([good])) == [good.path]


def test_what_a_drawing_warns_and_prints_is_logged_here(worker, tmp_path: Path, caplog):
    drawing = Drawing(tmp_path / "w.txt", warn_and_draw, ("a library's warning",))
    with caplog.at_level(logging.WARNING, logger="salesml.drawer"):
        assert worker.result(worker.submit([drawing])) == [drawing.path]
    said = [r.getMessage() for r in caplog.records if r.name == "salesml.drawer"]
    assert said == ["UserWarning: a library's warning", "printed while drawing"]


def test_a_worker_that_dies_fails_what_it_held_and_a_new_one_starts(worker, tmp_path: Path):
    dying = worker.submit([Drawing(tmp_path / "never.png", exit_worker)])
    with pytest.raises(DrawingError, match="exited with code 3"):
        worker.result(dying)
    good = _evaluation(tmp_path / "after.png")
    assert worker.result(worker.submit([good])) == [good.path]


def test_the_worker_imports_from_this_process_import_path(tmp_path: Path, monkeypatch):
    """A module only on this process's sys.path (a notebook's src/ folder) draws there too."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_figures.py").write_text(
        "def draw(text, path):\n    path.write_text(text)\n    return path\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(folder))
    import my_figures

    drawer = Drawer(background=True)
    try:
        drawing = Drawing(tmp_path / "out.txt", my_figures.draw, ("from the worker",))
        assert drawer.result(drawer.submit([drawing])) == [drawing.path]
        assert drawer._proc is not None and drawer._proc.pid != os.getpid()
    finally:
        drawer.close()
    assert drawing.path.read_text() == "from the worker"


def test_without_background_drawings_are_drawn_here(tmp_path: Path):
    drawer = Drawer(background=False)
    drawing = _evaluation(tmp_path / "inline.png")
    assert drawer.result(drawer.submit([drawing])) == [drawing.path]
    assert drawer._proc is None
    from salesml.classify.plots import candidate_figure

    bad = Drawing(tmp_path / "bad.png", candidate_figure, (np.ones(3), np.ones(4), None, "x"))
    with pytest.raises(DrawingError, match=r"(?s)Traceback.*ValueError"):
        drawer.result(drawer.submit([bad]))
