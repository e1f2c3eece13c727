"""A local fake of the Cloudflare Workers AI REST API, speaking its wire format for every catalog model.

Point the provider at it with `WORKERS_AI_BASE_URL=http://HOST:PORT/client/v4` (direct form) or
`AI_GATEWAY_BASE_URL=http://HOST:PORT/v1` plus any `AI_GATEWAY_ID` (gateway form); any account id works.

What it does like the real API:
- answers each model in its own shape: JSON `{"result": {"image": "<base64>"}, "success": true}` for
  flux-1-schnell, lucid-origin and the FLUX.2 models; raw bytes for the Stable Diffusion family (PNG) and
  phoenix-1.0 (JPEG). Images are real, small-effort Pillow images of the requested (or default) size;
  JSON-answering models without a documented image type send JPEG.
- takes JSON bodies, except the FLUX.2 models which take only multipart/form-data (whose text fields are
  read as the numbers the schema declares);
- validates the fields against Cloudflare's published input schema for the model (copies in `schemas/`),
  never against our catalog, so a catalog bound wider than Cloudflare's fails here: a wrong type, an
  out-of-range value or a missing prompt answers HTTP 400 with code 5006 in Cloudflare's error envelope;
- with a token configured, answers 401 / code 10000 unless `Authorization: Bearer <token>` matches.
One deliberate difference: a field the schema does not declare (width on the SD family is declared, `steps`
is not) is rejected with 5006 for every model, where Cloudflare rejects it only for the models whose schema
says so (flux-1-schnell) and may ignore it elsewhere. An ignored field is a silent bug in our wire names, so
the fake makes it loud. File uploads (img2img inputs) are not accepted.

Magic markers in the prompt make it misbehave on purpose, e.g. "a cat [fake:3030]":

  [fake:CODE]          the documented error for a Cloudflare code: 3040 (429), 3036 (429), 4006 (429),
                       3007 / 3008 (408), 5006 / 5004 / 3003 (400), 3006 (413), 5007 (400), 3042 (404),
                       3030 (400, a flagged prompt), 10000 (401), 5016 / 5018 / 5035 (403), 7003 (400, a
                       wrong account id, followed by 7000 as Cloudflare sends them)
  [fake:3030-KIND]     the other faces of the generic 3030 AiError: 3030-output (the generated image
                       flagged, which Cloudflare does only sometimes: try 3030-output-then-ok),
                       3030-input-image (an undecodable input image), 3030-sequence ("Sequence too long"),
                       3030-unknown (a message no rule knows)
  [fake:STATUS]        429 (=3040), 408 (=3007), 413 (=3006), 401 (=10000); 500 and 503 with an envelope
                       that has no code; 502 with an HTML page like a proxy error
  [fake:200-CODE]      the error envelope for CODE with HTTP 200 (Cloudflare does this sometimes)
  [fake:empty]         HTTP 200 with an empty body
  [fake:html]          HTTP 200 with an HTML page instead of an image
  [fake:mislabeled]    the image in the other format than declared (JPEG bytes labelled image/png, ...)
  [fake:sleep=SECONDS] wait that long before answering (to exercise client timeouts)
  [fake:X-then-ok]     misbehave as X on the first request with this exact prompt, then answer normally
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from imagegen.adapters.workers_ai.wire import RequestEncoding, ResponseShape, wire_for
from imagegen.domain import catalog
from imagegen.domain.catalog import ModelSpec
from imagegen.fakes.cloudflare_schemas import CloudflareSchema, schema_for

DEFAULT_PORT = 8788
MARKER = re.compile(r"\[fake:([A-Za-z0-9=._-]+)\]")
THEN_OK = "-then-ok"


@dataclass(frozen=True)
class FakeError:
    status: int
    code: int | None
    message: str
    body: Literal["envelope", "html"] = "envelope"
    # Further (code, message) entries of the envelope's errors list, after the first.
    more: tuple[tuple[int, str], ...] = ()


# Status per code as documented on https://developers.cloudflare.com/workers-ai/platform/errors/; 3030, 4006,
# 5006, 5035, 7003 and 10000 as Cloudflare answers them in practice. Cloudflare documents no wording for a
# flagged output, so "3030-output" uses a representative one.
FAKE_ERRORS: dict[str, FakeError] = {
    "3040": FakeError(429, 3040, "Capacity temporarily exceeded, please try again."),
    "3036": FakeError(
        429,
        3036,
        "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's "
        "Workers Paid plan if you would like to continue usage.",
    ),
    "4006": FakeError(
        429,
        4006,
        "you have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare's "
        "Workers Paid plan if you would like to continue usage.",
    ),
    "3007": FakeError(408, 3007, "Request timeout"),
    "3008": FakeError(408, 3008, "Request was aborted"),
    "5006": FakeError(400, 5006, "AiError: Error: invalid input"),
    "5004": FakeError(400, 5004, "Invalid data type for base64 input: object"),
    "3003": FakeError(400, 3003, "Request is missing headers or body: body"),
    "3006": FakeError(413, 3006, "Request is too large"),
    "5007": FakeError(400, 5007, "No such model or task"),
    "3042": FakeError(404, 3042, "The model name is invalid"),
    "3030": FakeError(400, 3030, "AiError: Input prompt contains NSFW content."),
    "3030-output": FakeError(400, 3030, "AiError: Output image was flagged as NSFW content."),
    "3030-input-image": FakeError(400, 3030, "AiError: Invalid input image, unable to decode it."),
    "3030-sequence": FakeError(400, 3030, "AiError: Sequence too long"),
    "3030-unknown": FakeError(400, 3030, "AiError: the model could not run (reason withheld)"),
    "7003": FakeError(
        400,
        7003,
        "Could not route to /client/v4/accounts/<account id>/ai/run/<model>, perhaps your object identifier "
        "is invalid?",
        more=((7000, "No route for that URI"),),
    ),
    "10000": FakeError(401, 10000, "Authentication error"),
    "5016": FakeError(403, 5016, "User has not agreed to the model terms"),
    "5018": FakeError(403, 5018, "The account is not allowed to access this model"),
    "5035": FakeError(403, 5035, "This model requires the Workers Paid plan"),
    "500": FakeError(500, None, "Internal server error"),
    "503": FakeError(503, None, "Service temporarily unavailable"),
    "502": FakeError(502, None, "<html><body><h1>502 Bad Gateway</h1></body></html>", body="html"),
}
FAKE_ERRORS["429"] = FAKE_ERRORS["3040"]
FAKE_ERRORS["408"] = FAKE_ERRORS["3007"]
FAKE_ERRORS["413"] = FAKE_ERRORS["3006"]
FAKE_ERRORS["401"] = FAKE_ERRORS["10000"]


@dataclass(frozen=True)
class FakeCall:
    """One request as the fake saw it, for tests that check what went over the wire."""

    model_id: str
    content_type: str
    fields: dict[str, Any]
    via_gateway: bool


@dataclass
class _State:
    token: str | None
    latency_seconds: float
    calls: list[FakeCall] = field(default_factory=list)
    failed_once: set[str] = field(default_factory=set)


class _Rejected(Exception):  # control flow inside the fake; never escapes a handler
    def __init__(self, error: FakeError) -> None:
        super().__init__(error.message)
        self.error = error


def create_fake_workers_ai_app(*, token: str | None = None, latency_seconds: float = 0.0) -> Starlette:
    """The fake as an ASGI app. `app.state.fake.calls` records every request it received."""
    state = _State(token=token, latency_seconds=latency_seconds)

    async def run(request: Request) -> Response:
        return await _handle(state, request, via_gateway=False)

    async def gateway(request: Request) -> Response:
        return await _handle(state, request, via_gateway=True)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/client/v4/accounts/{account_id}/ai/run/{model_id:path}", run, methods=["POST"]),
            Route("/v1/{account_id}/{gateway_id}/workers-ai/{model_id:path}", gateway, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app


def run_fake_workers_ai(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, latency_seconds: float = 0.0, token: str | None = None
) -> None:
    """Serve the fake until interrupted."""
    import uvicorn

    app = create_fake_workers_ai_app(token=token, latency_seconds=latency_seconds)
    uvicorn.run(app, host=host, port=port, log_level="info")


# ---------------------------------------------------------------- request handling


async def _handle(state: _State, request: Request, *, via_gateway: bool) -> Response:
    if state.latency_seconds:
        await asyncio.sleep(state.latency_seconds)
    try:
        _check_token(state, request)
        model_id = request.path_params["model_id"]
        spec = catalog.find_by_model_id(model_id)
        if spec is None:
            raise _Rejected(FakeError(400, 5007, f"No such model {model_id} or task"))
        schema = schema_for(model_id)
        fields = await _read_fields(spec, schema, request)
        state.calls.append(
            FakeCall(
                model_id=model_id,
                content_type=request.headers.get("content-type", ""),
                fields=fields,
                via_gateway=via_gateway,
            )
        )
        prompt = _validate(schema, fields)
        misbehaviour = await _misbehaviour(state, prompt)
        if misbehaviour is not None:
            return misbehaviour
        return await _answer(spec, fields, mislabeled=_marker(prompt) == "mislabeled")
    except _Rejected as rejected:
        return _error_response(rejected.error)


def _check_token(state: _State, request: Request) -> None:
    if state.token is None:
        return
    expected = f"Bearer {state.token}".encode()
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        raise _Rejected(FAKE_ERRORS["10000"])


async def _read_fields(spec: ModelSpec, schema: CloudflareSchema, request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if wire_for(spec).request_encoding is RequestEncoding.MULTIPART:
        if not content_type.startswith("multipart/form-data"):
            raise _Rejected(
                FakeError(
                    400, 5006, f"AiError: {spec.model_id} takes multipart/form-data, not {content_type}"
                )
            )
        form = await request.form()
        fields: dict[str, Any] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                raise _Rejected(
                    FakeError(400, 5006, f"AiError: the fake does not accept file field {name!r}")
                )
            fields[name] = _form_value(value, schema.properties.get(name, {}).get("type"))
        return fields
    body = await request.body()
    if not body:
        raise _Rejected(FAKE_ERRORS["3003"])
    try:
        parsed = json.loads(body)
    except ValueError:
        raise _Rejected(FakeError(400, 5006, "AiError: the request body is not valid JSON")) from None
    if not isinstance(parsed, dict):
        raise _Rejected(FakeError(400, 5006, "AiError: the request body must be a JSON object"))
    return parsed


def _form_value(text: str, declared_type: str | None) -> Any:
    """Multipart carries every field as text; read it as the number the schema declares, when it is one."""
    try:
        if declared_type == "integer":
            return int(text)
        if declared_type == "number":
            return float(text)
    except ValueError:
        pass  # left as text, so validation reports the wrong type
    return text


def _validate(schema: CloudflareSchema, fields: dict[str, Any]) -> str:
    """Check fields against Cloudflare's schema for the model. Returns the prompt."""
    error = best_match(_validator(schema.model_id).iter_errors(fields))
    if error is not None:
        where = "/" + "/".join(str(part) for part in error.absolute_path)
        raise _Rejected(FakeError(400, 5006, f"AiError: Bad input: at '{where}': {error.message}"))
    prompt: str = fields["prompt"]
    return prompt


