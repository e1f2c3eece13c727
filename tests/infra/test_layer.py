"""The dependency layer: what goes in, how pip is called, caching and pruning. Nothing is downloaded here
except in the opt-in build test (IMAGEGEN_BUILD_LAYER=1)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from infra.constructs.functions import ARCHITECTURE, RUNTIME
from layers import build

from tests.infra.conftest import REPO_ROOT

RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
# The local server and the CLI; mcp still pulls uvicorn into the layer, but nothing there imports it.
LOCAL_ONLY = {"uvicorn", "typer", "rich"}


def _requirement_lines(path: Path) -> list[str]:
    return [
        line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_given_the_requirements_then_boto3_and_friends_are_left_to_the_runtime() -> None:
    names = {_name(line) for line in _requirement_lines(build.REQUIREMENTS)}

    assert not names & RUNTIME_PROVIDED
    assert {name.replace("_", "-") for name in build.RUNTIME_PROVIDED} >= RUNTIME_PROVIDED


def test_given_the_requirements_then_every_one_is_pinned_exactly() -> None:
    for line in _requirement_lines(build.REQUIREMENTS):
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+(\[[a-z,]+\])?==[0-9][0-9A-Za-z.]*", line), line
    for line in _requirement_lines(build.CONSTRAINTS):
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.+]*", line), line


def test_given_the_requirements_then_they_are_the_project_runtime_deps_minus_local_only_ones() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    project_deps = {_name(dep) for dep in pyproject["project"]["dependencies"]}
    layer_deps = {_name(line) for line in _requirement_lines(build.REQUIREMENTS)}

    assert layer_deps <= project_deps
    assert project_deps - layer_deps == {"boto3"} | LOCAL_ONLY
    assert {"mcp", "mangum", "pydantic", "aws-lambda-powertools", "pillow"} <= layer_deps


def test_given_the_requirements_then_pins_satisfy_the_project_specifiers() -> None:
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    wanted = {_name(dep): Requirement(dep).specifier for dep in pyproject["project"]["dependencies"]}
    for line in _requirement_lines(build.REQUIREMENTS):
        pinned = Requirement(line)
        version = next(iter(pinned.specifier)).version
        assert wanted[_name(line)].contains(version), f"{line} is outside pyproject's {wanted[_name(line)]}"


def test_given_the_pip_command_then_it_fetches_aarch64_wheels_for_the_lambda_python(tmp_path: Path) -> None:
    command = build.pip_command(tmp_path / "python", build.REQUIREMENTS, build.CONSTRAINTS, python="py")

    assert command[:4] == ["py", "-m", "pip", "install"]
    platforms = [command[index + 1] for index, arg in enumerate(command) if arg == "--platform"]
    assert platforms[0] == "manylinux2014_aarch64"
    assert all(platform.endswith("_aarch64") for platform in platforms)
    assert "--only-binary=:all:" in command
    assert command[command.index("--implementation") + 1] == "cp"
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--target") + 1] == str(tmp_path / "python")
    assert command[command.index("-r") + 1] == str(build.REQUIREMENTS)
    assert command[command.index("-c") + 1] == str(build.CONSTRAINTS)
    assert "--no-compile" in command


def test_given_the_layer_python_then_it_is_the_functions_runtime_and_architecture() -> None:
    assert RUNTIME.name == f"python{build.PYTHON_VERSION}"
    assert ARCHITECTURE.name == "arm64"
    assert all("aarch64" in platform for platform in build.PLATFORMS)


def test_given_the_inputs_then_the_hash_changes_with_the_requirements(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    constraints = tmp_path / "constraints.txt"
    requirements.write_text("mcp==2.3.0\n")
    constraints.write_text("anyio==4.0.0\n")

    first = build.inputs_hash(requirements, constraints)
    assert build.inputs_hash(requirements, constraints) == first
    requirements.write_text("mcp==2.3.1\n")
    assert build.inputs_hash(requirements, constraints) != first


def test_given_a_build_dir_then_it_is_current_only_with_the_matching_hash(tmp_path: Path) -> None:
    assert not build.is_current(tmp_path, "abc")
    (tmp_path / "python").mkdir()
    assert not build.is_current(tmp_path, "abc")
    (tmp_path / build.HASH_FILE_NAME).write_text("abc\n")
    assert build.is_current(tmp_path, "abc")
    assert not build.is_current(tmp_path, "def")


def _fake_wheel(site: Path, name: str, version: str, files: list[str]) -> None:
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    record = [*files, f"{dist_info.name}/METADATA", f"{dist_info.name}/RECORD"]
    for relative in files:
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text("x = 1\n")
    (dist_info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")
    (dist_info / "RECORD").write_text("".join(f"{line},,\n" for line in record))


def test_given_an_installed_tree_then_prune_drops_runtime_packages_tests_and_bytecode(tmp_path: Path) -> None:
    site = tmp_path / "python"
    _fake_wheel(site, "botocore", "1.40.0", ["botocore/__init__.py", "botocore/data/s3/service.json"])
    _fake_wheel(site, "python_dateutil", "2.9.0", ["dateutil/__init__.py"])
    _fake_wheel(site, "six", "1.17.0", ["six.py"])
    _fake_wheel(site, "mcp", "2.3.0", ["mcp/__init__.py", "mcp/tests/test_x.py", "mcp/__pycache__/a.pyc"])
    (site / "bin").mkdir()
    (site / "bin" / "uvicorn").write_text("#!/bin/sh\n")

    build.prune(site)

    assert build.installed_distributions(site) == {"mcp"}
    assert sorted(path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()) == [
        "mcp-2.3.0.dist-info/METADATA",
        "mcp-2.3.0.dist-info/RECORD",
        "mcp/__init__.py",
    ]


def test_given_a_tree_then_its_size_counts_every_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.bin").write_bytes(b"x" * 1000)
    (tmp_path / "c.bin").write_bytes(b"y" * 24)

    assert build.tree_size(tmp_path) == 1024


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("IMAGEGEN_BUILD_LAYER") != "1", reason="downloads wheels; set IMAGEGEN_BUILD_LAYER=1"
)
def test_given_a_real_build_then_the_layer_has_no_boto_and_fits_the_budget(tmp_path: Path) -> None:
    result = build.build(tmp_path, force=True)

    installed = build.installed_distributions(result.path)
    assert not installed & {"boto3", "botocore", "s3transfer"}
    assert {"mcp", "mangum", "pydantic_core", "aws_lambda_powertools", "pillow"} <= installed
    assert not list(result.path.rglob("__pycache__"))
    assert build.is_current(tmp_path)
    print(f"layer size: {result.size_bytes / 1_048_576:.1f} MiB unzipped")
    assert result.size_bytes <= build.SIZE_BUDGET_BYTES


def test_given_the_handlers_then_they_import_without_the_local_only_packages() -> None:
    # The layer leaves out the CLI's packages and the code asset leaves out the CLI and the emulation; a
    # handler importing one would fail on its first cold start.
    script = (
        "import sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'typer', 'rich', 'moto', 'respx', 'pytest', 'awslambdaric'}:\n"
        "            raise ImportError('not in the Lambda layer: ' + name)\n"
        "        if name.startswith(('imagegen.cli', 'imagegen.emulator', 'imagegen.fakes')):\n"
        "            raise ImportError('not in the Lambda code asset: ' + name)\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "import mcp_api.handler, image_worker.handler\n"
    )
    functions = REPO_ROOT / "functions"
    env = {**os.environ, "PYTHONPATH": str(functions), "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
