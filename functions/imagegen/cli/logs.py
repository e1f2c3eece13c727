"""`imagegen logs`: tail the deployed functions' CloudWatch logs, pretty-printed.

The log groups are found from the stack's outputs and read through boto3, so no AWS CLI is needed. The
same rendering shows the emulated functions' lines in `imagegen serve --backend aws`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from imagegen.cli.console import console, out

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

DEFAULT_STACK = "imagegen-dev"
# Output keys of the CDK stack (infra/outputs.py); the deployed stack is found by these names.
API_LOG_GROUP_OUTPUT = "ApiLogGroupName"
WORKER_LOG_GROUP_OUTPUT = "WorkerLogGroupName"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def register(app: typer.Typer) -> None:
    app.command("logs")(logs_command)


def parse_since(value: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)
    if not match:
        raise typer.BadParameter("use a number and a unit: 30s, 10m, 2h or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    unit_name = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]
    return timedelta(**{unit_name: amount})


def find_log_groups(cloudformation: Any, stack: str) -> dict[str, str]:
    """The functions' log groups, by short name, from the stack's outputs."""
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    groups = {
        name: outputs[key]
        for name, key in (("api", API_LOG_GROUP_OUTPUT), ("worker", WORKER_LOG_GROUP_OUTPUT))
        if key in outputs
    }
    if not groups:
        raise LookupError(f"stack {stack} has no {API_LOG_GROUP_OUTPUT} or {WORKER_LOG_GROUP_OUTPUT} output")
    return groups


@dataclass(frozen=True)
class LogLine:
    timestamp: int
    source: str
    event_id: str
    message: str

    @property
    def record(self) -> dict[str, Any] | None:
        try:
            parsed = json.loads(self.message)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def level(self) -> str | None:
        record = self.record
        level = record.get("level") if record else None
        return str(level).upper() if level else None


def fetch_events(
    client: CloudWatchLogsClient, groups: Mapping[str, str], start_ms: int, pattern: str | None
) -> list[LogLine]:
    lines: list[LogLine] = []
    for source, group in groups.items():
        paginator = client.get_paginator("filter_log_events")
        request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if pattern:
            request["filterPattern"] = pattern
        for page in paginator.paginate(**request):
            lines += [
                LogLine(
                    timestamp=int(event.get("timestamp", 0)),
                    source=source,
                    event_id=str(event.get("eventId", "")),
                    message=str(event.get("message", "")).rstrip("\n"),
                )
                for event in page.get("events", [])
            ]
    return sorted(lines, key=lambda line: (line.timestamp, line.event_id))


def passes_level(line: LogLine, minimum: str) -> bool:
    level = line.level
    if level is None:  # Lambda platform lines (START, END, REPORT) count as INFO
        level = "INFO"
    rank = LEVELS.index(level) if level in LEVELS else LEVELS.index("INFO")
    return rank >= LEVELS.index(minimum)


_LEVEL_STYLES = {
    "DEBUG": "dim",
    "INFO": "green",
    "WARNING": "yellow",
    "ERROR": "bold red",
    "CRITICAL": "bold red",
}
_HIDDEN_KEYS = {
    "level",
    "message",
    "timestamp",
    "location",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
}


def render(line: LogLine) -> Text:
    moment = datetime.fromtimestamp(line.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    text = Text.assemble((moment, "dim"), " ", (f"{line.source:<6}", "cyan"), " ")
    record = line.record
    if record is None:
        return text.append(line.message, style="dim")
    level = line.level or "INFO"
    text.append(f"{level:<7}", style=_LEVEL_STYLES.get(level, ""))
    text.append(" ")
    text.append(str(record.get("message", "")), style="bold" if level in ("ERROR", "CRITICAL") else "")
    for key, value in record.items():
        if key in _HIDDEN_KEYS or value in (None, "", [], {}):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        if key == "exception":
            text.append("\n" + str(shown), style="red")
            continue
        text.append(f"  {key}=", style="dim")
        text.append(str(shown)[:300], style="magenta" if key in ("job_id", "job_ids") else "")
    return text


def tail(
    client: CloudWatchLogsClient,
    groups: Mapping[str, str],
    *,
    since: timedelta,
    job_id: str | None,
    level: str,
    follow: bool,
    poll_seconds: float = 2.0,
    now: Any = time.time,
) -> Iterator[LogLine]:
    """Matching lines in time order; with `follow`, keep polling for new ones."""
    pattern = f'"{job_id}"' if job_id else None
    start_ms = int((now() - since.total_seconds()) * 1000)
    seen: set[str] = set()
    while True:
        for line in fetch_events(client, groups, start_ms, pattern):
            if line.event_id in seen or not passes_level(line, level):
                continue
            seen.add(line.event_id)
            start_ms = max(start_ms, line.timestamp)
            yield line
        if not follow:
            return
        time.sleep(poll_seconds)


def logs_command(
    stack: Annotated[str, typer.Option(help="CloudFormation stack name (imagegen-<stage>)")] = DEFAULT_STACK,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    since: Annotated[str, typer.Option(help="How far back to start: 30s, 10m, 2h, 1d")] = "10m",
    job_id: Annotated[str | None, typer.Option(help="Only lines that mention this job id")] = None,
    level: Annotated[str, typer.Option(help="Lowest level shown: DEBUG, INFO, WARNING, ERROR")] = "INFO",
    function: Annotated[str, typer.Option(help="api, worker or all")] = "all",
) -> None:
    """Tail the deployed functions' CloudWatch logs, pretty-printed (log groups from the stack outputs)."""
    import boto3

    minimum = level.upper()
    if minimum not in LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(LEVELS)}")
    window = parse_since(since)
    try:
        groups = find_log_groups(boto3.client("cloudformation"), stack)
    except Exception as exc:
        console.print(f"[red]error:[/] could not read stack {stack}: {exc}")
        raise typer.Exit(1) from exc
    if function != "all":
        if function not in groups:
            raise typer.BadParameter(f"function must be one of all, {', '.join(groups)}")
        groups = {function: groups[function]}
    client = boto3.client("logs")
    try:
        for line in tail(client, groups, since=window, job_id=job_id, level=minimum, follow=follow):
            out.print(render(line), soft_wrap=True)
    except KeyboardInterrupt:
        return
