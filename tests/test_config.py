"""Tests for salesml.experiment.config: loading, ``--set`` overrides, and clear errors (also via the CLI)."""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT
from salesml.classify.config import ClassificationExperiment
from salesml.cli import app
from salesml.errors import ConfigError
from salesml.experiment.config import load_experiment

# experiments/funnel/ holds funnel analyses (salesml funnel), tested in tests/funnel.
EXPERIMENTS = sorted(
    p for p in (ROOT / "experiments").glob("*/*.yaml") if p.parent.name != "funnel"
)

BASE: dict[str, Any] = {
    "name": "unit",
    "task": "churn",
    "data": {"path": "customers.csv", "target": "churned", "id": "customer_id"},
    "baselines": ["prior"],
    "models": ["logistic", "lightgbm"],
}


def experiment(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with top-level keys replaced (``None`` removes a key)."""
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def config_error(path: Path, overrides: list[str] | None = None) -> str:
    """Load ``path``, expect a ConfigError naming the file, return its one-line message."""
    with pytest.raises(ConfigError) as info:
        load_experiment(path, overrides)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message.strip(), f"message spans several lines: {message!r}"
    return message.replace(str(path), "<file>")  # fragments must not match the path


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


# --- the shipped experiments ------------------------------------------------------------


def test_experiments_are_found():
    names = {p.relative_to(ROOT / "experiments").as_posix() for p in EXPERIMENTS}
    assert {"churn/demo.yaml", "churn/telco.yaml", "lead_conversion/demo.yaml"} <= names


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_experiment_loads(path: Path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg = load_experiment(path)
    assert cfg.name == raw["name"]
    assert cfg.source == path.resolve()
    assert cfg.data.path.is_absolute()
    assert cfg.data.path == (path.parent / raw["data"]["path"]).resolve()
    assert cfg.data.path.exists() or cfg.data.generate is not None
    if getattr(cfg.data, "label_from", None) is not None:
        assert (
            cfg.data.label_from.path == (path.parent / raw["data"]["label_from"]["path"]).resolve()
        )
        assert cfg.data.label_from.path.exists()
    for role in ("baselines", "models"):
        listed = raw.get(role) or []
        got = getattr(cfg, role)
        assert len(got) == len(listed)
        for entry, cand in zip(listed, got, strict=True):
            if isinstance(entry, str):
                assert (cand.type, cand.name) == (entry, entry)
            else:
                assert cand.type == entry["type"]
                assert cand.name == entry.get("name", entry["type"])
    assert cfg.candidates


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_experiment_columns_exist_in_its_data(path: Path):
    """Config and data must not drift apart: every column a config names is in the file."""
    cfg = load_experiment(path)
    dc = cfg.data
    if dc.path.exists():
        columns = set(header(dc.path)) if dc.path.suffix == ".csv" else set()
    else:
        from salesml.synthetic import GENERATORS

        columns = set(GENERATORS[dc.generate.kind](50, dc.generate.seed).columns)
    assert columns, f"cannot read the columns of {dc.path}"
    if hasattr(dc, "customer"):  # a transaction log (customer_value)
        named = {c for c in (dc.customer, dc.time, dc.value, dc.quantity, dc.invoice) if c}
        assert named <= columns, f"{path}: not in {dc.path.name}: {sorted(named - columns)}"
        return
    if hasattr(dc, "duration"):  # customers with a duration and an event (churn_survival)
        named = {c for c in (dc.duration, dc.event, dc.id, dc.value) if c} | set(dc.drop)
        named |= {col for _, c in cfg.candidates for col in (c.params.get("by") or [])}
        named |= {col for _, c in cfg.candidates for col in (c.params.get("strata") or [])}
        assert named <= columns, f"{path}: not in {dc.path.name}: {sorted(named - columns)}"
        return
    roles = getattr(dc, "columns", None)  # an export read by roles (bookings)
    if roles is not None:
        if getattr(dc, "join", None) is not None:
            columns |= set(header(dc.join.path))
        named = {v for v in roles.model_dump().values() if v}
        assert named <= columns, f"{path}: not in {dc.path.name}: {sorted(named - columns)}"
        return
    named = set(dc.id_columns) | ({dc.time} if dc.time else set())
    named |= {r.column for _, c in cfg.candidates for r in getattr(c, "rules", [])}
    named |= set(getattr(dc, "drop", [])) | set(getattr(dc, "exog", []))
    if getattr(dc, "label_from", None) is not None:
        assert dc.target not in columns
        assert dc.label_from.key in columns
        assert dc.label_from.key in header(dc.label_from.path)
    else:
        named.add(dc.target)
    assert named <= columns, f"{path}: not in {dc.path.name}: {sorted(named - columns)}"


# --- valid configs ----------------------------------------------------------------------


def test_relative_paths_resolve_against_the_yaml_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "exp" / "churn"
    folder.mkdir(parents=True)
    path = folder / "e.yaml"
    data = {
        "path": "../../data/c.csv",
        "target": "churned",
        "label_from": {"path": "keys/closed.csv", "key": "customer_id"},
    }
    path.write_text(yaml.safe_dump(experiment(data=data)), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    cfg = load_experiment(Path("..") / "exp" / "churn" / "e.yaml")
    assert cfg.data.path == (tmp_path / "data" / "c.csv").resolve()
    assert cfg.data.label_from.path == (folder / "keys" / "closed.csv").resolve()
    assert cfg.source == path.resolve()


def test_absolute_data_path_is_kept(write_yaml, tmp_path: Path):
    target = tmp_path / "somewhere" / "c.csv"
    cfg = load_experiment(write_yaml(experiment(data={"path": str(target), "target": "y"})))
    assert cfg.data.path == target


def test_bare_candidate_strings_normalise_and_names_default_to_type(write_yaml):
    raw = experiment(
        baselines=["prior", {"type": "control_points"}],
        models=["logistic", {"type": "lightgbm", "name": "gbm"}],
    )
    cfg = load_experiment(write_yaml(raw))
    assert [(role, c.type, c.name) for role, c in cfg.candidates] == [
        ("baseline", "prior", "prior"),
        ("baseline", "control_points", "control_points"),
        ("model", "logistic", "logistic"),
        ("model", "lightgbm", "gbm"),
    ]
    dumped = cfg.resolved_dict()
    assert dumped["baselines"][0]["type"] == "prior"
    assert dumped["baselines"][0]["name"] == "prior"
    assert dumped["models"][1]["name"] == "gbm"


def test_resolved_dict_round_trips(write_yaml, tmp_path: Path):
    rules = [
        {"column": "plan", "in": ["basic", "pro"], "points": 10},
        {"column": "tenure", "lt": 6, "points": 20},
        {"column": "nps", "missing": True, "points": 5},
    ]
    raw = experiment(
        baselines=["prior", {"type": "scorecard", "name": "retention", "rules": rules}],
        models=[{"type": "lightgbm", "search": {"n_trials": 4, "cv": 2}}],
    )
    cfg = load_experiment(write_yaml(raw))
    dumped = cfg.resolved_dict()
    assert "source" not in dumped and "_source" not in dumped
    json.dumps(dumped)  # plain data only
    assert dumped["baselines"][1]["rules"][0]["in"] == ["basic", "pro"]
    assert dumped["data"]["path"] == str(cfg.data.path)

    again = ClassificationExperiment.model_validate(dumped)
    assert again.resolved_dict() == dumped
    assert again.baselines[1].rules[0].in_ == ["basic", "pro"]

    # Through a YAML file in another folder: absolute paths survive unchanged.
    other = tmp_path / "other"
    other.mkdir()
    copy_path = other / "resolved.yaml"
    copy_path.write_text(yaml.safe_dump(dumped), encoding="utf-8")
    assert load_experiment(copy_path).resolved_dict() == dumped


def test_levels_are_sorted_and_deduplicated(write_yaml):
    cfg = load_experiment(write_yaml(_forecast(levels=[95, 50, 95, 80])))
    assert cfg.levels == [50, 80, 95]


# --- --set overrides --------------------------------------------------------------------


def test_override_nested_numeric_values(write_yaml):
    path = write_yaml(experiment(split={"method": "stratified", "test_size": 0.25}))
    cfg = load_experiment(path, ["split.test_size=0.3", "split.seed=7", "evaluation.bootstrap=200"])
    assert cfg.split.test_size == pytest.approx(0.3)
    assert isinstance(cfg.split.test_size, float)
    assert cfg.split.seed == 7
    assert cfg.evaluation.bootstrap == 200
    assert cfg.split.method == "stratified"  # siblings untouched


def test_override_replaces_a_whole_list(write_yaml):
    path = write_yaml(experiment())
    cfg = load_experiment(path, ["models=[logistic]", "baselines=[prior, control_points]"])
    assert [c.name for c in cfg.models] == ["logistic"]
    assert [c.name for c in cfg.baselines] == ["prior", "control_points"]


def test_override_creates_missing_nested_keys(write_yaml, tmp_path: Path):
    raw = experiment()
    assert "label_from" not in raw["data"] and "evaluation" not in raw
    path = write_yaml(raw)
    cfg = load_experiment(
        path,
        [
            "data.label_from.path=keys.csv",
            "data.label_from.key=customer_id",
            "evaluation.confidence=0.9",
        ],
    )
    assert cfg.data.label_from.key == "customer_id"
    assert cfg.data.label_from.path == (tmp_path / "keys.csv").resolve()
    assert cfg.evaluation.confidence == pytest.approx(0.9)


def test_override_into_a_list_item(write_yaml):
    path = write_yaml(experiment(models=[{"type": "logistic"}]))
    cfg = load_experiment(path, ["models.0.params.C=0.5", "models.0.name=lr"])
    assert cfg.models[0].params == {"C": 0.5}
    assert cfg.models[0].name == "lr"


def test_override_strings_and_the_file_is_not_modified(write_yaml):
    path = write_yaml(experiment())
    before = path.read_bytes()
    cfg = load_experiment(path, ["data.target=Churn", "data.positive='Yes'", "name=other"])
    assert (cfg.data.target, cfg.data.positive, cfg.name) == ("Churn", "Yes", "other")
    assert path.read_bytes() == before
    assert load_experiment(path).name == "unit"


@pytest.mark.parametrize("item", ["foo", "=3", "  =3", "", "split.test_size"])
def test_malformed_override_is_a_config_error(write_yaml, item: str):
    message = config_error(write_yaml(experiment()), [item])
    assert repr(item) in message
    assert "key.sub=value" in message


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ("models.x=1", "models.x"),  # a list indexed by a name
        ("models.9=prior", "models.9"),  # index out of range
        ("name.sub=3", "name.sub"),  # through a scalar
        ("split.test_size=[0.3", "not a valid YAML value"),
    ],
)
def test_override_that_cannot_be_applied_is_a_config_error(write_yaml, item: str, fragment: str):
    message = config_error(write_yaml(experiment()), [item])
    assert fragment in message


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("split.sed=1", "split.sed"),
        ("split.test_size=2", "split.test_size"),
        ("models=[prophet]", "models"),
    ],
)
def test_override_producing_an_invalid_config_names_the_key(write_yaml, item: str, key: str):
    message = config_error(write_yaml(experiment()), [item])
    assert key in message


# --- config errors name the file and the key --------------------------------------------


def _forecast(**changes: Any) -> dict[str, Any]:
    raw = experiment(task="forecast", baselines=["naive"], models=None)
    raw["data"] = {"path": "s.csv", "target": "y", "id": "store", "time": "ds"}
    raw["horizon"] = 4
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def _data(**changes: Any) -> dict[str, Any]:
    return {**BASE["data"], **changes}


ERRORS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown top-level key": (experiment(colour="blue"), ["colour", "unknown key"]),
    "unknown nested key": (experiment(split={"sed": 1}), ["split.sed", "unknown key"]),
    "unknown data key": (experiment(data=_data(tagret="x")), ["data.tagret", "unknown key"]),
    "unknown candidate key": (
        experiment(baselines=[{"type": "prior", "parms": {}}]),
        ["baselines.0.parms", "unknown key"],
    ),
    "unknown model type": (experiment(models=["prophet"]), ["models", "'prophet'", "'churn'"]),
    "forecast baseline in churn": (experiment(baselines=["naive"]), ["baselines", "'naive'"]),
    "classification baseline in forecast": (
        _forecast(baselines=["prior"]),
        ["baselines", "'prior'", "'forecast'"],
    ),
    "scorecard without rules": (
        experiment(baselines=[{"type": "scorecard", "name": "bant"}]),
        ["baselines.0.rules", "required"],
    ),
    "rule without condition": (
        experiment(baselines=[{"type": "scorecard", "rules": [{"column": "tenure", "points": 5}]}]),
        ["baselines.0.rules.0", "'tenure'", "no condition"],
    ),
    "duplicate names": (experiment(baselines=["prior", "prior"]), ["unique", "prior"]),
    "duplicate names across roles": (
        experiment(models=[{"type": "logistic", "name": "prior"}]),
        ["unique", "prior"],
    ),
    "no candidates": (experiment(baselines=[], models=None), ["no baselines", "no models"]),
    "forecast without id/time/horizon": (
        _forecast(data={"path": "s.csv", "target": "y"}, horizon=None),
        ["data.id: Field required", "data.time: Field required", "horizon: Field required"],
    ),
    "forecast without horizon": (_forecast(horizon=None), ["horizon: Field required"]),
    "forecast without time": (
        _forecast(data={"path": "s.csv", "target": "y", "id": "store"}),
        ["data.time: Field required"],
    ),
    "time split without data.time": (
        experiment(split={"method": "time"}),
        ["split.method", "data.time"],
    ),
    "invalid task": (experiment(task="regression"), ["task:", "'regression'", "'churn'"]),
    "missing task": (experiment(task=None), ["task: missing", "'forecast'"]),
    "test_size zero": (experiment(split={"test_size": 0}), ["split.test_size"]),
    "test_size one": (experiment(split={"test_size": 1}), ["split.test_size"]),
    "test_size negative": (experiment(split={"test_size": -0.2}), ["split.test_size"]),
    "levels zero": (_forecast(levels=[0, 95]), ["levels", "between 0 and 100"]),
    "levels hundred": (_forecast(levels=[80, 100]), ["levels", "between 0 and 100"]),
    # Every key that does not apply to the task or the candidate is refused.
    "forecast key in churn": (
        experiment(horizon=4),
        ["horizon: unknown key", "applies to forecast experiments, not churn"],
    ),
    "levels in churn": (experiment(levels=[80]), ["levels: unknown key"]),
    "backtest in churn": (experiment(backtest={"windows": 2}), ["backtest: unknown key"]),
    "classification data key in forecast": (
        _forecast(data={"path": "s.csv", "target": "y", "id": "s", "time": "d", "positive": 1}),
        ["data.positive", "unknown key"],
    ),
    "label_from in forecast": (
        _forecast(data={"path": "s.csv", "target": "y", "id": "s", "time": "d", "label_from": {}}),
        ["data.label_from", "unknown key"],
    ),
    "split in forecast": (_forecast(split={"method": "time"}), ["split: unknown key"]),
    "rules on prior": (
        experiment(baselines=[{"type": "prior", "rules": [{"column": "a", "eq": 1, "points": 1}]}]),
        ["baselines.0.rules", "unknown key for prior", "type, name, params"],
    ),
    "search on a baseline": (
        experiment(baselines=[{"type": "control_points", "search": {"n_trials": 2}}]),
        ["baselines.0.search", "unknown key for control_points"],
    ),
    "rules on logistic": (
        experiment(models=[{"type": "logistic", "rules": []}]),
        ["models.0.rules", "unknown key for logistic", "search, calibration"],
    ),
    "unknown param of a baseline": (
        experiment(baselines=[{"type": "control_points", "params": {"bins": 3}}]),
        ["baselines.0", "'bins'", "did you mean 'n_bins'", "control_points accepts n_bins"],
    ),
    "unknown estimator param": (
        experiment(models=[{"type": "lightgbm", "params": {"num_leavs": 31}}]),
        ["models.0", "'num_leavs'", "did you mean 'num_leaves'", "LGBMClassifier"],
    ),
    "unknown logistic param": (
        experiment(models=[{"type": "logistic", "params": {"alpha": 1.0}}]),
        ["models.0", "'alpha'", "LogisticRegression"],
    ),
    "param of the wrong type": (
        experiment(baselines=[{"type": "control_points", "params": {"n_bins": "five"}}]),
        ["baselines.0", "n_bins"],
    ),
    "unknown forecast param": (
        _forecast(models=[{"type": "auto_ets", "params": {"trend": "A"}}]),
        ["models.0", "'trend'", "auto_ets accepts model, damped"],
    ),
    "calibration on a forecast model": (
        _forecast(models=[{"type": "auto_ets", "calibration": "isotonic"}]),
        ["models.0.calibration", "unknown key for auto_ets"],
    ),
    "model listed as a baseline": (
        experiment(baselines=["lightgbm"]),
        ["baselines", "'lightgbm' is a model; list it under models"],
    ),
    "baseline listed as a model": (
        _forecast(models=["naive"]),
        ["models", "'naive' is a baseline; list it under baselines"],
    ),
    "missing data": (experiment(data=None), ["data:"]),
    "missing target": (experiment(data={"path": "c.csv"}), ["data.target"]),
    "empty name": (experiment(name=""), ["name:"]),
    "models not a list": (experiment(models="logistic"), ["models:", "list"]),
    "search out of range": (
        experiment(models=[{"type": "lightgbm", "search": {"n_trials": 0}}]),
        ["models.0.search.n_trials"],
    ),
    "bootstrap too small": (experiment(evaluation={"bootstrap": 10}), ["evaluation.bootstrap"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_config_error_names_file_and_key(write_yaml, case: str):
    raw, fragments = ERRORS[case]
    message = config_error(write_yaml(raw))
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_valid_forecast_config_loads(write_yaml):
    """The forecast error cases above are errors only for what they remove."""
    cfg = load_experiment(write_yaml(_forecast()))
    assert cfg.horizon == 4 and cfg.family == "forecast"


def test_a_forecast_config_without_candidates_gets_the_registry_defaults(write_yaml):
    from salesml.forecast.registry import DEFAULTS

    cfg = load_experiment(write_yaml(_forecast(baselines=None)))
    assert [c.type for c in cfg.baselines] == list(DEFAULTS["baselines"])
    assert [c.type for c in cfg.models] == list(DEFAULTS["models"])
    assert {c.type for c in cfg.baselines} <= {"naive", "seasonal_naive", "moving_average",
                                                "last_year_growth"}  # fmt: skip
    # listing either role turns the defaults off: the config says what it wants
    only_naive = load_experiment(write_yaml(_forecast()))
    assert [c.type for c in only_naive.baselines] == ["naive"] and only_naive.models == []


def test_missing_config_file(tmp_path: Path):
    message = config_error(tmp_path / "nope.yaml")
    assert "not found" in message


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_config_file(tmp_path: Path, text: str):
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    assert "empty" in config_error(path)


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just words\n", "str")])
def test_config_that_is_not_a_mapping(tmp_path: Path, text: str, kind: str):
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    message = config_error(path)
    assert "mapping" in message and kind in message


def test_invalid_yaml_names_the_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ntask: churn\ndata: {path: a.csv, target: [y\n", encoding="utf-8")
    message = config_error(path)
    assert "not valid YAML" in message
    assert "line " in message


def test_config_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\ntask: churn\n".encode("latin-1"))
    assert "UTF-8" in config_error(path)


def test_config_error_is_a_value_error(tmp_path: Path):
    with pytest.raises(ValueError):
        load_experiment(tmp_path / "missing.yaml")


# --- through the CLI: exit 2, one paragraph on stderr, no traceback ----------------------

ROWS = [
    (f"C{i:03d}", i % 24, "pro" if i % 3 else "basic", "yes" if i % 4 == 0 else "no")
    for i in range(40)
]


def write_csv(path: Path, rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


COLUMNS = ("customer_id", "tenure", "plan", "churned")


@pytest.fixture
def churn_setup(tmp_path: Path, tracking: str):
    """Write customers.csv (editable) and an experiment next to it; return a writer."""
    data = tmp_path / "customers.csv"
    write_csv(data, ROWS, COLUMNS)

    def _setup(**data_changes: Any) -> tuple[Path, Path]:
        raw = experiment(
            data={**_data(positive="yes"), **data_changes},
            models=None,
            baselines=["prior"],
        )
        path = tmp_path / "experiment.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        return path, data

    return _setup


def cli_error(args: list[str], named: Path) -> str:
    """Invoke the CLI, expect exit 2 and a one-line error on stderr naming ``named``.

    Returns the message with that path replaced, so fragments cannot match the path.
    """
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("error:"), err
    assert len(err.splitlines()) == 1, f"not one paragraph: {err!r}"
    assert str(named) in err
    return err.replace(str(named), "<file>")


def test_cli_unknown_key(churn_setup):
    path, _ = churn_setup(tagret="churned")
    err = cli_error(["run", str(path)], path)
    assert "data.tagret" in err and "unknown key" in err


def test_cli_missing_config_file(tmp_path: Path, tracking: str):
    path = tmp_path / "missing.yaml"
    err = cli_error(["run", str(path)], path)
    assert "not found" in err


def test_cli_invalid_yaml(tmp_path: Path, tracking: str):
    path = tmp_path / "bad.yaml"
    path.write_text("name: [x\n", encoding="utf-8")
    err = cli_error(["run", str(path)], path)
    assert "not valid YAML" in err


def test_cli_malformed_set(churn_setup):
    path, _ = churn_setup()
    err = cli_error(["run", str(path), "--set", "split.test_size"], path)
    assert "split.test_size" in err


def test_cli_missing_data_file(churn_setup):
    path, data = churn_setup()
    data.unlink()
    err = cli_error(["run", str(path)], data)
    assert "not found" in err


def test_cli_target_not_in_data(churn_setup):
    path, data = churn_setup(target="Churn")
    err = cli_error(["run", str(path)], data)
    assert "'Churn'" in err and "churned" in err  # lists what exists


def test_cli_non_binary_target(churn_setup):
    path, data = churn_setup()
    rows = [(*r[:3], "maybe" if i % 5 == 1 else r[3]) for i, r in enumerate(ROWS)]
    write_csv(data, rows, COLUMNS)
    err = cli_error(["run", str(path)], data)
    assert "'churned'" in err and "3 distinct" in err and "binary" in err


def test_cli_positive_label_never_occurs(churn_setup):
    path, data = churn_setup(positive="Yes")
    err = cli_error(["run", str(path)], data)
    assert "'Yes'" in err and "'churned'" in err and "never occurs" in err


def test_cli_duplicate_ids(churn_setup):
    path, data = churn_setup()
    write_csv(data, [*ROWS, ROWS[7]], COLUMNS)
    err = cli_error(["run", str(path)], data)
    assert "customer_id" in err and "C007" in err and "unique" in err


def test_cli_empty_data_file(churn_setup):
    path, data = churn_setup()
    data.write_bytes(b"")
    err = cli_error(["run", str(path)], data)
    assert "empty" in err


def test_cli_header_only_data_file(churn_setup):
    path, data = churn_setup()
    write_csv(data, [], COLUMNS)
    err = cli_error(["run", str(path)], data)
    assert "no data rows" in err


def test_cli_error_keeps_brackets_in_column_names(churn_setup):
    """Messages are printed literally, not as rich markup: ``[usd]`` must survive."""
    path, data = churn_setup(target="revenue")
    write_csv(data, ROWS, ("customer_id", "charge [usd]", "plan", "churned"))
    err = cli_error(["run", str(path)], data)
    assert "charge [usd]" in err


@pytest.mark.parametrize(
    ("case", "fragments"),
    [("duplicate ids", ["customer_id", "C007"]), ("invalid yaml", ["not valid YAML"])],
)
def test_cli_error_in_a_real_process(churn_setup, case: str, fragments: list[str]):
    path, data = churn_setup()
    if case == "duplicate ids":
        write_csv(data, [*ROWS, ROWS[7]], COLUMNS)
        named = data
    else:
        path.write_text("name: [x\n", encoding="utf-8")
        named = path
    proc = subprocess.run(
        [sys.executable, "-m", "salesml", "run", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:") and str(named) in err
    err = err.replace(str(named), "<file>")
    for fragment in fragments:
        assert fragment in err
