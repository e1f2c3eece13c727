"""The deployment's fixed facts, shared by the CDK app, the Lambda handlers and the local emulation.

One definition each, so the stack, the code that runs in it and the emulation that tests it cannot drift:
the functions' handlers, timeouts and memory; API Gateway's routes and limits; the environment each
function is given; and the time budgets derived from them.

How the timeouts follow from each other:
- API Gateway (HTTP API) ends every integration at 30 s, cold start included, and cannot be configured
  otherwise. The API function's timeout is the same 30 s; the handler answers by the earlier of the two
  deadlines less a margin, and every wait and thumbnail budget comes from that (`web.lambda_app`).
- The worker must finish the slowest model's slowest expected generation (the catalog's latency ceiling),
  plus the provider's retries, the upload and the final write, before its timeout. The queue's visibility
  timeout is six times the worker's, as AWS recommends for SQS event sources.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from imagegen.adapters.aws import schema
from imagegen.domain import catalog
from imagegen.web.gateway_limits import API_GATEWAY_TIMEOUT_SECONDS
from imagegen.web.routes import (
    AUTHORIZATION_SERVER_METADATA_PATH,
    AUTHORIZE_PATH,
    CONSENT_PATH,
    DISCOVERY_PATH,
    FAVICON_PATH,
    GRANT_PATH,
    GRANTS_PATH,
    HEALTH_PATHS,
    MCP_PATH,
    MCP_RESOURCE_METADATA_PATH,
    OPENAI_IMAGES_PATH,
    OPENID_CONFIGURATION_PATH,
    PROTECTED_RESOURCE_METADATA_PATH,
    REGISTER_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
)

# ---------------------------------------------------------------- API Gateway (HTTP API)

# Routes of the HTTP API, all integrated with the API function. GET and DELETE /mcp are routed so that the
# function answers them with 405 (a stateless server), not API Gateway with a bare 404. /sse is not routed:
# neither API type can stream a Python Lambda's answer. The OAuth documents and the endpoints browser-based
# clients call from other origins also take OPTIONS, which the function answers with CORS headers (when
# the API has a CORS configuration of its own, API Gateway answers preflights itself).
API_ROUTES: Final[Mapping[str, tuple[str, ...]]] = {
    MCP_PATH: ("POST", "GET", "DELETE"),
    DISCOVERY_PATH: ("GET",),
    FAVICON_PATH: ("GET",),
    OPENAI_IMAGES_PATH: ("POST",),
    **{path: ("GET",) for path in HEALTH_PATHS},
    PROTECTED_RESOURCE_METADATA_PATH: ("GET", "OPTIONS"),
    MCP_RESOURCE_METADATA_PATH: ("GET", "OPTIONS"),
    AUTHORIZATION_SERVER_METADATA_PATH: ("GET", "OPTIONS"),
    OPENID_CONFIGURATION_PATH: ("GET", "OPTIONS"),
    AUTHORIZE_PATH: ("GET", "POST"),
    TOKEN_PATH: ("POST", "OPTIONS"),
    REGISTER_PATH: ("POST", "OPTIONS"),
    REVOKE_PATH: ("POST", "OPTIONS"),
    CONSENT_PATH: ("GET", "POST"),
    GRANTS_PATH: ("GET",),
    GRANT_PATH: ("DELETE",),
}

# ---------------------------------------------------------------- the API function

API_HANDLER: Final = "mcp_api.handler.lambda_handler"
# The function may run as long as API Gateway waits for it, and no longer.
API_TIMEOUT_SECONDS: Final = int(API_GATEWAY_TIMEOUT_SECONDS)
API_MEMORY_MB: Final = 1024
# The longest wait a tool offers on AWS: what is left of 30 s after a cold start (about 2 s), the
# response margin and the thumbnails (3 s). Each request's real budget comes from its own deadline.
MAX_WAIT_SECONDS: Final = 24.0

# ---------------------------------------------------------------- the worker function

WORKER_HANDLER: Final = "image_worker.handler.lambda_handler"
WORKER_MEMORY_MB: Final = 1024
# What a generation may cost besides the model itself: the provider's retry budget (backoff between
# attempts, WorkersAISettings.workers_ai_retry_budget_seconds), the R2 upload and the DynamoDB write, and
# the handler's margin for handing a job back before Lambda ends the invocation.
PROVIDER_RETRY_BUDGET_SECONDS: Final = 20.0
STORE_SECONDS: Final = 20.0
HANDBACK_MARGIN_SECONDS: Final = 10.0
VISIBILITY_TIMEOUT_FACTOR: Final = 6
# A message received this many times without success moves to the dead-letter queue.
MAX_RECEIVE_COUNT: Final = schema.DEFAULT_MAX_RECEIVE_COUNT
DEFAULT_WORKER_BATCH_SIZE: Final = 4
# Workers AI allows 720 text-to-image requests per minute (12 per second). One generation takes at least
# about a second, so 12 calls in flight cannot exceed the limit even when every call is fast. The worker
# runs a batch's records concurrently: calls in flight = concurrent invocations x batch size.
MAX_CALLS_IN_FLIGHT: Final = 12
# Lambda's SQS event source never runs fewer than 2 concurrent invocations (ScalingConfig minimum).
MIN_EVENT_SOURCE_CONCURRENCY: Final = 2


def worker_max_concurrency(batch_size: int, reserved_concurrency: int = 0) -> int:
    """The event source's MaximumConcurrency: never above a reservation (a throttled delivery counts as
    a receive and walks a healthy message towards the DLQ), else as many as the call budget allows."""
    if reserved_concurrency:
        return reserved_concurrency
    return max(MIN_EVENT_SOURCE_CONCURRENCY, MAX_CALLS_IN_FLIGHT // batch_size)


def worker_timeout_seconds() -> int:
    """Enough for the slowest catalog model's slowest expected generation, rounded up to 10 s."""
    needed = (
        catalog.slowest_latency_ceiling_seconds()
        + PROVIDER_RETRY_BUDGET_SECONDS
        + STORE_SECONDS
        + HANDBACK_MARGIN_SECONDS
    )
    return int(math.ceil(needed / 10) * 10)


