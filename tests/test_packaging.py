"""pyproject.toml and environment.yml must list the same runtime dependencies; the build is quiet."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)")
_CONDA_NAMES = {"pyyaml": "pyyaml"}


def _name(spec: str) -> str:
    return _NAME.match(spec).group(1).lower().replace("_", "-")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {_name(d): d.replace(" ", "") for d in data["project"]["dependencies"]}


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return {_name(d): d.replace(" ", "") for d in specs}


def test_every_runtime_dependency_is_in_environment_yml():
    missing = sorted(set(_pyproject()) - set(_conda()))
    assert not missing, f"add to environment.yml: {missing}"


def test_version_ranges_agree():
    conda = _conda()
    for name, spec in _pyproject().items():
        assert conda[name][len(name) :] == spec[len(name) :], f"{name}: {conda[name]} vs {spec}"


def test_environment_installs_the_package_and_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python.removeprefix("python") == requires


@pytest.mark.slow
def test_building_the_package_prints_no_warning(tmp_path: Path):
    """``pip install`` builds the package: the build backend must not warn (a deprecated
    licence table printed a deadline on every install)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", str(ROOT), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    noise = [
        line
        for line in (out.stdout + out.stderr).splitlines()
        if "arning" in line or "deprecat" in line
    ]
    assert noise == []
    assert list(tmp_path.glob("salesml-*.whl"))
