"""Cloudflare Workers AI image provider (REST, optionally through AI Gateway).

Everything Cloudflare-specific stops here: callers see a GeneratedImage whose type was detected from its bytes,
or a ProviderError with a reason code, a retryable flag and a message a model can act on. Transient failures
(capacity, timeouts, 5xx) are retried here with capped exponential backoff and full jitter, within both
`workers_ai_max_retries` and `workers_ai_retry_budget_seconds`; once either runs out the retryable error is
raised so the worker can release the job and let the queue redeliver it later. The budget decides whether
another attempt may *start*, so one call lasts at most about budget + timeout. A failure that is only
sometimes transient (an intermittent safety flag) carries a smaller retry limit of its own, and once that is
spent the error is final, so the queue does not retry it again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError

from imagegen.adapters.rate_limit import RateLimiter
from imagegen.adapters.workers_ai.errors import CloudflareError, WorkersAIError, classify
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.adapters.workers_ai.wire import RequestEncoding, wire_for
from imagegen.domain import catalog
from imagegen.domain.catalog import ModelSpec, slowest_latency_ceiling_seconds
from imagegen.domain.errors import InvalidRequest, ReasonCode
from imagegen.domain.image_format import detect_image_format
from imagegen.domain.validation import validate_prompt
from imagegen.ports import GeneratedImage, GenerationRequest

logger = logging.getLogger(__name__)

PROVIDER_NAME = "workers-ai"
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_QUOTED_MESSAGE = 300

Sleep = Callable[[float], Awaitable[None]]


# ---------------------------------------------------------------- provider


class WorkersAIProvider:
    """The ImageProvider port over the Workers AI REST API."""

    def __init__(
        self,
        settings: WorkersAISettings,
        *,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not settings.cloudflare_account_id or settings.cloudflare_api_token is None:
            raise ValueError("WorkersAIProvider needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN")
        self._settings = settings
        self._account_id = settings.cloudflare_account_id
        self._token = settings.cloudflare_api_token
        self._owns_client = client is None
        default_timeout = settings.workers_ai_timeout_seconds or slowest_latency_ceiling_seconds()
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(default_timeout, connect=min(CONNECT_TIMEOUT_SECONDS, default_timeout)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            headers={"User-Agent": "imagegen-mcp (+workers-ai adapter)"},
        )
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self.limiter = limiter or RateLimiter(
            settings.workers_ai_rate_limit_per_minute, clock=clock, sleep=sleep
        )

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    def url_for(self, spec: ModelSpec) -> str:
        settings = self._settings
        if settings.ai_gateway_id:
            base = settings.ai_gateway_base_url.rstrip("/")
            return f"{base}/{self._account_id}/{settings.ai_gateway_id}/workers-ai/{spec.model_id}"
        base = settings.workers_ai_base_url.rstrip("/")
        return f"{base}/accounts/{self._account_id}/ai/run/{spec.model_id}"

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        spec = _spec_for(request)
        fields = wire_fields(spec, request)
        url = self.url_for(spec)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(spec, url, fields, attempt)
            except WorkersAIError as exc:
                if not exc.retryable:
                    raise
                elapsed = self._clock() - started
                delay = self._backoff(attempt, exc.retry_after) if attempt <= self._retries_for(exc) else None
                if delay is None or elapsed + delay > self._settings.workers_ai_retry_budget_seconds:
                    raise _gave_up(exc, attempt, elapsed) from exc
                logger.warning(
                    "workers ai transient failure, retrying",
                    extra={
                        "model": spec.key,
                        "attempt": attempt,
                        "reason": exc.reason.value,
                        "cloudflare_code": exc.cloudflare_code,
                        "delay_seconds": round(delay, 3),
                    },
                )
                await self._sleep(delay)

    def _timeout_for(self, spec: ModelSpec) -> httpx.Timeout:
        # A slow model (FLUX.2 [dev] has taken almost two minutes) must not be cut off by a timeout
        # meant for the fast ones, or every attempt would fail the same way.
        seconds = self._settings.workers_ai_timeout_seconds or spec.latency_ceiling_seconds
        return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_SECONDS, seconds))

    def _retries_for(self, error: WorkersAIError) -> int:
        retries = self._settings.workers_ai_max_retries
        return retries if error.retry_limit is None else min(retries, error.retry_limit)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter: many workers hitting the same capacity limit must not retry in lockstep.
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
        delay = self._rng() * ceiling
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    async def _attempt(
        self, spec: ModelSpec, url: str, fields: Mapping[str, Any], attempt: int
    ) -> GeneratedImage:
        await self.limiter.acquire()
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        started = time.perf_counter()
        try:
            timeout = self._timeout_for(spec)
            if wire_for(spec).request_encoding is RequestEncoding.MULTIPART:
                multipart = {name: (None, str(value)) for name, value in fields.items()}
                response = await self._client.post(url, headers=headers, files=multipart, timeout=timeout)
            else:
                response = await self._client.post(url, headers=headers, json=dict(fields), timeout=timeout)
        except httpx.TimeoutException as exc:
            raise WorkersAIError(
                ReasonCode.PROVIDER_TIMEOUT,
                f"Workers AI did not answer in time for {spec.key} ({type(exc).__name__}).",
                retryable=True,
            ) from exc
        except httpx.TransportError as exc:
            raise WorkersAIError(
                ReasonCode.PROVIDER_ERROR,
                f"Could not reach Workers AI for {spec.key} ({type(exc).__name__}).",
                retryable=True,
            ) from exc
        logger.info(
            "workers ai answered",
            extra={
                "model": spec.key,
                "status": response.status_code,
                "attempt": attempt,
                "seconds": round(time.perf_counter() - started, 3),
                "bytes": len(response.content),
            },
        )
        return parse_response(spec, response)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> WorkersAIProvider:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _gave_up(error: WorkersAIError, attempts: int, elapsed: float) -> WorkersAIError:
    """The error to raise once retrying stops: a transient failure stays retryable for the queue to try later;
    one with its own retry limit is final, or every redelivery would retry it again."""
    final = error.retry_limit is not None
    outcome = "." if final else "; the job can be retried later."
    return WorkersAIError(
        error.reason,
        f"{error.message} Gave up after {attempts} call(s) to Workers AI in {elapsed:.1f} s{outcome}",
        retryable=not final,
        cloudflare_code=error.cloudflare_code,
        http_status=error.http_status,
    )


# ---------------------------------------------------------------- request


def _spec_for(request: GenerationRequest) -> ModelSpec:
    try:
        return catalog.get_model(request.model)
    except InvalidRequest as exc:
        raise WorkersAIError(ReasonCode.UNKNOWN_MODEL, str(exc), retryable=False) from None


def wire_fields(spec: ModelSpec, request: GenerationRequest) -> dict[str, Any]:
    """The request body fields in Workers AI's names. Only parameters the catalog allows are ever sent."""
    try:
        validate_prompt(request.prompt, spec)
        params = catalog.validate_params(spec, request.params.provided())
    except InvalidRequest as exc:
        raise WorkersAIError(ReasonCode.INVALID_INPUT, str(exc), retryable=False) from None
    wire = wire_for(spec)
    fields: dict[str, Any] = {"prompt": request.prompt}
    for name, value in params.provided().items():
        fields[wire.wire_name(name)] = value
    return fields


