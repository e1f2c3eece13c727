"""Node scripts that drive a client and print one JSON report as their last line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def run_node_report(
    node: str, script: Path, *arguments: str, timeout: float = 180, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [node, str(script), *arguments], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stdout + result.stderr
    return result.returncode, json.loads(lines[-1])
