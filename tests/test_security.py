"""Security (issue 11, item 9): config strings are data, names stay inside the output
folder, tracking passwords are never shown, models from outside the store come with a
warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from salesml.cli import app
from salesml.io.paths import safe_name, safe_names
from salesml.tracking import redact_uri

SRC = Path(__file__).resolve().parents[1] / "src" / "salesml"
HOSTILE_CANDIDATES = ["a/b", "../../up", "x:y z", "{{ 7*7 }}"]


def leads_csv(path: Path, rows: int = 80, seed: int = 9) -> Path:
    rng = np.random.default_rng(seed)
    pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(rows)],
            "source": rng.choice(["web", "referral", "event"], rows),
            "employees": rng.integers(1, 500, rows),
            "converted": rng.choice(["yes", "no"], rows, p=[0.3, 0.7]),
        }
    ).to_csv(path, index=False)
    return path


def hostile_config(
    name: str, marker: Path, candidates: list[str] = HOSTILE_CANDIDATES
) -> dict[str, Any]:
    """A config whose strings try to run code or escape the output folder."""
    return {
        "name": name,
        "description": f"__import__('os').system('touch {marker}') {{{{ 7*7 }}}} <b>bold</b>",
        "task": "lead_conversion",
        "data": {"path": "leads.csv", "target": "converted", "positive": "yes", "id": "lead_id"},
        "baselines": [{"name": n, "type": "prior"} for n in candidates],
        "evaluation": {"bootstrap": 50},
    }


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# --- (a) config strings are never evaluated --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['touch {marker}']\n",
        "name: !!python/object/apply:os.system ['touch {marker}']\ntask: churn\n",
        "name: x\ntask: !!python/object/new:subprocess.check_output [['touch', '{marker}']]\n",
        "name: !!python/name:os.system\ntask: churn\n",
    ],
    ids=["whole config", "name", "task", "python name"],
)
def test_python_yaml_tags_are_refused_not_run(tmp_path: Path, text: str):
    marker = tmp_path / "pwned"
    path = tmp_path / "experiment.yaml"
    path.write_text(text.format(marker=marker), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--dry-run"])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    assert str(path) in err and "not valid YAML" in err and "python/" in err
    assert not marker.exists()


def test_a_python_tag_in_set_is_refused_not_run(tmp_path: Path):
    marker = tmp_path / "pwned"
    leads_csv(tmp_path / "leads.csv")
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(hostile_config("x", marker)), encoding="utf-8")
    override = f"name=!!python/object/apply:os.system ['touch {marker}']"
    result = CliRunner().invoke(app, ["run", str(path), "--set", override, "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "--set" in result.stderr and "not a valid YAML value" in result.stderr
    assert not marker.exists()


def test_code_in_config_strings_stays_text(tmp_path: Path):
    marker = tmp_path / "pwned"
    leads_csv(tmp_path / "leads.csv")
    name = f"__import__('os').system('touch {marker}')"
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(hostile_config(name, marker)), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert name in out and "{{ 7*7 }}" in out and "<b>bold</b>" in out
    for candidate in HOSTILE_CANDIDATES:
        assert candidate in out
    assert not marker.exists()


def test_no_code_evaluation_or_unsafe_loading_in_the_source():
    """No eval/exec, no yaml.load/unsafe_load, no pickle; cloudpickle only in the loader of
    the forecast and bookings models (the pickle the untrusted-model warning is about) and where the
    Spark engine reads back the models its own tasks trained (PySpark pickles everything
    between driver and workers anyway: no new trust boundary); pickle only over the pipes
    between salesml and the figure worker it started (no file or socket in between)."""
    banned = re.compile(
        r"\b(eval|exec)\(|yaml\.(load|unsafe_load|full_load)\(|Loader=|\bpickle\.loads?\(|"
        r"__import__\(|\bcompile\(.*exec"
    )
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if banned.search(line):
                hits.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert [h for h in hits if not h.startswith("runtime/drawer.py:")] == []
    assert [h.split(": ", 1)[1] for h in hits] == ["return pickle.loads(stream.read(size))"]
    unpicklers = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "cloudpickle.load" in p.read_text(encoding="utf-8")
    )
    assert unpicklers == ["forecast/spark_models.py", "tracking/pickled_entry.py"]


# --- (b) names become safe path components ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc", "etc"),
        ("a/b", "a_b"),
        ("x:y z", "x_y_z"),
        ("nul\x00byte", "nul_byte"),
        ("..", "unnamed"),
        ("/", "unnamed"),
        ("", "unnamed"),
        ("C:\\Windows\\system32", "C_Windows_system32"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("CON", "_CON"),
        ("churn-v2.1", "churn-v2.1"),
        ("Kündigung 2024", "K_ndigung_2024"),
        ("{{ 7*7 }}", "7_7"),
    ],
)
def test_safe_name(name: str, expected: str, tmp_path: Path):
    got = safe_name(name)
    assert got == expected
    assert (tmp_path / got).resolve().parent == tmp_path.resolve()


def test_safe_name_is_bounded():
    assert len(safe_name("x" * 1000)) == 100


def test_safe_names_are_distinct():
    got = safe_names(["a b", "a_b", "A:B", "c"])
    assert got == {"a b": "a_b", "a_b": "a_b-2", "A:B": "A_B-3", "c": "c"}


@pytest.mark.slow
def test_hostile_names_stay_inside_the_output_folder(
    tmp_path: Path, tracking: str, monkeypatch: pytest.MonkeyPatch
):
    work = tmp_path / "home" / "me" / "project"
    work.mkdir(parents=True)
    marker = tmp_path / "pwned"
    leads_csv(work / "leads.csv")
    name = "../../etc"
    (work / "experiment.yaml").write_text(
        yaml.safe_dump(hostile_config(name, marker)), encoding="utf-8"
    )
    monkeypatch.chdir(work)
    before = files_under(tmp_path)
    result = CliRunner().invoke(app, ["run", "experiment.yaml"])
    assert result.exit_code == 0, (result.output, result.exception)
    new = files_under(tmp_path) - before
    out = work / "reports" / "etc"
    assert new and all(p.is_relative_to(out) for p in new), sorted(map(str, new))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["experiment"]["name"] == name  # shown as given
    assert [c["name"] for c in summary["candidates"]] == HOSTILE_CANDIDATES
    assert all(c["status"] == "ok" for c in summary["candidates"])
    folders = sorted(p.name for p in (out / "plots").iterdir() if p.is_dir())
    assert folders == ["7_7", "a_b", "up", "x_y_z"]
    assert not marker.exists()


# --- (c) passwords in tracking URIs are masked -----------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "postgresql://ann:s3cret@db.example.com:5432/mlflow",
            "postgresql://ann:***@db.example.com:5432/mlflow",
        ),
        ("postgresql+psycopg://ann:p@ss:w0rd@db/mlflow", "postgresql+psycopg://ann:***@db/mlflow"),
        ("http://user:pw@host:5000", "http://user:***@host:5000"),
        ("https://:token@host/", "https://:***@host/"),
        ("mysql://u:x@h/db?password=s3cret&ssl=true", "mysql://u:***@h/db?password=***&ssl=true"),
        ("databricks://profile", "databricks://profile"),
        ("sqlite:////home/me/mlflow.db", "sqlite:////home/me/mlflow.db"),
        ("sqlite:///mlflow.db", "sqlite:///mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("postgresql://ann@db/mlflow", "postgresql://ann@db/mlflow"),
        ("/plain/path:with/colon@at", "/plain/path:with/colon@at"),
        (
            "cannot connect to postgresql://ann:s3cret@db/mlflow (timeout)",
            "cannot connect to postgresql://ann:***@db/mlflow (timeout)",
        ),
    ],
)
def test_redact_uri(uri: str, expected: str):
    assert redact_uri(uri) == expected


def test_the_log_file_masks_passwords(tmp_path: Path):
    from salesml.runtime.logfile import library_log

    secret = "postgresql://ann:s3cret@db/mlflow"
    with library_log(tmp_path / "salesml.log") as log:
        logging.getLogger("mlflow").warning("connecting to %s", secret)
        try:
            raise ConnectionError(f"refused: {secret}")
        except ConnectionError:
            logging.getLogger("mlflow").exception("failed")
    text = log.read_text(encoding="utf-8")
    assert "s3cret" not in text
    assert "connecting to postgresql://ann:***@db/mlflow" in text
    assert "ConnectionError: refused: postgresql://ann:***@db/mlflow" in text  # the traceback


def test_the_run_hint_masks_the_password():
    from salesml.experiment.results import ClassificationData, ExperimentInfo, Summary
    from salesml.runner import mlflow_ui_hint

    info = ExperimentInfo(
        name="x",
        task="churn",
        primary_metric="roc_auc",
        confidence=0.95,
        tracking_uri="postgresql://ann:s3cret@db/mlflow",
        experiment_id="3",
    )
    data = ClassificationData(path="d.csv", sha256="0", rows=1)
    hint = mlflow_ui_hint(Summary(experiment=info, data=data, candidates=[]))
    assert "s3cret" not in hint and "postgresql://ann:***@db/mlflow" in hint


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Any:
    """A real MLflow tracking server on a free port (its own sqlite store), stopped after."""
    port = _free_port()
    folder = tmp_path / "server"
    folder.mkdir()
    cmd = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{folder / 'server.db'}", "--workers", "1",
    ]  # fmt: skip
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True, cwd=folder)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, (folder / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 120 s"
            time.sleep(0.5)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_a_tracking_password_is_never_printed_logged_or_written(
    mlflow_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A whole run and its report against a real server whose URI carries a password."""
    from mlflow import MlflowClient

    uri = f"http://salesml:s3cret@127.0.0.1:{mlflow_server}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("SALESML_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    leads_csv(work / "leads.csv")
    name = "../../etc <b>x</b> {{ 7*7 }}"
    cfg = hostile_config(name, tmp_path / "pwned", HOSTILE_CANDIDATES[:2])
    (work / "experiment.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")

    run = CliRunner().invoke(app, ["run", "experiment.yaml", "-o", "out"])
    assert run.exit_code == 0, (run.output, run.exception)
    report = CliRunner().invoke(app, ["report", "-e", name])
    assert report.exit_code == 0, (report.output, report.exception)
    masked = f"http://salesml:***@127.0.0.1:{mlflow_server}"

    assert "s3cret" not in run.output + report.output
    assert f"mlflow ui --backend-store-uri {masked}" in " ".join(run.stdout.split())
    summary = json.loads((work / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["experiment"]["tracking_uri"] == masked
    html = (work / "reports" / "etc_b_x_b_7_7.html").read_text(encoding="utf-8")
    assert masked in html
    # names render literally: escaped HTML, the template expression not evaluated
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "{{ 7*7 }}" in html
    written = [p for p in files_under(tmp_path) if b"s3cret" in p.read_bytes()]
    assert written == []  # logs, summary, report, artifacts, both stores
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 3
    for r in runs:
        shown = json.dumps([r.data.params, r.data.tags, r.info.artifact_uri])
        assert "s3cret" not in shown


# --- (d) models from outside the tracking store ----------------------------------------


def test_in_tracking_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from salesml.tracking.models import in_tracking_store

    root = tmp_path / "artifacts"
    monkeypatch.setenv("SALESML_ARTIFACT_ROOT", str(root))
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert in_tracking_store("runs:/abc/model", store)
    assert in_tracking_store("models:/churn@champion", store)
    assert in_tracking_store(str(root / "1" / "models" / "m-1" / "artifacts"), store)
    assert in_tracking_store((root / "1" / "model").as_uri(), store)
    assert not in_tracking_store(str(tmp_path / "downloads" / "model"), store)
    assert not in_tracking_store(str(root / ".." / "elsewhere"), store)
    assert not in_tracking_store("s3://bucket/model", store)


def _score(model: str, src: Path, out: Path) -> Any:
    return CliRunner().invoke(app, ["score", "-m", model, "-i", str(src), "-o", str(out)])


def test_a_model_from_outside_the_store_warns_once(
    trained_leads: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_leads["store"])
    mlflow.set_tracking_uri(trained_leads["store"])
    uri = trained_leads["uris"]["logistic"]
    folder = Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "copy")))
    src = tmp_path / "in.csv"
    pd.read_csv(trained_leads["data"]).head(20).to_csv(src, index=False)

    outside = _score(str(folder), src, tmp_path / "a.csv")
    assert outside.exit_code == 0, outside.output
    lines = outside.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: model "), outside.stderr
    assert "outside the tracking store" in lines[0] and "pickles" in lines[0]
    assert str(folder) in lines[0] and "trust" in lines[0]
    assert (tmp_path / "a.csv").exists()

    run_id = next(
        c.mlflow_run_id for c in trained_leads["summary"].candidates if c.name == "logistic"
    )
    for inside in (uri, f"runs:/{run_id}/model"):
        result = _score(inside, src, tmp_path / "b.csv")
        assert result.exit_code == 0, result.output
        assert "warning" not in result.stderr, result.stderr
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "b.csv"), pd.read_csv(tmp_path / "a.csv")
        )


def test_the_library_warns_with_a_category_callers_can_filter(
    trained_leads: dict[str, Any], tmp_path: Path
):
    import mlflow

    from salesml.errors import UntrustedModelWarning
    from salesml.tracking import load_model

    mlflow.set_tracking_uri(trained_leads["store"])
    uri = trained_leads["uris"]["bant"]
    folder = mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / "copy"))
    with pytest.warns(UntrustedModelWarning, match="pickles"):
        load_model(folder, trained_leads["store"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrustedModelWarning)
        load_model(uri, trained_leads["store"])  # from the store: no warning
