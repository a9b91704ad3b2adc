"""The bad-input catalogue of every command's options: paths, numbers, names, stores.

Every command checks each path it reads or writes and each number it is given
before work starts. Each case runs the real command line in-process and must
exit with code 2 and one paragraph on stderr naming the option (or file) and
the value, with no traceback; it writes nothing and leaves every input byte
for byte as it was (a refused ``sync`` leaves the target store unchanged).

Configs and data files are catalogued in ``tests/test_bad_inputs.py``, file
formats in ``tests/test_bad_formats.py``, scoring inputs in
``tests/scoring/test_bad_score_inputs.py``, labels in
``tests/classify/test_bad_labels.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import one_paragraph, snapshot
from salesml.cli import app

Case = Callable[[Path, dict[str, Any]], tuple[list[str], list[str]]]
"""Builds the inputs in a folder (given the shared trained run); returns the arguments and
the fragments the error names."""


def _config(d: Path, **top: Any) -> Path:
    config = {
        "name": "bad-commands",
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "generate": {"kind": "leads", "rows": 300, "seed": 1},
            "target": "converted",
        },
        "baselines": ["prior"],
        "models": ["logistic"],
        "evaluation": {"bootstrap": 50},
        **top,
    }
    path = d / "experiment.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _file(d: Path, name: str = "blocker") -> Path:
    (d / name).write_text("I am a file\n", encoding="utf-8")
    return d / name


def _loop(d: Path, name: str) -> Path:
    os.symlink(name, d / name)  # a link to itself
    return d / name


def _model(t: dict[str, Any]) -> str:
    return t["uris"]["logistic"]


def _score(t: dict[str, Any], d: Path, **options: str) -> list[str]:
    args = ["score", "-m", _model(t), "-i", str(options.pop("input", t["data"]))]
    args += ["-o", str(options.pop("output", d / "scores.csv"))]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", value]
    return args


# --- output paths below a file, or of the wrong kind -------------------------------------


def run_output_below_a_file(d, t):
    blocker = _file(d)
    return ["run", str(_config(d)), "-o", str(blocker / "out")], [
        "--output-dir",
        "blocker",
        "is a file",
    ]


def run_output_is_a_file(d, t):
    blocker = _file(d)
    return ["run", str(_config(d)), "-o", str(blocker)], ["--output-dir", "blocker", "not a folder"]


def score_output_below_a_file(d, t):
    blocker = _file(d)
    return _score(t, d, output=blocker / "s.csv"), ["--output", "blocker", "is a file"]


def score_output_is_a_folder(d, t):
    (d / "scores").mkdir()
    return _score(t, d, output=d / "scores"), ["--output", "scores", "folder"]


def export_to_below_a_file(d, t):
    blocker = _file(d)
    return ["export", "-m", _model(t), "--to", str(blocker / "m")], ["--to", "blocker", "is a file"]


def export_to_a_folder_not_empty(d, t):
    (d / "m").mkdir()
    _file(d / "m", "keep.txt")
    return ["export", "-m", _model(t), "--to", str(d / "m")], ["--to", "not empty"]


def export_to_a_file(d, t):
    blocker = _file(d)
    return ["export", "-m", _model(t), "--to", str(blocker)], ["--to", "blocker", "not a folder"]


def report_output_below_a_file(d, t):
    blocker = _file(d)
    args = ["report", "-e", t["summary"].experiment.name, "-o", str(blocker / "r.html")]
    return args, ["--out", "blocker", "is a file"]


def report_output_is_a_folder(d, t):
    (d / "r.html").mkdir()
    args = ["report", "-e", t["summary"].experiment.name, "-o", str(d / "r.html")]
    return args, ["--out", "r.html", "folder"]


def funnel_output_below_a_file(d, t):
    blocker = _file(d)
    src = _opportunities(d)
    return ["funnel", str(src), "-o", str(blocker / "f")], ["--out", "blocker", "is a file"]


def generate_output_below_a_file(d, t):
    blocker = _file(d)
    args = ["data", "generate", "leads", "--rows", "5", "--out", str(blocker / "x.csv")]
    return args, ["--out", "blocker", "is a file"]


def generate_output_is_a_folder(d, t):
    (d / "x.csv").mkdir()
    args = ["data", "generate", "leads", "--rows", "5", "--out", str(d / "x.csv")]
    return args, ["--out", "x.csv", "folder"]


def demo_output_below_a_file(d, t):
    blocker = _file(d)
    return ["demo", "--out", str(blocker / "data")], ["--out", "blocker", "is a file"]


# --- inputs that are missing, of the wrong kind, or symbolic-link loops ------------------


def score_input_missing(d, t):
    return _score(t, d, input=d / "nope.csv"), ["--input", "nope.csv", "not found"]


def score_input_is_a_folder(d, t):
    (d / "rows.csv").mkdir()
    return _score(t, d, input=d / "rows.csv"), ["--input", "rows.csv", "folder"]


def score_input_is_a_link_loop(d, t):
    return _score(t, d, input=_loop(d, "rows.csv")), ["--input", "rows.csv", "loop"]


def inspect_input_missing(d, t):
    return ["data", "inspect", str(d / "nope.csv")], ["PATH", "nope.csv", "not found"]


def inspect_input_is_a_link_loop(d, t):
    return ["data", "inspect", str(_loop(d, "x.csv"))], ["x.csv", "loop"]


def funnel_input_missing(d, t):
    return ["funnel", str(d / "nope.csv")], ["SOURCE", "nope.csv", "not found"]


def run_data_path_is_a_link_loop(d, t):
    _loop(d, "leads.csv")
    cfg = _config(d, data={"path": "leads.csv", "target": "converted"})
    return ["run", str(cfg)], ["leads.csv", "loop"]


def run_config_is_a_link_loop(d, t):
    return ["run", str(_loop(d, "experiment.yaml"))], ["experiment.yaml", "loop"]


def demo_experiments_missing(d, t):
    return ["demo", "--experiments", str(d / "nope")], ["--experiments", "nope", "not found"]


def sync_folder_missing(d, t):
    return ["sync", str(d / "never-run")], ["OUTPUT_DIR", "never-run", "not found"]


def sync_folder_is_a_file(d, t):
    return ["sync", str(_file(d))], ["OUTPUT_DIR", "blocker", "not a folder"]


# --- numbers out of range ----------------------------------------------------------------


def generate_negative_seed(d, t):
    args = ["data", "generate", "leads", "--seed", "-1", "--out", str(d / "x.csv")]
    return args, ["--seed -1", "from 0"]


def generate_seed_too_large(d, t):
    args = ["data", "generate", "leads", "--seed", str(2**32), "--out", str(d / "x.csv")]
    return args, ["--seed 4294967296", "4,294,967,295"]


def demo_negative_seed(d, t):
    return ["demo", "--seed", "-3", "--out", str(d / "data")], ["--seed -3", "from 0"]


def config_negative_split_seed(d, t):
    return ["run", str(_config(d, split={"seed": -1}))], ["experiment.yaml", "split.seed", "-1"]


def config_negative_evaluation_seed(d, t):
    cfg = _config(d, evaluation={"bootstrap": 50, "seed": -7})
    return ["run", str(cfg)], ["experiment.yaml", "evaluation.seed", "-7"]


def config_negative_generate_seed(d, t):
    data = {"path": "leads.csv", "generate": {"kind": "leads", "rows": 50, "seed": -2}}
    cfg = _config(d, data={**data, "target": "converted"})
    return ["run", str(cfg)], ["experiment.yaml", "data.generate.seed", "-2"]


def score_chunk_size_zero(d, t):
    return _score(t, d, chunk_size="0"), ["--chunk-size 0", "at least 1"]


def score_h_negative(d, t):
    return _score(t, d, h="-2"), ["--h -2", "at least 1"]


def serve_port_too_large(d, t):
    return ["serve", "-m", _model(t), "--port", "70000"], ["--port 70000", "65,535"]


def serve_port_zero(d, t):
    return ["serve", "-m", _model(t), "--port", "0"], ["--port 0", "from 1"]


def serve_unknown_host(d, t):
    args = ["serve", "-m", _model(t), "--host", "no-such-host.invalid", "--port", "5999"]
    return args, ["--host", "no-such-host.invalid"]


# --- names that must exist ---------------------------------------------------------------


def score_blank_id(d, t):
    return _score(t, d, id=" "), ["--id", "' '"]


def score_id_missing_column(d, t):
    return _score(t, d, id="account_id"), ["leads.csv", "--id", "'account_id'", "no such column"]


def score_input_duplicate_header(d, t):
    text = Path(t["data"]).read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    header[-1] = header[1]  # the last column repeats the second's name
    (d / "rows.csv").write_text("\n".join([",".join(header), *text[1:50]]) + "\n", encoding="utf-8")
    return _score(t, d, input=d / "rows.csv"), ["rows.csv", repr(header[1]), "2"]


def report_unknown_run(d, t):
    args = ["report", "-e", t["summary"].experiment.name, "--run", "0" * 32]
    return args + ["-o", str(d / "r.html")], ["--run", "0" * 32, "not found"]


def report_run_of_another_experiment(d, t):
    run = t["other_run"]  # a run of bad-commands, asked for as one of the trained experiment
    args = ["report", "-e", t["summary"].experiment.name, "--run", run, "-o", str(d / "r.html")]
    return args, ["--run", run, "bad-commands", t["summary"].experiment.name]


def report_run_is_a_candidate(d, t):
    run = t["summary"].candidates[0].mlflow_run_id
    args = ["report", "-e", t["summary"].experiment.name, "--run", run, "-o", str(d / "r.html")]
    return args, ["--run", run, "candidate's run", t["summary"].experiment.mlflow_run_id]


def report_unknown_experiment(d, t):
    return ["report", "-e", "never-ran", "-o", str(d / "r.html")], ["never-ran"]


# --- sync: everything is read before anything is copied -----------------------------------


def _offline(d: Path, t: dict[str, Any]) -> Path:
    folder = d / "offline-run"
    shutil.copytree(t["offline"], folder)
    return folder


def sync_truncated_summary(d, t):
    folder = _offline(d, t)
    text = (folder / "summary.json").read_text(encoding="utf-8")
    (folder / "summary.json").write_text(text[: len(text) // 2], encoding="utf-8")
    return ["sync", str(folder)], ["summary.json"]


def sync_corrupt_store(d, t):
    folder = _offline(d, t)
    db = folder / "offline" / "mlflow.db"
    db.write_bytes(b"\x00garbage" * 64 + db.read_bytes()[512:])
    return ["sync", str(folder)], ["mlflow.db", "nothing was synced"]


def sync_store_is_not_mlflow(d, t):
    folder = _offline(d, t)
    db = folder / "offline" / "mlflow.db"
    db.unlink()
    with sqlite3.connect(db) as con:
        con.execute("create table notes (x text)")
    con.close()
    return ["sync", str(folder)], ["mlflow.db", "not an MLflow store", "runs"]


def sync_artifacts_deleted(d, t):
    folder = _offline(d, t)
    shutil.rmtree(folder / "offline" / "mlruns")
    return ["sync", str(folder)], ["mlflow.db", "missing", "nothing was synced"]


def sync_record_corrupt(d, t):
    folder = _offline(d, t)
    (folder / "offline" / "synced.json").write_text("{not json", encoding="utf-8")
    return ["sync", str(folder)], ["synced.json", "not a record"]


CASES: dict[str, Case] = {
    f.__name__: f
    for f in (
        run_output_below_a_file,
        run_output_is_a_file,
        score_output_below_a_file,
        score_output_is_a_folder,
        export_to_below_a_file,
        export_to_a_folder_not_empty,
        export_to_a_file,
        report_output_below_a_file,
        report_output_is_a_folder,
        funnel_output_below_a_file,
        generate_output_below_a_file,
        generate_output_is_a_folder,
        demo_output_below_a_file,
        score_input_missing,
        score_input_is_a_folder,
        score_input_is_a_link_loop,
        inspect_input_missing,
        inspect_input_is_a_link_loop,
        funnel_input_missing,
        run_data_path_is_a_link_loop,
        run_config_is_a_link_loop,
        demo_experiments_missing,
        sync_folder_missing,
        sync_folder_is_a_file,
        generate_negative_seed,
        generate_seed_too_large,
        demo_negative_seed,
        config_negative_split_seed,
        config_negative_evaluation_seed,
        config_negative_generate_seed,
        score_chunk_size_zero,
        score_h_negative,
        serve_port_too_large,
        serve_port_zero,
        serve_unknown_host,
        score_blank_id,
        score_id_missing_column,
        score_input_duplicate_header,
        report_unknown_run,
        report_run_of_another_experiment,
        report_run_is_a_candidate,
        report_unknown_experiment,
        sync_truncated_summary,
        sync_corrupt_store,
        sync_store_is_not_mlflow,
        sync_artifacts_deleted,
        sync_record_corrupt,
    )
}


def _opportunities(d: Path) -> Path:
    from salesml.synthetic import generate

    path = d / "opps.csv"
    generate("opportunities", 200, 1).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def shared(trained_leads: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The trained lead run (models, store) and one offline run's folder to copy from."""
    import io

    from rich.console import Console

    from salesml import load_experiment, run_experiment

    folder = tmp_path_factory.mktemp("offline-source")
    path = _config(folder)
    quiet = Console(file=io.StringIO())
    run_experiment(load_experiment(path), folder / "out", console=quiet, offline=True)
    other = run_experiment(
        load_experiment(path), folder / "tracked", trained_leads["store"], console=quiet
    )
    return {**trained_leads, "offline": folder / "out", "other_run": other.experiment.mlflow_run_id}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_bad_option_is_refused_before_work_starts(
    case: str, tmp_path: Path, shared: dict, monkeypatch: pytest.MonkeyPatch
):
    target = tmp_path.parent / f"{tmp_path.name}-target.db"
    uses_models = case.startswith(("score", "report", "export", "serve"))
    monkeypatch.setenv(
        "MLFLOW_TRACKING_URI", shared["store"] if uses_models else f"sqlite:///{target}"
    )
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "work"
    d.mkdir()
    args, fragments = CASES[case](d, shared)
    before = snapshot(d)
    result = CliRunner().invoke(app, args)
    err = one_paragraph(result)
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in: {err}"
    after = snapshot(d)
    changed = {k for k in before if after.get(k) != before[k]}
    # a sync notes what the libraries said in the run's own log; nothing else changes
    assert changed <= {"offline-run/salesml.log"}, f"an input changed: {changed}"
    assert set(after) == set(before), f"something was written: {set(after) - set(before)}"
    assert not (d / "never-run").exists(), "a missing folder was created"
    assert not target.exists(), "the target store was touched"


def test_a_busy_port_is_refused_before_serving(shared: dict):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "-m", _model(shared), "--port", str(port)])
    err = one_paragraph(result)
    assert f"--port {port}" in err and "cannot listen" in err
    assert "serving" not in result.stdout


def test_the_command_catalogue_is_big_enough():
    assert len(CASES) >= 40


CATALOGUES = {
    "tests/test_bad_inputs.py": ["CASES"],
    "tests/test_bad_commands.py": ["CASES"],
    "tests/test_bad_formats.py": ["CASES", "SCORE_CASES"],
    "tests/scoring/test_bad_score_inputs.py": ["CASES"],
    "tests/classify/test_bad_labels.py": ["CASES"],
}


def test_the_catalogues_together_hold_120_cases():
    """Every refusal salesml promises, counted across the catalogues (issue 19: 120 or more)."""
    import importlib.util

    from conftest import ROOT

    total = 0
    for i, (path, names) in enumerate(CATALOGUES.items()):
        spec = importlib.util.spec_from_file_location(f"_catalogue_{i}", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        total += sum(len(getattr(module, name)) for name in names)
    assert total >= 120, total
