"""Figure 3 — cold start of the MCP Lambda handler, warm `tools/list`, and peak memory.

Each run is a fresh Python process (`benchmarks/support/lambda_probe.py`) that imports the handler and
invokes it with a real API Gateway HTTP API v2 event carrying a bearer token and a `tools/list` request;
cold start = import + that first invocation, timed inside the process (interpreter start-up is the same
for both and left out). The same process then invokes the handler again and again: the warm figure. Peak
RSS is the process's own high-water mark at the end (Linux VmHWM: `ru_maxrss` would include the size of
the benchmark process it was forked from).

- Ours: `functions/mcp_api/handler.py` `lambda_handler`, with the environment the CDK app sets, the
  bearer token from the environment (no secret ARN) and X-Ray tracing off.
- Baseline: `benchmarks/baselines/naive_handler.py`, the obvious module-level MCPServer + Mangum handler
  with the same tool names and the same boto3 clients.
- Extra: ours with the token in a Secrets Manager secret, as deployed (GetSecretValue on the cold path).

AWS is a moto server on loopback (`AWS_ENDPOINT_URL`), so nothing can leave the machine; `tools/list`
itself makes no AWS call in either handler. Runs alternate between the two handlers; medians are reported.
Bytecode caches are warm for both (one unmeasured run each first); the deployed layer ships without .pyc
files, so real cold starts also compile the layer's sources.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from tests.support.servers import free_port

from benchmarks.report import FigureResult, Measurement, Target, median
from imagegen.adapters.aws import schema
from imagegen.emulator.events import json_rpc, mcp_request_event

NAME = "cold_start"
TITLE = "Lambda cold start"

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO / "functions"
PROBE = Path(__file__).resolve().parent / "support" / "lambda_probe.py"
HANDLER_FILE = FUNCTIONS / "mcp_api" / "handler.py"
OURS = "mcp_api.handler:lambda_handler"
NAIVE = "benchmarks.baselines.naive_handler:handler"

REGION = "eu-west-1"
API_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
TOKEN = "bench-token-0123456789abcdef"
WARM_TARGET_MS = 2.0
MIB_PER_KIB = 1 / 1024


@dataclass(frozen=True)
class Sizes:
    runs: int
    warm_calls: int
    secret_runs: int
    profile: bool  # unmeasured warm-up runs and a -X importtime run of each handler


SIZES = {
    False: Sizes(runs=7, warm_calls=50, secret_runs=3, profile=True),
    True: Sizes(runs=1, warm_calls=5, secret_runs=0, profile=False),
}


def run(quick: bool) -> FigureResult:
    if not HANDLER_FILE.is_file():
        return _not_available(f"{HANDLER_FILE.relative_to(REPO)} is not there yet")
    sizes = SIZES[quick]
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp, moto_server() as endpoint:
        event_file = Path(tmp) / "event.json"
        event = mcp_request_event(json_rpc("tools/list"), domain_name=API_DOMAIN, token=TOKEN)
        event_file.write_text(json.dumps(event))
        env = _environment(endpoint)
        secret_env = {**env, schema.ENV_SECRET_ARN: _create_secret(endpoint)}
        secret_env.pop("AUTH_TOKEN")
        probe = _Prober(Path(tmp), event_file)

        if sizes.profile:
            for target in (OURS, NAIVE):  # unmeasured: compile bytecode, fill the page cache
                probe(target, env, 1)
        runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for _ in range(sizes.runs):
            for target in (OURS, NAIVE):
                runs[target].append(probe(target, env, sizes.warm_calls))
        secret_runs = [probe(OURS, secret_env, 0) for _ in range(sizes.secret_runs)]
        imports = {target: _import_profile(probe, target, env) for target in (OURS, NAIVE) if sizes.profile}

    ours, naive = runs[OURS], runs[NAIVE]
    if ours[0]["tools"] != naive[0]["tools"]:
        raise RuntimeError(f"tool names differ: {ours[0]['tools']} vs {naive[0]['tools']}")
    cold_ours = median([item["cold_s"] for item in ours]) * 1000
    cold_naive = median([item["cold_s"] for item in naive]) * 1000
    warm = [value for item in ours for value in item["warm_s"]]
    naive_warm_failures = sum(item["warm_failures"] for item in naive)
    naive_warm_calls = sum(len(item["warm_s"]) + item["warm_failures"] for item in naive)
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="fresh process: import handler + first tools/list (API Gateway v2 event); then warm calls",
        parameters={
            "runs_each": sizes.runs,
            "warm_calls_per_run": sizes.warm_calls,
            "tools": len(ours[0]["tools"]),
        },
        measurements=[
            Measurement(
                key="cold",
                label="cold start: import + first tools/list",
                value=cold_ours,
                unit="ms",
                baseline=cold_naive,
                baseline_label="naive MCPServer + Mangum",
                target=Target("<=", 1.0, on="ratio"),
                notes=[_import_note(imports)],
                details={
                    "ours": _split(ours),
                    "naive": _split(naive),
                    "import_self_ms_by_package": imports,
                },
            ),
            Measurement(
                key="warm_tools_list",
                label="warm tools/list through the handler",
                value=median(warm) * 1000 if warm else None,
                unit="ms",
                target=Target("<=", WARM_TARGET_MS, unit="ms"),
                notes=[
                    f"naive baseline: {naive_warm_failures} of {naive_warm_calls} warm invocations failed "
                    "(module-level Mangum: the session manager runs only once)"
                ],
                details={"n": len(warm), "p90_ms": _p90(warm) * 1000 if warm else None},
            ),
            Measurement(
                key="peak_rss",
                label="peak RSS after cold + warm calls",
                value=median([item["peak_rss_kib"] for item in ours]) * MIB_PER_KIB,
                unit="MiB",
                baseline=median([item["peak_rss_kib"] for item in naive]) * MIB_PER_KIB,
                baseline_label="naive",
            ),
            Measurement(
                key="cold_with_secret",
                label="cold start, token from Secrets Manager (moto)",
                value=median([item["cold_s"] for item in secret_runs]) * 1000 if secret_runs else None,
                unit="ms",
                baseline=cold_ours,
                baseline_label="ours, token from env",
                notes=[] if secret_runs else ["skipped in --quick"],
            ),
        ],
    )


class _Prober:
    def __init__(self, tmp: Path, event_file: Path) -> None:
        self._tmp = tmp
        self._event_file = event_file
        self._count = 0

    def __call__(self, target: str, env: dict[str, str], warm_calls: int, *flags: str) -> dict[str, Any]:
        self._count += 1
        output = self._tmp / f"probe-{self._count}.json"
        # -P: do not put the probe's own folder first on sys.path.
        command = [
            sys.executable,
            "-P",
            *flags,
            str(PROBE),
            target,
            str(self._event_file),
            str(warm_calls),
            str(output),
        ]
        done = subprocess.run(
            command,
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"probe {target} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(output.read_text())
        result["stderr"] = done.stderr
        return result


def _import_profile(probe: _Prober, target: str, env: dict[str, str]) -> dict[str, float]:
    """`python -X importtime`: self time of every imported module, summed by top-level package (ms)."""
    stderr = probe(target, env, 0, "-X", "importtime")["stderr"]
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        totals[name.split(".")[0]] += int(self_us) / 1000
    return dict(sorted(totals.items(), key=lambda item: -item[1])[:12])


def _import_note(imports: dict[str, dict[str, float]]) -> str:
    if not imports:
        return "import profile skipped in --quick"
    ours, naive = imports[OURS], imports[NAIVE]
    parts = [f"{name} {ms:.0f} ({naive.get(name, 0):.0f})" for name, ms in list(ours.items())[:8]]
    return "import self-time by package, ms, ours (naive): " + ", ".join(parts)


def _split(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {
        "cold_ms": median([item["cold_s"] for item in runs]) * 1000,
        "import_ms": median([item["import_s"] for item in runs]) * 1000,
        "first_call_ms": median([item["first_call_s"] for item in runs]) * 1000,
    }


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


def _environment(endpoint: str) -> dict[str, str]:
    """What the CDK app gives the function, plus fake credentials pointed at the moto server."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_", "MOTO_")) and name not in {"AUTH_TOKEN", "AUTH_TOKENS"}
    }
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS), str(REPO)]),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        schema.ENV_JOBS_TABLE: "imagegen-jobs",
        schema.ENV_GENERATIONS_TABLE: "imagegen-generations",
        schema.ENV_OAUTH_TABLE: "imagegen-oauth",
        schema.ENV_QUEUE_URL: f"{endpoint}/123456789012/imagegen-jobs",
        schema.ENV_R2_BUCKET: "imagegen-images",
        schema.ENV_R2_PUBLIC_BASE_URL: "https://images.example.test",
        schema.ENV_R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
        schema.ENV_ALLOWED_HOSTS: API_DOMAIN,
        "AUTH_TOKEN": TOKEN,
        "POWERTOOLS_SERVICE_NAME": "mcp_api",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _create_secret(endpoint: str) -> str:
    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    secret = client.create_secret(
        Name="imagegen/bench", SecretString=json.dumps({schema.SECRET_AUTH_TOKEN: TOKEN})
    )
    return str(secret["ARN"])


def _not_available(reason: str) -> FigureResult:
    return FigureResult(
        name=NAME,
        title=TITLE,
        measured="fresh process: import handler + first tools/list (API Gateway v2 event)",
        measurements=[
            Measurement(
                key="cold",
                label="cold start: import + first tools/list",
                value=None,
                unit="ms",
                target=Target("<=", 1.0, on="ratio"),
                notes=[f"not available yet: {reason}"],
            ),
            Measurement(
                key="warm_tools_list",
                label="warm tools/list through the handler",
                value=None,
                unit="ms",
                target=Target("<=", WARM_TARGET_MS, unit="ms"),
                notes=[f"not available yet: {reason}"],
            ),
        ],
    )
