"""Tests for the ``salesml`` command line (salesml.cli), in-process and as real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import salesml
from salesml.cli import app
from salesml.synthetic import GENERATORS, generate_leads

HEAVY = ("pandas", "sklearn", "mlflow", "matplotlib", "lightgbm", "statsforecast", "pyarrow")
COMMANDS = (
    "run",
    "demo",
    "data",
    "candidates",
    "score",
    "serve",
    "export",
    "report",
    "funnel",
    "sync",
    "value-at-risk",
)
DEMO_KINDS = ("leads", "customers", "sales", "opportunities")


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def script() -> Path:
    """The installed ``salesml`` console script of this environment."""
    beside = Path(sys.executable).parent / "salesml"
    found = beside if beside.exists() else shutil.which("salesml")
    assert found, "the salesml console script is not installed"
    return Path(found)


def run_process(*args: str, cwd: Path | None = None, timeout: float = 120):
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=timeout)


# --- help and version -------------------------------------------------------------------


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert command in result.stdout
    assert "--version" in result.stdout


def test_data_help_lists_its_commands():
    result = invoke("data", "--help")
    assert result.exit_code == 0
    assert "generate" in result.stdout and "inspect" in result.stdout


def test_run_help_documents_set():
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "--set" in result.stdout and "--output-dir" in result.stdout


def test_version_in_process():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"salesml {salesml.__version__}"


def test_package_version_matches_installed_metadata():
    assert salesml.__version__ == version("salesml")


@pytest.mark.parametrize("how", ["module", "script"])
def test_version_as_a_process(how: str):
    cmd = [sys.executable, "-m", "salesml"] if how == "module" else [str(script())]
    proc = run_process(*cmd, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"salesml {salesml.__version__}"
    assert proc.stderr == ""


@pytest.mark.parametrize("how", ["module", "script"])
def test_help_as_a_process(how: str):
    cmd = [sys.executable, "-m", "salesml"] if how == "module" else [str(script())]
    proc = run_process(*cmd, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout and "demo" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_importing_the_cli_is_cheap():
    code = (
        "import json, sys, salesml.cli; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    proc = run_process(sys.executable, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


# --- data generate ----------------------------------------------------------------------


def _generate(out: Path, *extra: str):
    return invoke(
        "data", "generate", "leads", "--rows", "300", "--seed", "3", "--out", str(out), *extra
    )


def test_generate_parquet_equals_the_generator(tmp_path: Path):
    out = tmp_path / "sub" / "leads.parquet"
    result = _generate(out)
    assert result.exit_code == 0, result.output
    assert "300" in result.stdout and str(out) in result.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out), generate_leads(300, 3), check_exact=True)


def test_generate_csv_equals_the_generator(tmp_path: Path):
    out = tmp_path / "leads.csv"
    result = _generate(out)
    assert result.exit_code == 0, result.output
    expected = generate_leads(300, 3)
    dates = [c for c in expected if pd.api.types.is_datetime64_any_dtype(expected[c])]
    dtypes = {
        c: ("object" if pd.api.types.is_object_dtype(t) else str(t))
        for c, t in expected.dtypes.items()
        if c not in dates
    }
    got = pd.read_csv(out, dtype=dtypes, parse_dates=dates, float_precision="round_trip")
    for c in dates:
        got[c] = got[c].astype(expected[c].dtype)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_generate_is_deterministic(tmp_path: Path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert _generate(a).exit_code == 0 and _generate(b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    pa, pb = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert _generate(pa).exit_code == 0 and _generate(pb).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(pa), pd.read_parquet(pb), check_exact=True)
    other = tmp_path / "other.csv"
    invoke("data", "generate", "leads", "--rows", "300", "--seed", "4", "--out", str(other))
    assert other.read_bytes() != a.read_bytes()


def _usage_error(result, *fragments: str) -> str:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert err.startswith("error:") and "Traceback" not in result.output
    assert len(err.splitlines()) == 1
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_generate_unknown_kind(tmp_path: Path):
    out = tmp_path / "x.csv"
    result = invoke("data", "generate", "prospects", "--out", str(out))
    _usage_error(result, "'prospects'", *GENERATORS)
    assert not out.exists()


@pytest.mark.parametrize("rows", ["0", "-5"])
def test_generate_needs_at_least_one_row(tmp_path: Path, rows: str):
    out = tmp_path / "x.csv"
    result = invoke("data", "generate", "leads", "--rows", rows, "--out", str(out))
    _usage_error(result, f"--rows {rows}", "must be at least 1")
    assert not out.exists()


def test_generate_unsupported_output_type(tmp_path: Path):
    out = tmp_path / "x.xlsx"
    result = invoke("data", "generate", "leads", "--rows", "5", "--out", str(out))
    _usage_error(result, str(out), ".xlsx")
    assert list(tmp_path.iterdir()) == []


def test_generate_into_an_impossible_folder(tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "leads.csv"
    _usage_error(invoke("data", "generate", "leads", "--rows", "5", "--out", str(out)), str(out))


# --- data inspect -----------------------------------------------------------------------


def test_inspect_prints_the_schema(tmp_path: Path):
    path = tmp_path / "small.csv"
    pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(30)],
            "plan": ["basic", "pro", "team"] * 10,
            "seats": [float(i % 7 + 1) for i in range(30)],
            "renewed": ["yes", "no"] * 15,
            "signed": [f"2024-03-{i % 28 + 1:02d}" for i in range(30)],
        }
    ).to_csv(path, index=False)
    result = invoke("data", "inspect", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert str(path) in lines[0] and "30 rows" in lines[0]
    assert (
        lines[1]
        == "read with delimiter ',' (guessed), decimal '.' (guessed), encoding utf-8 (guessed)"
    )
    rows = {line.split()[0]: line.split()[1] for line in lines[3:]}
    assert rows == {
        "account_id": "id",
        "plan": "categorical",
        "seats": "numeric",
        "renewed": "boolean",
        "signed": "datetime",
    }


def test_inspect_with_date_format(tmp_path: Path):
    path = tmp_path / "eu.csv"
    pd.DataFrame({"day": [f"{i + 1:02d}-02-2024" for i in range(20)], "v": range(20)}).to_csv(
        path, index=False
    )
    plain = invoke("data", "inspect", str(path))
    dated = invoke("data", "inspect", str(path), "--date-format", "%d-%m-%Y")
    assert plain.exit_code == 0 and dated.exit_code == 0

    def day_line(stdout: str) -> list[str]:
        return next(line.split() for line in stdout.splitlines() if line.startswith("day "))

    # day first is recognised without help, and the schema says how it was read
    assert day_line(plain.stdout)[1] == "datetime" and day_line(plain.stdout)[-1] == "%d-%m-%Y"
    assert day_line(dated.stdout)[1] == "datetime"


def test_inspect_missing_file(tmp_path: Path):
    path = tmp_path / "nope.csv"
    _usage_error(invoke("data", "inspect", str(path)), str(path), "not found")


# --- candidates -----------------------------------------------------------------------


def test_candidates_lists_every_registered_type():
    from salesml.experiment.registry import candidates

    result = invoke("candidates")
    assert result.exit_code == 0, result.output
    for family in ("classification", "forecast"):
        for spec in candidates(family).values():
            assert spec.type in result.stdout
    assert "LGBMClassifier parameters" in result.stdout  # a model's options
    assert "n_bins=5" in result.stdout  # a baseline's declared option and default


def test_candidates_for_one_task():
    result = invoke("candidates", "--task", "forecast")
    assert result.exit_code == 0, result.output
    assert "auto_ets" in result.stdout and "seasonal_naive" in result.stdout
    assert "scorecard" not in result.stdout and "logistic" not in result.stdout


def test_candidates_show_the_tags():
    from salesml.experiment.registry import candidates, spec_for

    result = invoke("candidates", "--task", "forecast")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "description" in line)
    assert header.index("tags") < header.index("options (params: and keys)")
    rows = {
        line.split("│")[3].strip(): line.split("│")[5].strip()
        for line in result.stdout.splitlines()
        if line.count("│") == 7 and line.split("│")[1].strip() == "forecast"
    }
    assert set(rows) == set(candidates("forecast"))
    assert rows["ensemble"] == "combines"
    assert rows["lightgbm_global"].startswith("exog, global")
    for type_, tags in rows.items():  # the first line of each row's tags
        assert tags.rstrip(",").split(", ")[0] in (
            sorted(spec_for("forecast", type_).tags) or ["-"]
        )


def test_candidates_unknown_task():
    _usage_error(invoke("candidates", "--task", "regression"), "--task", "'regression'", "churn")


# --- demo (one real process, datasets only) ---------------------------------------------


def test_demo_generates_and_validates_the_datasets(tmp_path: Path):
    empty = tmp_path / "no_experiments"
    empty.mkdir()
    proc = run_process(
        sys.executable,
        "-m",
        "salesml",
        "demo",
        "--out",
        "tmp/synthetic",
        "--experiments",
        str(empty),
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    folder = tmp_path / "tmp" / "synthetic"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.csv" for k in DEMO_KINDS)
    lines = {k: [ln for ln in out.splitlines() if f"{k}.csv:" in ln] for k in DEMO_KINDS}
    assert all(len(v) == 1 for v in lines.values()), out

    frames = {k: pd.read_csv(folder / f"{k}.csv") for k in DEMO_KINDS}
    for kind, frame in frames.items():
        assert f"{len(frame):,} rows x {frame.shape[1]} columns" in lines[kind][0]
        assert lines[kind][0].lstrip().startswith("ok")
    leads, customers = frames["leads"], frames["customers"]
    assert f"converted rate {leads['converted'].mean():.1%}" in lines["leads"][0]
    assert f"churned rate {customers['churned'].mean():.1%}" in lines["customers"][0]
    opp = frames["opportunities"]
    closed = opp[opp["outcome"].isin(["won", "lost"]) & opp["qualification_at"].notna()]
    win = (closed["outcome"] == "won").mean()
    assert f"win rate among qualified {win:.1%}" in lines["opportunities"][0]
    sales = frames["sales"]
    assert f"{sales['unique_id'].nunique()} series" in lines["sales"][0]
    assert f"{sales['ds'].min()} to {sales['ds'].max()}" in lines["sales"][0]
    assert "no demo experiments found" in out
    # Nothing else was written in the working directory (no mlflow.db, no reports/).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no_experiments", "tmp"]


@pytest.mark.slow
def test_demo_tells_the_whole_story_and_says_where_to_look(tmp_path: Path):
    """Experiments and funnels run, each experiment gets its report, the end names them."""
    exps = tmp_path / "experiments"
    (exps / "churn").mkdir(parents=True)
    (exps / "funnel").mkdir()
    (exps / "churn" / "demo.yaml").write_text(
        "name: tiny-churn\ntask: churn\n"
        "data: {path: ../../data/synthetic/customers.csv, target: churned, id: customer_id}\n"
        "baselines: [prior, control_points]\nmodels: [logistic]\nevaluation: {bootstrap: 60}\n",
        encoding="utf-8",
    )
    (exps / "funnel" / "demo.yaml").write_text(
        "name: tiny\ndata: {path: ../../data/synthetic/opportunities.csv}\n"
        "stages: [prospecting_at, first_contact_at, qualification_at]\n"
        "created: created_at\nclosed: closed_at\noutcome: outcome\n",
        encoding="utf-8",
    )
    env_store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesml",
            "demo",
            "--out",
            "data/synthetic",
            "--experiments",
            str(exps),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        env={**os.environ, "MLFLOW_TRACKING_URI": env_store},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "where to look" in out
    assert "reports/tiny-churn.html" in out and (tmp_path / "reports" / "tiny-churn.html").exists()
    assert "reports/funnel-tiny/funnel.png" in out
    assert f"mlflow ui --backend-store-uri {env_store}" in out
    assert "INFO mlflow" not in out + proc.stderr  # library messages went to the log files