@functools.cache
def _validator(model_id: str) -> Draft7Validator:
    schema = schema_for(model_id)
    # Undeclared fields are refused for every model (see the module docstring).
    return Draft7Validator({**schema.input, "additionalProperties": False})


def _marker(prompt: str) -> str | None:
    found = MARKER.search(prompt)
    return found.group(1).lower() if found else None


async def _misbehaviour(state: _State, prompt: str) -> Response | None:
    marker = _marker(prompt)
    if marker is None or marker == "mislabeled":
        return None
    if marker.endswith(THEN_OK):
        if prompt in state.failed_once:
            return None
        state.failed_once.add(prompt)
        marker = marker.removesuffix(THEN_OK)
    if marker.startswith("sleep="):
        try:
            await asyncio.sleep(float(marker.removeprefix("sleep=")))
        except ValueError:
            raise _Rejected(FakeError(400, 5006, f"fake: bad marker {marker!r}")) from None
        return None
    if marker == "empty":
        return Response(b"", media_type="image/png")
    if marker == "html":
        return Response(b"<!doctype html><html><body>Hello</body></html>", media_type="text/html")
    status_override = None
    if marker.startswith("200-"):
        status_override, marker = 200, marker.removeprefix("200-")
    error = FAKE_ERRORS.get(marker)
    if error is None:
        raise _Rejected(FakeError(400, 5006, f"fake: unknown marker {marker!r}; see the module docstring"))
    if status_override is not None:
        error = FakeError(status_override, error.code, error.message, error.body)
    raise _Rejected(error)


