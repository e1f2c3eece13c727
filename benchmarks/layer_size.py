"""Figure 5 — layer size: the unzipped size of the Lambda dependency layer built by `layers/build.py`.

Lambda limits a function plus its layers to 250 MB unzipped, and every MB is read from disk on a cold
start; the issue's target is 25 MB (decimal megabytes). `layers.build.SIZE_BUDGET_BYTES` is the build's
own regression guard and is reported beside it. This figure only measures an existing build (`layers/build/python`, summed the way `layers.build` sums it); it never
builds or downloads anything. Without a build it says how to make one and reports "not built".
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import FigureResult, Measurement, Target

NAME = "layer_size"
TITLE = "Dependency layer size"

MB = 1_000_000
MIB = 1024 * 1024
TARGET_MB = 25.0
TOP_ENTRIES = 6


def run(quick: bool) -> FigureResult:
    try:
        from layers import build
    except ImportError:
        return _unavailable("layers/build.py is not there yet: no layer build to measure")

    target = Target("<=", TARGET_MB, unit="MB")
    site = build.BUILD_DIR / "python"
    if not site.is_dir():
        return _unavailable(
            f"not built: run `python -m layers.build` (pip downloads the aarch64 wheels into {site})", target
        )

    size = build.tree_size(site)
    entries = sorted(
        ((build.tree_size(path) if path.is_dir() else path.stat().st_size, path) for path in site.iterdir()),
        reverse=True,
    )
    top = [f"{path.name} {entry_size / MB:.1f}" for entry_size, path in entries[:TOP_ENTRIES]]
    notes = [
        f"largest entries (MB): {', '.join(top)}",
        f"{size / MIB:.1f} MiB; layers/build.py's own guard is {build.SIZE_BUDGET_BYTES / MIB:g} MiB",
    ]
    if not build.is_current(build.BUILD_DIR):
        notes.append(
            "the build is older than layers/requirements.txt, constraints.txt or build.py: rebuild it"
        )
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="sum of file sizes under layers/build/python (unzipped)",
        parameters={"path": str(_relative(site))},
        measurements=[
            Measurement(
                key="unzipped",
                label="layer unzipped",
                value=size / MB,
                unit="MB",
                target=target,
                notes=notes,
                details={
                    "bytes": size,
                    "mebibytes": size / MIB,
                    "top_entries_bytes": {
                        path.name: entry_size for entry_size, path in entries[:TOP_ENTRIES]
                    },
                },
            )
        ],
    )


def _unavailable(reason: str, target: Target | None = None) -> FigureResult:
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="sum of file sizes under layers/build/python (unzipped)",
        measurements=[
            Measurement(
                key="unzipped",
                label="layer unzipped",
                value=None,
                unit="MB",
                target=target or Target("<=", TARGET_MB, unit="MB"),
                notes=[reason],
            )
        ],
    )


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
