"""How a run reports progress: the loop draws nothing; listeners decide what is shown."""

from __future__ import annotations

import io
from pathlib import Path

from salesml.experiment.progress import PlainProgress, QuietProgress, RunFiles, in_notebook
from salesml.experiment.results import (
    CandidateResult,
    Champion,
    DataInfo,
    ExperimentInfo,
    Summary,
)


def _summary() -> Summary:
    return Summary(
        experiment=ExperimentInfo("x", "churn", "roc_auc", 0.95),
        data=DataInfo(path="x.csv", sha256="0", rows=10),
        candidates=[CandidateResult("rules", "baseline", "scorecard", metrics={"roc_auc": 0.7})],
        champion=Champion(
            "gbm", "lightgbm", None, "roc_auc", 0.95, "rules", 0.05, [0.01, 0.09], True
        ),
    )


def test_plain_progress_prints_a_line_per_candidate_and_the_verdict(tmp_path: Path):
    out = io.StringIO()
    listener = PlainProgress(out)
    listener.plan("x", [("rules", "baseline"), ("gbm", "model")])
    listener.candidate("rules", "baseline")
    listener.candidate_done("rules", "ok", 1.234)
    listener.failed("gbm", "ValueError: boom")
    listener.close()
    listener.finished(_summary(), ["no leakage flags"], RunFiles(tmp_path, tmp_path / "l", False))
    lines = out.getvalue().splitlines()
    assert lines[0] == "x: 2 candidates"
    assert lines[1] == "  rules: ok (1.2 s)"
    assert lines[2] == "  gbm failed: ValueError: boom"
    assert lines[3] == "no leakage flags"
    assert lines[4].startswith("gbm beats rules: roc_auc +0.0500")
    assert lines[5] == f"summary: {tmp_path / 'summary.json'}"


def test_quiet_progress_shows_nothing(tmp_path: Path, capsys):
    listener = QuietProgress()
    listener.plan("x", [("a", "model")])
    listener.finished(_summary(), ["note"], RunFiles(tmp_path, tmp_path / "l", False))
    assert capsys.readouterr() == ("", "")


def test_a_test_process_is_not_a_notebook():
    assert not in_notebook()