def _error_response(error: FakeError) -> Response:
    if error.body == "html":
        return Response(error.message.encode(), status_code=error.status, media_type="text/html")
    entry: dict[str, Any] = {} if error.code is None else {"code": error.code}
    entry["message"] = error.message
    more = [{"code": code, "message": message} for code, message in error.more]
    return JSONResponse(
        {"result": None, "success": False, "errors": [entry, *more], "messages": []}, status_code=error.status
    )


# ---------------------------------------------------------------- images


def _declared_type(spec: ModelSpec) -> str:
    if spec.output_content_type:
        return spec.output_content_type
    return "image/png" if wire_for(spec).response_shape is ResponseShape.RAW_BYTES else "image/jpeg"


async def _answer(spec: ModelSpec, fields: dict[str, Any], *, mislabeled: bool) -> Response:
    declared = _declared_type(spec)
    actual = declared
    if mislabeled:
        actual = "image/png" if declared == "image/jpeg" else "image/jpeg"
    width = int(fields.get("width") or spec.default_width)
    height = int(fields.get("height") or spec.default_height)
    data = await asyncio.to_thread(_draw, str(fields["prompt"]), width, height, actual)
    if wire_for(spec).response_shape is ResponseShape.RAW_BYTES:
        return Response(data, media_type=declared)
    encoded = base64.b64encode(data).decode("ascii")
    return JSONResponse({"result": {"image": encoded}, "success": True, "errors": [], "messages": []})


def _draw(prompt: str, width: int, height: int, content_type: str) -> bytes:
    digest = hashlib.sha256(prompt.encode()).digest()
    image = Image.new("RGB", (width, height), (digest[0], digest[1], digest[2]))
    buffer = io.BytesIO()
    if content_type == "image/jpeg":
        image.save(buffer, format="JPEG", quality=60)
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
