"""Results of the benchmarks: measurements with their targets, a rich table, and the same as JSON.

A figure module returns one `FigureResult` holding one or more `Measurement`s. A measurement knows its
value, an optional baseline (then `ratio = value / baseline`), and an optional `Target` that checks either
the value or the ratio. Its status is `pass`/`fail` when it has a target and a value, `info` when it has
no target, and `n/a` when it could not be measured (with a note saying why, never a made-up number).
"""

from __future__ import annotations

import json
import math
import operator
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LATEST = RESULTS_DIR / "latest.json"

Status = Literal["pass", "fail", "info", "n/a"]
Op = Literal["<=", ">=", "<", "=="]

_OPS: dict[Op, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """`on` the value or on the ratio to the baseline, compared with `op` to `threshold`."""

    op: Op
    threshold: float
    on: Literal["value", "ratio"] = "value"
    unit: str = ""

    def check(self, value: float | None, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None or math.isnan(subject):
            return None
        return _OPS[self.op](subject, self.threshold)

    def describe(self) -> str:
        if self.on == "ratio":
            return f"{self.op} {self.threshold:g}x"
        return f"{self.op} {_number(self.threshold)}{f' {self.unit}' if self.unit else ''}"


@dataclass
class Measurement:
    key: str
    label: str
    value: float | None
    unit: str
    target: Target | None = None
    baseline: float | None = None
    baseline_label: str = ""
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    display: str | None = None  # what the table shows instead of "value unit" (e.g. "p50 3 / p99 9 ms")

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def status(self) -> Status:
        if self.value is None:
            return "n/a"
        if self.target is None:
            return "info"
        return "pass" if self.target.check(self.value, self.ratio) else "fail"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": _rounded(self.baseline),
            "baseline_label": self.baseline_label,
            "ratio": _rounded(self.ratio),
            "target": {**asdict(self.target), "text": self.target.describe()} if self.target else None,
            "status": self.status,
            "notes": self.notes,
            "details": _rounded_tree(self.details),
        }


@dataclass
class FigureResult:
    name: str
    title: str
    measured: str  # one sentence: what exactly is timed or counted
    measurements: list[Measurement]
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: bool = False  # the figure raised instead of measuring

    @property
    def status(self) -> Status:
        statuses = {item.status for item in self.measurements}
        if "fail" in statuses:
            return "fail"
        if "pass" in statuses:
            return "pass"
        return "n/a" if statuses <= {"n/a"} else "info"

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "measured": self.measured,
            "status": self.status,
            "error": self.error,
            "parameters": _rounded_tree(self.parameters),
            "measurements": {item.key: item.to_json() for item in self.measurements},
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


# ---------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """n, mean, p50, p95, p99, min and max of durations given in seconds, in milliseconds."""
    ms = [value * 1000 for value in seconds]
    return {
        "n": len(ms),
        "mean_ms": mean(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "min_ms": min(ms) if ms else math.nan,
        "max_ms": max(ms) if ms else math.nan,
    }


# ---------------------------------------------------------------- output

_STYLE: dict[Status, str] = {"pass": "bold green", "fail": "bold red", "info": "cyan", "n/a": "yellow"}


def render(figures: Sequence[FigureResult], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="imagegen benchmarks", show_lines=False, header_style="bold")
    for column in ("figure", "measurement", "value", "baseline", "ratio", "target", "result"):
        table.add_column(column, justify="right" if column in {"value", "baseline", "ratio"} else "left")
    for figure in figures:
        for index, item in enumerate(figure.measurements):
            baseline = f"{_number(item.baseline)} {item.unit}" if item.baseline is not None else "-"
            if item.baseline_label and item.baseline is not None:
                baseline += f"\n({item.baseline_label})"
            table.add_row(
                figure.name if index == 0 else "",
                item.label,
                item.display or (f"{_number(item.value)} {item.unit}" if item.value is not None else "-"),
                baseline,
                f"{item.ratio:.3f}x" if item.ratio is not None else "-",
                item.target.describe() if item.target else "-",
                f"[{_STYLE[item.status]}]{item.status}[/]",
                end_section=index == len(figure.measurements) - 1,
            )
    console.print(table)
    for figure in figures:
        notes = [
            *figure.notes,
            *(f"{item.label}: {note}" for item in figure.measurements for note in item.notes),
        ]
        if notes:
            console.print(f"[bold]{figure.name}[/] — {figure.measured}")
            for note in notes:
                console.print(f"  • {note}", highlight=False)


def document(figures: Sequence[FigureResult], *, quick: bool, argv: Sequence[str]) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "command": " ".join(["python -m benchmarks", *argv]),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "executable": sys.executable,
        },
        "figures": {figure.name: figure.to_json() for figure in figures},
    }


def write_json(doc: dict[str, Any], path: Path = LATEST) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path


def _number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _rounded(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, 4)


def _rounded_tree(data: Any) -> Any:
    if isinstance(data, float):
        return _rounded(data)
    if isinstance(data, dict):
        return {str(key): _rounded_tree(item) for key, item in data.items()}
    if isinstance(data, list | tuple):
        return [_rounded_tree(item) for item in data]
    return data
