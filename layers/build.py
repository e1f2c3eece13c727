"""Build the Lambda dependency layer without Docker: `python -m layers.build` (or `make layer`).

pip downloads the manylinux aarch64 wheels for the Lambda runtime's Python straight into
layers/build/python, so any machine (x86_64, macOS) produces the same layer. Nothing is compiled here:
`--only-binary=:all:` refuses source distributions that would build for the wrong platform.

The build is skipped when its inputs are unchanged: requirements.txt, constraints.txt and the pip and
pruning options are hashed into layers/build/.build-hash, written only after a build succeeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LAYER_DIR = Path(__file__).resolve().parent
REQUIREMENTS = LAYER_DIR / "requirements.txt"
CONSTRAINTS = LAYER_DIR / "constraints.txt"
BUILD_DIR = LAYER_DIR / "build"
HASH_FILE_NAME = ".build-hash"

# Must match the Lambda runtime in infra/constructs/functions.py (a test checks that they agree).
PYTHON_VERSION = "3.13"
# Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34), so wheels built for glibc 2.28 load there
# too; Pillow 13 publishes no manylinux2014 wheel for aarch64.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")

# The runtime ships boto3 with these dependencies. Copies in the layer would shadow the runtime's own
# (/opt/python comes first on sys.path), pairing its botocore with an untested urllib3, and cost ~32 MB.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
# Test suites and console scripts are never imported in Lambda; bytecode for the build machine's Python
# would not match the runtime's anyway.
PRUNED_DIR_NAMES = frozenset({"__pycache__", "tests"})

# A regression guard, not the 25 MB we aimed for: mcp 2.3 imports `cryptography` at server import (14 MB)
# and Pillow brings its codecs (21 MB), so the layer measures ~54 MiB unzipped (~17 MiB zipped), well
# inside Lambda's 250 MB. Growing past this means a new heavy dependency: look before raising it.
SIZE_BUDGET_BYTES = 60 * 1024 * 1024


@dataclass(frozen=True)
class BuildResult:
    path: Path
    size_bytes: int
    rebuilt: bool


def pip_platform_args(python_version: str = PYTHON_VERSION) -> list[str]:
    args: list[str] = []
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return [
        *args,
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
    ]


def pip_command(
    target: Path,
    requirements: Path = REQUIREMENTS,
    constraints: Path | None = CONSTRAINTS,
    *,
    python: str = sys.executable,
    python_version: str = PYTHON_VERSION,
) -> list[str]:
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-compile",
        *pip_platform_args(python_version),
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    if constraints is not None and constraints.exists():
        command += ["-c", str(constraints)]
    return command


def lock_command(
    report: Path, requirements: Path = REQUIREMENTS, *, python: str = sys.executable
) -> list[str]:
    return [
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--dry-run",
        "--ignore-installed",
        *pip_platform_args(),
        "--report",
        str(report),
        "-r",
        str(requirements),
    ]


def inputs_hash(requirements: Path = REQUIREMENTS, constraints: Path = CONSTRAINTS) -> str:
    """Everything that decides the layer's content; comments in this script do not count."""
    digest = hashlib.sha256()
    for path in (requirements, constraints):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    recipe = [*pip_platform_args(), *RUNTIME_PROVIDED, *sorted(PRUNED_DIR_NAMES), "--no-compile"]
    digest.update("\0".join(recipe).encode())
    return digest.hexdigest()


def is_current(build_dir: Path = BUILD_DIR, expected_hash: str | None = None) -> bool:
    hash_file = build_dir / HASH_FILE_NAME
    if not (build_dir / "python").is_dir() or not hash_file.is_file():
        return False
    return hash_file.read_text().strip() == (expected_hash or inputs_hash())


def _canonical(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _distribution_name(dist_info: Path) -> str:
    return _canonical(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])


def remove_distribution(site: Path, name: str) -> bool:
    """Delete every file a wheel installed (per its RECORD), then its now-empty folders."""
    wanted = _canonical(name)
    removed = False
    for dist_info in site.glob("*.dist-info"):
        if _distribution_name(dist_info) != wanted:
            continue
        record = dist_info / "RECORD"
        folders: set[Path] = set()
        if record.is_file():
            for line in record.read_text().splitlines():
                relative = line.split(",", 1)[0]
                if not relative:
                    continue
                path = (site / relative).resolve()
                if site.resolve() not in path.parents:
                    continue
                path.unlink(missing_ok=True)
                folders.update(parent for parent in path.parents if site.resolve() in parent.parents)
        for folder in sorted(folders, key=lambda item: len(item.parts), reverse=True):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        shutil.rmtree(dist_info, ignore_errors=True)
        removed = True
    return removed


def prune(site: Path) -> None:
    for name in RUNTIME_PROVIDED:
        remove_distribution(site, name)
    shutil.rmtree(site / "bin", ignore_errors=True)
    for path in sorted(site.rglob("*"), key=lambda item: len(item.parts), reverse=True):
        if path.is_dir() and path.name in PRUNED_DIR_NAMES and path.parent != site:
            shutil.rmtree(path)
        elif path.suffix in {".pyc", ".pyo"}:
            path.unlink()


def tree_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink())


def installed_distributions(site: Path) -> set[str]:
    return {_distribution_name(path) for path in site.glob("*.dist-info")}


def build(build_dir: Path = BUILD_DIR, *, force: bool = False) -> BuildResult:
    expected = inputs_hash()
    target = build_dir / "python"
    if not force and is_current(build_dir, expected):
        return BuildResult(target, tree_size(target), rebuilt=False)
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / HASH_FILE_NAME).unlink(missing_ok=True)
    partial = build_dir / "python.partial"
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(pip_command(partial), check=True)  # noqa: S603 - fixed argv, no shell
    prune(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    (build_dir / HASH_FILE_NAME).write_text(expected + "\n")
    return BuildResult(target, tree_size(target), rebuilt=True)


def lock(requirements: Path = REQUIREMENTS, constraints: Path = CONSTRAINTS) -> list[str]:
    """Resolve the full dependency set for the Lambda platform and pin it in constraints.txt."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        subprocess.run(lock_command(report_path, requirements), check=True)  # noqa: S603
        report = json.loads(report_path.read_text())
    pins = sorted(
        f"{item['metadata']['name'].lower()}=={item['metadata']['version']}" for item in report["install"]
    )
    header = [
        "# Every distribution the layer resolves to, pinned so rebuilds are identical.",
        "# Generated by `python -m layers.build --lock` from requirements.txt; do not edit by hand.",
        f"# Packages in {', '.join(RUNTIME_PROVIDED)} are deleted after install (the runtime has them).",
    ]
    constraints.write_text("\n".join([*header, *pins]) + "\n")
    return pins


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--force", action="store_true", help="rebuild even if the inputs are unchanged")
    parser.add_argument("--lock", action="store_true", help="re-resolve and rewrite constraints.txt")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)
    if args.lock:
        pins = lock()
        print(f"pinned {len(pins)} distributions in {CONSTRAINTS}")
    result = build(args.build_dir, force=args.force or args.lock)
    state = "built" if result.rebuilt else "up to date"
    budget = "within" if result.size_bytes <= SIZE_BUDGET_BYTES else "OVER"
    print(
        f"layer {state}: {result.path} = {result.size_bytes / 1_048_576:.1f} MiB unzipped "
        f"({budget} the {SIZE_BUDGET_BYTES // 1_048_576} MiB budget)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