def visibility_timeout_seconds() -> int:
    return worker_timeout_seconds() * VISIBILITY_TIMEOUT_FACTOR


# ---------------------------------------------------------------- function environments

# R2 rejects the CRC checksums that botocore >= 1.36 sends by default. These variables switch them off in
# the botocore versions that have them, and older versions (which never sent them) ignore the variables,
# so image writes work whatever botocore the Lambda runtime bundles.
CHECKSUM_ENVIRONMENT: Final[Mapping[str, str]] = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}


def shared_environment(
    *,
    jobs_table: str,
    generations_table: str,
    queue_url: str,
    r2_bucket: str,
    r2_public_base_url: str,
    cloudflare_account_id: str | None,
    r2_jurisdiction: str | None,
    secret_arn: str | None,
) -> dict[str, str]:
    """What both functions read (`runtime.aws.AwsSettings`)."""
    environment = {
        schema.ENV_JOBS_TABLE: jobs_table,
        schema.ENV_GENERATIONS_TABLE: generations_table,
        schema.ENV_QUEUE_URL: queue_url,
        schema.ENV_R2_BUCKET: r2_bucket,
        schema.ENV_R2_PUBLIC_BASE_URL: r2_public_base_url,
        # Responses carry prompts and images (base64): keep them out of X-Ray, whose segments cap at 64 KB.
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        **CHECKSUM_ENVIRONMENT,
    }
    optional = {
        schema.ENV_R2_ACCOUNT_ID: cloudflare_account_id,
        schema.ENV_R2_JURISDICTION: r2_jurisdiction,
        schema.ENV_SECRET_ARN: secret_arn,
    }
    environment.update({name: value for name, value in optional.items() if value})
    return environment


def api_environment(
    shared: Mapping[str, str],
    *,
    oauth_table: str,
    public_url: str,
    domain_names: list[str],
    allowed_origins: list[str],
    client_limits: str | None = None,
) -> dict[str, str]:
    """The API function's: `public_url` is the OAuth issuer and, with /mcp, the resource tokens are for."""
    environment = {
        **shared,
        schema.ENV_OAUTH_TABLE: oauth_table,
        schema.ENV_PUBLIC_URL: public_url,
        schema.ENV_ALLOWED_HOSTS: ",".join(domain_names),
    }
    if client_limits:
        environment[schema.ENV_CLIENT_LIMITS] = client_limits
    if allowed_origins:
        environment[schema.ENV_ALLOWED_ORIGINS] = ",".join(allowed_origins)
    return environment


def worker_environment(
    shared: Mapping[str, str], *, max_receive_count: int = MAX_RECEIVE_COUNT
) -> dict[str, str]:
    # The worker marks a job failed on the delivery the redrive policy will not repeat.
    return {**shared, schema.ENV_MAX_RECEIVE_COUNT: str(max_receive_count)}
