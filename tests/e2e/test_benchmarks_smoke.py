"""Smoke test of the benchmarks: `python -m benchmarks --quick` runs two cheap figures and writes the JSON.

It checks the shape of the results, not the numbers: timings on a shared CI machine are not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIGURES = ("layer_size", "e2e_overhead")


def test_quick_benchmarks_write_every_selected_figure(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)]
    for name in FIGURES:
        command += ["--only", name]

    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr[-3000:]
    assert elapsed < 20
    results = json.loads(output.read_text())
    assert results["quick"] is True
    assert set(results["figures"]) == set(FIGURES)
    for figure in results["figures"].values():
        assert figure["measurements"]
        for item in figure["measurements"].values():
            assert item["status"] in {"pass", "fail", "info", "n/a"}
            assert item["target"] is None or item["target"]["text"]
    overhead = results["figures"]["e2e_overhead"]["measurements"]["overhead"]
    assert overhead["status"] in {"pass", "fail"}
    assert overhead["value"] > 0 and overhead["unit"] == "ms"
    assert "e2e_overhead" in done.stdout and "layer_size" in done.stdout
