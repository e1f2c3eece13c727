"""Reproducible benchmarks of imagegen, each figure with a stated target: `python -m benchmarks`.

One module per figure; each exposes `NAME`, `TITLE` and `run(quick: bool) -> FigureResult`.
`benchmarks.report` prints the table and writes `benchmarks/results/latest.json`.
"""

from __future__ import annotations

# Figure name -> module, in the order they run. Modules are imported only when selected.
FIGURES: dict[str, str] = {
    "wait_latency": "benchmarks.wait_latency",
    "e2e_overhead": "benchmarks.e2e_overhead",
    "cold_start": "benchmarks.cold_start",
    "worker_throughput": "benchmarks.worker_throughput",
    "layer_size": "benchmarks.layer_size",
    "load": "benchmarks.load",
    "batch": "benchmarks.batch",
    "aws_isolation": "benchmarks.aws_isolation",
    "tool_list_size": "benchmarks.tool_list_size",
    "fair_share": "benchmarks.fair_share",
}
