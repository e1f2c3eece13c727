"""Lambda entry for the MCP API: API Gateway (HTTP API v2 or REST API v1) -> Mangum -> MCP Streamable HTTP.

Adapters and the MCP server are built once per container; each invocation gets a fresh transport app
(see imagegen.web.lambda_app for why). The bearer tokens come from the secret, cached by Powertools
parameters, so a rotated token applies within the cache's max age.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mcp.server.mcpserver import MCPServer

from imagegen.mcp.context import AppContext
from imagegen.mcp.server import build_mcp_server
from imagegen.observability import configure_logging, log_context
from imagegen.runtime.aws import AwsRuntime, AwsSettings
from imagegen.runtime.lambda_container import container_loop
from imagegen.web.lambda_app import Stopwatch, invoke, own_origins, result_summary, rpc_summary

SERVICE = "mcp_api"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
configure_logging(logger)


@lru_cache(maxsize=1)
def runtime() -> AwsRuntime:
    return AwsRuntime(AwsSettings())


@lru_cache(maxsize=2)
def app_context(provider_name: str) -> AppContext:
    return runtime().app_context(provider_name)


@lru_cache(maxsize=2)
def server(provider_name: str) -> MCPServer:
    """One server per provider: storing the Cloudflare token in the secret switches warm containers too."""
    return build_mcp_server(app_context(provider_name))


@lru_cache(maxsize=1)
def allowed_origins() -> list[str]:
    settings = runtime().settings
    return own_origins(settings.allowed_hosts, settings.allowed_origins)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    watch = Stopwatch()
    summary = rpc_summary(event)
    job_ids = summary.get("job_ids") or []
    container_loop()  # Mangum runs on the thread's current loop; keep it the same one across invocations
    request_id = (event.get("requestContext") or {}).get("requestId")
    with log_context(job_id=",".join(job_ids) if job_ids else None, correlation_id=request_id):
        provider_name = runtime().provider_name(runtime().secrets())
        response = invoke(
            server(provider_name),
            runtime().keyring(),
            event,
            context,
            app_context=app_context(provider_name),
            oauth=runtime().oauth(),
            provider_name=provider_name,
            public_url=runtime().settings.public_url,
            allowed_origins=allowed_origins(),
        )
        # Only tool calls create or name jobs; re-parsing other answers (a tools/list) would cost for nothing.
        outcome = result_summary(response) if summary.get("rpc_method") == "tools/call" else {}
        created = [job_id for job_id in outcome.pop("job_ids", []) if job_id not in job_ids]
        logger.info(
            "request handled",
            extra={
                **summary,
                **outcome,
                "status": response.get("statusCode"),
                "duration_ms": watch.milliseconds,
                **({"job_ids": [*job_ids, *created]} if created else {}),
            },
        )
    return response
