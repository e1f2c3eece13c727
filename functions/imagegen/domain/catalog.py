"""The model catalog: what each Workers AI text-to-image model accepts, as data rather than if-chains.

Parameter names here are the tool-facing names. `wire_name` says what the Workers AI API calls the field
when it differs (the Stable Diffusion family calls steps `num_steps`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from imagegen.domain.errors import InvalidRequest
from imagegen.domain.models import GenerationParams

DEFAULT_MODEL = "flux-schnell"
MAX_PROMPT_LENGTH = 2048
TILE_PIXELS = 512 * 512


class ResponseShape(StrEnum):
    """How a model's REST answer carries the image."""

    JSON_BASE64 = "json_base64"  # {"result": {"image": "<base64>"}, "success": true}
    RAW_BYTES = "raw_bytes"  # the body is the image itself
    MULTIPART_JSON = "multipart_json"  # request is multipart/form-data, answer is JSON base64


class ParamSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["int", "float", "str"]
    description: str
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: Any = None
    wire_name: str | None = None
    multiple_of: int | None = None

    def describe(self, name: str) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"{name} ({_fmt(self.minimum)}-{_fmt(self.maximum)})"
        if self.max_length is not None:
            return f"{name} (text, up to {self.max_length} characters)"
        return name


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Pricing(BaseModel):
    """Workers AI list price. Text-to-image is billed per 512x512 tile and per step."""

    model_config = ConfigDict(frozen=True)

    usd_per_tile: float = 0.0
    usd_per_step: float = 0.0
    note: str = ""


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    model_id: str
    display_name: str
    description: str
    response_shape: ResponseShape
    typical_latency_seconds: float
    default_width: int = 1024
    default_height: int = 1024
    params: Mapping[str, ParamSpec]
    max_prompt_length: int = MAX_PROMPT_LENGTH
    pricing: Pricing | None = None

    def accepted_params(self) -> str:
        return ", ".join(spec.describe(name) for name, spec in self.params.items()) or "none besides prompt"

    def output_size(self, params: GenerationParams) -> tuple[int, int]:
        return (params.width or self.default_width, params.height or self.default_height)

    def estimate_cost_usd(self, params: GenerationParams) -> float | None:
        if self.pricing is None:
            return None
        width, height = self.output_size(params)
        tiles = math.ceil(width * height / TILE_PIXELS)
        steps_spec = self.params.get("steps")
        steps = params.steps or (int(steps_spec.default) if steps_spec and steps_spec.default else 1)
        return round(tiles * self.pricing.usd_per_tile + steps * self.pricing.usd_per_step, 8)


_SD_PARAMS: dict[str, ParamSpec] = {
    "width": ParamSpec(kind="int", minimum=256, maximum=2048, description="Image width in pixels."),
    "height": ParamSpec(kind="int", minimum=256, maximum=2048, description="Image height in pixels."),
    "negative_prompt": ParamSpec(kind="str", max_length=2048, description="What to keep out of the image."),
    "steps": ParamSpec(
        kind="int", minimum=1, maximum=20, default=20, wire_name="num_steps", description="Diffusion steps."
    ),
    "guidance": ParamSpec(
        kind="float", minimum=0, maximum=30, default=7.5, description="How closely to follow the prompt."
    ),
    "seed": ParamSpec(kind="int", minimum=0, maximum=2**32 - 1, description="Seed for reproducible output."),
}

MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="flux-schnell",
            model_id="@cf/black-forest-labs/flux-1-schnell",
            display_name="FLUX.1 [schnell]",
            description="Fast, high quality 1024x1024 images from Black Forest Labs. Prompt and steps only.",
            response_shape=ResponseShape.JSON_BASE64,
            typical_latency_seconds=3.0,
            params={
                "steps": ParamSpec(kind="int", minimum=1, maximum=8, default=4, description="Diffusion steps."),
            },
            pricing=Pricing(usd_per_tile=0.0000528, usd_per_step=0.0001056),
        ),
        ModelSpec(
            key="sdxl-lightning",
            model_id="@cf/bytedance/stable-diffusion-xl-lightning",
            display_name="Stable Diffusion XL Lightning",
            description="Very fast SDXL distillation by ByteDance; good for drafts. Returns PNG.",
            response_shape=ResponseShape.RAW_BYTES,
            typical_latency_seconds=2.0,
            params=_SD_PARAMS,
            pricing=Pricing(note="beta: listed at $0"),
        ),
        ModelSpec(
            key="sdxl-base",
            model_id="@cf/stabilityai/stable-diffusion-xl-base-1.0",
            display_name="Stable Diffusion XL Base 1.0",
            description="Stability AI's SDXL base model; slower, supports negative prompts. Returns PNG.",
            response_shape=ResponseShape.RAW_BYTES,
            typical_latency_seconds=8.0,
            params=_SD_PARAMS,
            pricing=Pricing(note="beta: listed at $0"),
        ),
    )
}


def model_keys() -> list[str]:
    return list(MODELS)


def get_model(key: str) -> ModelSpec:
    try:
        return MODELS[key]
    except KeyError:
        raise InvalidRequest(
            f"Unknown model {key!r}. Valid models: {', '.join(MODELS)}. Call list_models for details."
        ) from None


def validate_params(spec: ModelSpec, raw: Mapping[str, Any]) -> GenerationParams:
    """Check optional parameters against the model; unset (None) parameters are ignored."""
    given = {name: value for name, value in raw.items() if value is not None}
    unsupported = sorted(name for name in given if name not in spec.params)
    if unsupported:
        raise InvalidRequest(
            f"Model {spec.key!r} does not accept {', '.join(unsupported)}. "
            f"It accepts: {spec.accepted_params()}. Remove the parameter or choose another model "
            "(list_models shows what each model accepts)."
        )
    for name, value in given.items():
        _check_bounds(spec, name, spec.params[name], value)
    return GenerationParams(**given)


def _check_bounds(spec: ModelSpec, name: str, param: ParamSpec, value: Any) -> None:
    if param.kind == "str":
        if param.max_length is not None and len(value) > param.max_length:
            raise InvalidRequest(f"{name} is {len(value)} characters; {spec.key!r} allows {param.max_length}.")
        return
    too_low = param.minimum is not None and value < param.minimum
    too_high = param.maximum is not None and value > param.maximum
    if too_low or too_high:
        raise InvalidRequest(
            f"{name}={value} is out of range for {spec.key!r}: use {param.describe(name)}."
        )
    if param.multiple_of and value % param.multiple_of:
        raise InvalidRequest(f"{name}={value} must be a multiple of {param.multiple_of} for {spec.key!r}.")
