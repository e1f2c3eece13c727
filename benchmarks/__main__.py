"""`python -m benchmarks [--quick] [--only NAME ...] [--output PATH]`: run the figures, print, save JSON.

Figure modules are imported only when selected, so `--only layer_size` does not pay for moto or mcp.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from benchmarks import FIGURES
from benchmarks.report import LATEST, FigureResult, Measurement, document, render, write_json


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="imagegen benchmarks with targets"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes (seconds per figure, about 30 s for all): a smoke test",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        choices=list(FIGURES),
        help=f"run only this figure (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument("--output", type=Path, default=LATEST, help=f"JSON results file (default {LATEST})")
    return parser.parse_args(argv)


def run_figure(name: str, quick: bool) -> FigureResult:
    """Run one figure; a figure that crashes is reported as such and does not stop the others."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(FIGURES[name])
        result: FigureResult = module.run(quick)
    except Exception as exc:
        logging.getLogger("benchmarks").exception("figure %s failed", name)
        result = FigureResult(
            name=name,
            title=name,
            measured="(the figure raised an exception)",
            measurements=[
                Measurement(
                    key="error", label="could not be measured", value=None, unit="", notes=[repr(exc)[:500]]
                )
            ],
            error=True,
        )
    result.seconds = time.perf_counter() - started
    return result


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    # Before anything else configures logging (mcp installs an INFO handler on first use): keep the
    # servers' request logs out of the report.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped or captured: do not squeeze the table into 80 columns
    names = args.only or list(FIGURES)
    results: list[FigureResult] = []
    for name in names:
        console.print(f"[bold]running {name}[/]{' (quick)' if args.quick else ''} ...")
        results.append(run_figure(name, args.quick))
        console.print(f"  done in {results[-1].seconds:.1f} s: {results[-1].status}")
    render(results, console)
    path = write_json(document(results, quick=args.quick, argv=argv), args.output)
    console.print(f"results written to {path}")
    return 1 if any(result.error for result in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