# ---------------------------------------------------------------- response


def parse_response(spec: ModelSpec, response: httpx.Response) -> GeneratedImage:
    body = response.content
    declared = response.headers.get("content-type", "")
    envelope = _json_object(body, declared)
    if envelope is not None:
        if response.status_code >= 400 or envelope.get("success") is False:
            raise _error_from(spec, response, _envelope_errors(envelope))
        return _image(spec, _decode_result_image(spec, envelope), declared="base64 in JSON")
    if response.status_code >= 400:
        raise _error_from(spec, response, [])
    return _image(spec, body, declared=declared)


def _json_object(body: bytes, declared: str) -> dict[str, Any] | None:
    # Image bytes never start with "{", so sniffing is safe when a proxy drops the content type.
    if "json" not in declared.lower() and body.lstrip()[:1] != b"{":
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _envelope_errors(envelope: Mapping[str, Any]) -> list[CloudflareError]:
    raw = envelope.get("errors")
    if not isinstance(raw, list):
        return []
    errors = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        code = item.get("code")
        try:
            parsed_code = int(code) if code is not None else None
        except (TypeError, ValueError):
            parsed_code = None
        errors.append(CloudflareError(code=parsed_code, message=str(item.get("message") or "")))
    return errors


def _error_from(
    spec: ModelSpec, response: httpx.Response, errors: Sequence[CloudflareError]
) -> WorkersAIError:
    status = response.status_code
    rule, cause = classify(status, errors)
    code = cause.code if cause else None
    where = f"Cloudflare error {code}, HTTP {status}" if code is not None else f"HTTP {status}"
    message = f"Workers AI could not generate with {spec.key} ({where}): {rule.explanation}."
    if cause and cause.message:
        quoted = cause.message.strip()
        if len(quoted) > MAX_QUOTED_MESSAGE:
            quoted = quoted[:MAX_QUOTED_MESSAGE] + "..."
        message += f" Cloudflare said: {quoted}" + ("" if quoted.endswith((".", "!", "?")) else ".")
    return WorkersAIError(
        rule.reason,
        message,
        retryable=rule.retryable,
        cloudflare_code=code,
        http_status=status,
        retry_after=_retry_after(response) if rule.retryable else None,
        retry_limit=rule.retry_limit,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # the HTTP-date form is not worth parsing for a sub-minute backoff
    return seconds if seconds >= 0 else None


def _decode_result_image(spec: ModelSpec, envelope: Mapping[str, Any]) -> bytes:
    result = envelope.get("result")
    encoded = result.get("image") if isinstance(result, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise WorkersAIError(
            ReasonCode.PROVIDER_ERROR,
            f"Workers AI answered {spec.key} with JSON but no image in result.image.",
            retryable=False,
        )
    if encoded.startswith("data:") and "," in encoded:
        encoded = encoded.split(",", 1)[1]
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WorkersAIError(
            ReasonCode.PROVIDER_ERROR,
            f"Workers AI answered {spec.key} with an image that is not valid base64.",
            retryable=False,
        ) from None


def _image(spec: ModelSpec, data: bytes, *, declared: str) -> GeneratedImage:
    if not data:
        raise WorkersAIError(
            ReasonCode.PROVIDER_ERROR, f"Workers AI answered {spec.key} with an empty body.", retryable=False
        )
    detected = detect_image_format(data)
    if detected is None:
        raise WorkersAIError(
            ReasonCode.PROVIDER_ERROR,
            f"Workers AI answered {spec.key} with {len(data)} bytes ({declared or 'no content type'}) that "
            "are not a PNG, JPEG or WebP image.",
            retryable=False,
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise WorkersAIError(
            ReasonCode.PROVIDER_ERROR,
            f"Workers AI answered {spec.key} with bytes that start like a {detected.extension.upper()} "
            "image but cannot be read.",
            retryable=False,
        ) from None
    if declared.startswith("image/") and declared.split(";")[0].strip() != detected.content_type:
        logger.info(
            "workers ai declared one image type and sent another",
            extra={"model": spec.key, "declared": declared, "detected": detected.content_type},
        )
    return GeneratedImage(
        data=data,
        content_type=detected.content_type,
        extension=detected.extension,
        width=width,
        height=height,
    )
