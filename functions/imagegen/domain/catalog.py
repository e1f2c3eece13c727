"""The model catalog: what each Workers AI text-to-image model accepts, as data rather than if-chains.

Parameter names here are the tool-facing names; how Workers AI wants a request sent (JSON or multipart,
field names, the shape of the answer) is the adapter's business (`adapters.workers_ai.wire`).

Sources: each model's input schema in Cloudflare's model pages (developers.cloudflare.com/workers-ai/models/,
generated from cloudflare-docs `src/content/workers-ai-models/*.json`) and, for the FLUX.2 models whose page
only says "multipart", the launch changelogs that list their form fields. Copies of those schemas live in
`imagegen/fakes/schemas/`, and the fake Workers AI server enforces them.

Where each bound comes from: a bound is Cloudflare's (the same number as its published schema) unless its
name is in `our_bounds`. Ours are tighter choices where the documented range is looser than useful (Leonardo
models accept width 0) or missing (seeds, step minimums, FLUX.2 [dev] steps). A test holds both halves: a
Cloudflare bound must equal the schema's, and an own bound must lie inside it.

`typical_latency_seconds` is a planning figure for wait budgets, not a measurement; `latency_ceiling_seconds`
is the longest a generation is expected to take, from which the provider's request timeout, the worker's
timeout and the queue's visibility timeout are derived.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from imagegen.domain.errors import InvalidRequest, shown
from imagegen.domain.models import GenerationParams

DEFAULT_MODEL = "flux-schnell"
MAX_PROMPT_LENGTH = 2048
TILE_PIXELS = 512 * 512
MEGAPIXEL = 1024 * 1024
MAX_SEED = 2**32 - 1
# Without a reported figure, a generation is planned to take at most this many times its typical latency.
LATENCY_CEILING_FACTOR = 4.0
MIN_LATENCY_CEILING_SECONDS = 30.0


# The limits a catalog entry can set; `our_bounds` names those that are our choice rather than Cloudflare's.
Bound = Literal["minimum", "maximum", "min_length", "max_length"]
PromptBound = Literal["max_prompt_length"]


class ParamSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["int", "float", "str"]
    description: str
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: int | float | str | None = None
    multiple_of: int | None = None
    min_length: int | None = None
    our_bounds: frozenset[Bound] = Field(
        default=frozenset(),
        description="Bounds we chose (tighter than Cloudflare's schema, or absent from it); the rest are Cloudflare's.",
    )

    def describe(self, name: str) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"{name} ({_fmt(self.minimum)}-{_fmt(self.maximum)})"
        if self.max_length is not None:
            return f"{name} (text, up to {self.max_length} characters)"
        if self.minimum is not None:
            return f"{name} (at least {_fmt(self.minimum)})"
        if self.maximum is not None:
            return f"{name} (up to {_fmt(self.maximum)})"
        return name


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Pricing(BaseModel):
    """Workers AI list price in USD. Text-to-image is billed per 512x512 output tile and per step.

    The components add up: tiles * usd_per_tile + steps * usd_per_step + tiles * steps * usd_per_tile_step
    + the megapixel terms. FLUX.2 [dev] bills per tile *per step*; FLUX.2 [klein] 9B bills per megapixel.
    """

    model_config = ConfigDict(frozen=True)

    usd_per_tile: float = 0.0
    usd_per_step: float = 0.0
    usd_per_tile_step: float = 0.0
    usd_first_megapixel: float = 0.0
    usd_per_extra_megapixel: float = 0.0
    assumed_steps: int | None = Field(
        default=None,
        description="Steps to bill when the caller sets none and Cloudflare documents no default.",
    )
    note: str = ""


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    model_id: str
    display_name: str
    description: str
    typical_latency_seconds: float
    reported_slowest_seconds: float | None = Field(
        default=None,
        description="The slowest generation publicly reported for this model, when one is known.",
    )
    default_width: int = 1024
    default_height: int = 1024
    params: Mapping[str, ParamSpec]
    max_prompt_length: int = MAX_PROMPT_LENGTH
    # Only flux-1-schnell's schema caps the prompt (at 2,048); for the other models the cap is ours.
    our_bounds: frozenset[PromptBound] = frozenset({"max_prompt_length"})
    pricing: Pricing | None = None
    output_content_type: str | None = Field(
        default=None,
        description="The image type Cloudflare documents for the answer; None when it documents none. "
        "Informational only: the adapter always detects the real type from the bytes.",
    )
    fixed_steps: int | None = Field(default=None, description="Set when the model runs a fixed step count.")
    docs_url: str = ""

    @property
    def latency_ceiling_seconds(self) -> float:
        """The longest a generation is expected to take: timeouts must leave at least this much."""
        planned = max(MIN_LATENCY_CEILING_SECONDS, self.typical_latency_seconds * LATENCY_CEILING_FACTOR)
        return max(planned, self.reported_slowest_seconds or 0.0)

    def accepted_params(self) -> str:
        return ", ".join(spec.describe(name) for name, spec in self.params.items()) or "none besides prompt"

    def output_size(self, params: GenerationParams) -> tuple[int, int]:
        return (params.width or self.default_width, params.height or self.default_height)

    def estimate_cost_usd(self, params: GenerationParams) -> float | None:
        if self.pricing is None:
            return None
        width, height = self.output_size(params)
        tiles = math.ceil(width * height / TILE_PIXELS)
        steps = self._billed_steps(params)
        price = self.pricing
        extra_megapixels = max(0, math.ceil(width * height / MEGAPIXEL) - 1)
        total = (
            tiles * price.usd_per_tile
            + steps * price.usd_per_step
            + tiles * steps * price.usd_per_tile_step
            + (price.usd_first_megapixel + extra_megapixels * price.usd_per_extra_megapixel)
        )
        return round(total, 8)

    def _billed_steps(self, params: GenerationParams) -> int:
        if params.steps:
            return params.steps
        if self.fixed_steps:
            return self.fixed_steps
        steps_spec = self.params.get("steps")
        if steps_spec is not None and steps_spec.default:
            return int(steps_spec.default)
        if self.pricing is not None and self.pricing.assumed_steps:
            return self.pricing.assumed_steps
        return 1


def _size(axis: str, minimum: int, maximum: int, *, our_bounds: Collection[Bound] = ()) -> ParamSpec:
    return ParamSpec(
        kind="int",
        minimum=minimum,
        maximum=maximum,
        our_bounds=our_bounds,
        description=f"Image {axis} in pixels.",
    )


def _seed(*, cloudflare_minimum: bool) -> ParamSpec:
    # Cloudflare documents no upper bound for seeds (and for some models no lower one); 32 bits is what every
    # model here accepts.
    ours: frozenset[Bound] = frozenset({"maximum"} if cloudflare_minimum else {"minimum", "maximum"})
    return ParamSpec(
        kind="int", minimum=0, maximum=MAX_SEED, our_bounds=ours, description="Seed for reproducible output."
    )


_SD_PARAMS: dict[str, ParamSpec] = {
    "width": _size("width", 256, 2048),
    "height": _size("height", 256, 2048),
    "negative_prompt": ParamSpec(
        kind="str", max_length=2048, our_bounds={"max_length"}, description="What to keep out of the image."
    ),
    "steps": ParamSpec(
        kind="int", minimum=1, maximum=20, default=20, our_bounds={"minimum"}, description="Diffusion steps."
    ),
    # Cloudflare documents only the default (7.5); 0-30 is our cap, the usual CFG range of SD front ends.
    "guidance": ParamSpec(
        kind="float",
        minimum=0,
        maximum=30,
        default=7.5,
        our_bounds={"minimum", "maximum"},
        description="How closely to follow the prompt.",
    ),
    "seed": _seed(cloudflare_minimum=False),
}

# Cloudflare's Leonardo schemas allow width/height from 0; nothing under 256 makes a usable image.
_LEONARDO_MIN_SIDE = 256
# FLUX.2 [dev] documents `steps` without bounds; the cap keeps one call's cost and latency predictable.
_FLUX2_DEV_MAX_STEPS = 50


def _flux2_params(*, with_steps: bool) -> dict[str, ParamSpec]:
    params: dict[str, ParamSpec] = {
        "width": ParamSpec(
            kind="int", minimum=256, maximum=1920, default=1024, description="Image width in pixels."
        ),
        "height": ParamSpec(
            kind="int", minimum=256, maximum=1920, default=768, description="Image height in pixels."
        ),
        "guidance": ParamSpec(
            kind="float", description="Guidance scale; higher follows the prompt more closely."
        ),
        "seed": _seed(cloudflare_minimum=False),
    }
    if with_steps:
        params["steps"] = ParamSpec(
            kind="int",
            minimum=1,
            maximum=_FLUX2_DEV_MAX_STEPS,
            our_bounds={"minimum", "maximum"},
            description="Inference steps; more may improve quality but take longer (Cloudflare's example uses 25).",
        )
    return params


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="flux-schnell",
            model_id="@cf/black-forest-labs/flux-1-schnell",
            display_name="FLUX.1 [schnell]",
            description="Fast, high quality 1024x1024 images from Black Forest Labs. Prompt and steps only.",
            typical_latency_seconds=3.0,
            params={
                "steps": ParamSpec(
                    kind="int",
                    minimum=1,
                    maximum=8,
                    default=4,
                    our_bounds={"minimum"},
                    description="Diffusion steps.",
                ),
            },
            our_bounds=frozenset(),
            pricing=Pricing(
                usd_per_tile=0.0000528,
                usd_per_step=0.0001056,
                note="$0.0000528 per 512x512 tile + $0.0001056 per step",
            ),
            output_content_type="image/jpeg",
            docs_url="https://developers.cloudflare.com/workers-ai/models/flux-1-schnell/",
        ),
        ModelSpec(
            key="sdxl-lightning",
            model_id="@cf/bytedance/stable-diffusion-xl-lightning",
            display_name="Stable Diffusion XL Lightning",
            description="Very fast SDXL distillation by ByteDance; good for drafts. Returns PNG.",
            typical_latency_seconds=2.0,
            params=_SD_PARAMS,
            pricing=Pricing(note="beta: listed at $0"),
            output_content_type="image/png",
            docs_url="https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-lightning/",
        ),
        ModelSpec(
            key="sdxl-base",
            model_id="@cf/stabilityai/stable-diffusion-xl-base-1.0",
            display_name="Stable Diffusion XL Base 1.0",
            description="Stability AI's SDXL base model; slower, supports negative prompts. Returns PNG.",
            typical_latency_seconds=8.0,
            params=_SD_PARAMS,
            pricing=Pricing(note="beta: listed at $0"),
            output_content_type="image/png",
            docs_url="https://developers.cloudflare.com/workers-ai/models/stable-diffusion-xl-base-1.0/",
        ),
        ModelSpec(
            key="dreamshaper-8-lcm",
            model_id="@cf/lykon/dreamshaper-8-lcm",
            display_name="DreamShaper 8 LCM",
            description="Stable Diffusion 1.5 fine-tune by Lykon, tuned for photorealism; supports negative "
            "prompts. Returns PNG.",
            typical_latency_seconds=3.0,
            # Cloudflare documents no default size; 512x512 is the native size of SD 1.5 models.
            default_width=512,
            default_height=512,
            params=_SD_PARAMS,
            pricing=Pricing(note="beta: no list price"),
            output_content_type="image/png",
            docs_url="https://developers.cloudflare.com/workers-ai/models/dreamshaper-8-lcm/",
        ),
        ModelSpec(
            key="lucid-origin",
            model_id="@cf/leonardo/lucid-origin",
            display_name="Leonardo Lucid Origin",
            description="Leonardo.Ai's most prompt-responsive model: graphic design, accurate text in images, "
            "full-HD renders, many styles. Default 1120x1120.",
            typical_latency_seconds=10.0,
            default_width=1120,
            default_height=1120,
            params={
                "width": _size("width", _LEONARDO_MIN_SIDE, 2500, our_bounds={"minimum"}),
                "height": _size("height", _LEONARDO_MIN_SIDE, 2500, our_bounds={"minimum"}),
                "guidance": ParamSpec(
                    kind="float",
                    minimum=0,
                    maximum=10,
                    default=4.5,
                    description="How closely to follow the prompt.",
                ),
                "steps": ParamSpec(kind="int", minimum=1, maximum=40, description="Diffusion steps."),
                "seed": _seed(cloudflare_minimum=True),
            },
            pricing=Pricing(
                usd_per_tile=0.007,
                usd_per_step=0.00013,
                note="$0.007 per 512x512 tile + $0.00013 per step; the default step count is not "
                "documented, so estimates without steps count one",
            ),
            docs_url="https://developers.cloudflare.com/workers-ai/models/lucid-origin/",
        ),
        ModelSpec(
            key="phoenix",
            model_id="@cf/leonardo/phoenix-1.0",
            display_name="Leonardo Phoenix 1.0",
            description="Leonardo.Ai model with strong prompt adherence and coherent text; supports negative "
            "prompts. Returns JPEG.",
            typical_latency_seconds=8.0,
            params={
                "width": _size("width", _LEONARDO_MIN_SIDE, 2048, our_bounds={"minimum"}),
                "height": _size("height", _LEONARDO_MIN_SIDE, 2048, our_bounds={"minimum"}),
                "negative_prompt": ParamSpec(
                    kind="str",
                    min_length=1,
                    max_length=MAX_PROMPT_LENGTH,
                    our_bounds={"max_length"},
                    description="What to keep out of the image.",
                ),
                "steps": ParamSpec(
                    kind="int",
                    minimum=1,
                    maximum=50,
                    default=25,
                    description="Diffusion steps.",
                ),
                "guidance": ParamSpec(
                    kind="float",
                    minimum=2,
                    maximum=10,
                    default=2,
                    description="How closely to follow the prompt.",
                ),
                "seed": _seed(cloudflare_minimum=True),
            },
            pricing=Pricing(
                usd_per_tile=0.0058, usd_per_step=0.00011, note="$0.0058 per 512x512 tile + $0.00011 per step"
            ),
            output_content_type="image/jpeg",
            docs_url="https://developers.cloudflare.com/workers-ai/models/phoenix-1.0/",
        ),
        ModelSpec(
            key="flux-2-dev",
            model_id="@cf/black-forest-labs/flux-2-dev",
            display_name="FLUX.2 [dev]",
            description="Black Forest Labs' most capable model here: highly realistic, detailed images and "
            "JSON prompting. The slowest model; default 1024x768.",
            typical_latency_seconds=20.0,
            # One public report measured about 113 s for a single image.
            reported_slowest_seconds=120.0,
            default_width=1024,
            default_height=768,
            params=_flux2_params(with_steps=True),
            pricing=Pricing(
                usd_per_tile_step=0.00041,
                assumed_steps=25,
                note="$0.00041 per output 512x512 tile per step; estimates without steps assume 25",
            ),
            docs_url="https://developers.cloudflare.com/workers-ai/models/flux-2-dev/",
        ),
        ModelSpec(
            key="flux-2-klein-4b",
            model_id="@cf/black-forest-labs/flux-2-klein-4b",
            display_name="FLUX.2 [klein] 4B",
            description="Ultra-fast distilled FLUX.2 with a fixed 4 steps; cheap drafts and previews. "
            "Default 1024x768.",
            typical_latency_seconds=2.0,
            default_width=1024,
            default_height=768,
            params=_flux2_params(with_steps=False),
            fixed_steps=4,
            pricing=Pricing(usd_per_tile=0.000287, note="$0.000287 per output 512x512 tile"),
            docs_url="https://developers.cloudflare.com/workers-ai/models/flux-2-klein-4b/",
        ),
        ModelSpec(
            key="flux-2-klein-9b",
            model_id="@cf/black-forest-labs/flux-2-klein-9b",
            display_name="FLUX.2 [klein] 9B",
            description="Distilled FLUX.2 with a fixed 4 steps and better quality than klein 4B. "
            "Default 1024x768.",
            typical_latency_seconds=3.0,
            default_width=1024,
            default_height=768,
            params=_flux2_params(with_steps=False),
            fixed_steps=4,
            pricing=Pricing(
                usd_first_megapixel=0.015,
                usd_per_extra_megapixel=0.002,
                note="$0.015 for the first megapixel + $0.002 per further megapixel",
            ),
            docs_url="https://developers.cloudflare.com/workers-ai/models/flux-2-klein-9b/",
        ),
    )
}

_BY_MODEL_ID = {spec.model_id: spec for spec in MODELS.values()}


def model_keys() -> list[str]:
    return list(MODELS)


def get_model(key: str) -> ModelSpec:
    try:
        return MODELS[key]
    except KeyError:
        raise InvalidRequest(
            f"Unknown model {shown(key)}. Valid models: {', '.join(MODELS)}. Call list_models for details."
        ) from None


def find_by_model_id(model_id: str) -> ModelSpec | None:
    """The catalog entry for a Workers AI model id such as '@cf/black-forest-labs/flux-1-schnell'."""
    return _BY_MODEL_ID.get(model_id)


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


_KIND_WORDS = {"int": "a whole number", "float": "a number", "str": "text"}


def _check_kind(spec: ModelSpec, name: str, param: ParamSpec, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no NaN or Infinity, but Python's parser accepts them; no bound would refuse them.
        raise InvalidRequest(f"{name}={value} is not a number; {_fix_hint(spec, name, param)}")
    if param.kind == "str":
        ok = isinstance(value, str)
    elif isinstance(value, bool):
        ok = False
    elif param.kind == "int":
        ok = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    else:
        ok = isinstance(value, int | float)
    if not ok:
        raise InvalidRequest(
            f"{name}={shown(value)} must be {_KIND_WORDS[param.kind]} for {spec.key!r}; {_fix_hint(spec, name, param)}"
        )


def _fix_hint(spec: ModelSpec, name: str, param: ParamSpec) -> str:
    return f"use {param.describe(name)}, or leave it out" + (
        f" (default {_fmt(param.default)})." if isinstance(param.default, int | float) else "."
    )


def _check_bounds(spec: ModelSpec, name: str, param: ParamSpec, value: Any) -> None:
    _check_kind(spec, name, param, value)
    if param.kind == "str":
        if param.max_length is not None and len(value) > param.max_length:
            raise InvalidRequest(
                f"{name} is {len(value)} characters; {spec.key!r} allows {param.max_length}."
            )
        if param.min_length is not None and len(value.strip()) < param.min_length:
            raise InvalidRequest(f"{name} is empty; {spec.key!r} needs text there, or leave it out.")
        return
    too_low = param.minimum is not None and value < param.minimum
    too_high = param.maximum is not None and value > param.maximum
    if too_low or too_high:
        raise InvalidRequest(f"{name}={value} is out of range for {spec.key!r}: use {param.describe(name)}.")
    if param.multiple_of and value % param.multiple_of:
        raise InvalidRequest(f"{name}={value} must be a multiple of {param.multiple_of} for {spec.key!r}.")


# ---------------------------------------------------------------- list_models


class ParamSummary(BaseModel):
    """One optional parameter as a caller sees it (tool-facing name, never the wire name)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["int", "float", "str"]
    description: str
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    default: int | float | str | None = None


class ModelSummary(BaseModel):
    """What list_models needs to show for one model."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(description="The value to pass as `model`.")
    model_id: str = Field(description="The Workers AI model id.")
    name: str
    description: str
    typical_latency_seconds: float
    default_width: int
    default_height: int
    max_prompt_length: int
    parameters: dict[str, ParamSummary]
    accepts: str = Field(description="The parameters in one line, e.g. 'steps (1-8)'.")
    fixed_steps: int | None = None
    pricing: str | None = Field(description="List price in words, or None when unknown.")
    estimated_cost_usd_at_defaults: float | None = Field(
        description="One image at the default size and step count; None when the price is unknown."
    )
    docs_url: str


def summarize(spec: ModelSpec) -> ModelSummary:
    return ModelSummary(
        model=spec.key,
        model_id=spec.model_id,
        name=spec.display_name,
        description=spec.description,
        typical_latency_seconds=spec.typical_latency_seconds,
        default_width=spec.default_width,
        default_height=spec.default_height,
        max_prompt_length=spec.max_prompt_length,
        parameters={
            name: ParamSummary(
                type=param.kind,
                description=param.description,
                minimum=param.minimum,
                maximum=param.maximum,
                min_length=param.min_length,
                max_length=param.max_length,
                default=param.default,
            )
            for name, param in spec.params.items()
        },
        accepts=spec.accepted_params(),
        fixed_steps=spec.fixed_steps,
        pricing=(spec.pricing.note or None) if spec.pricing else None,
        estimated_cost_usd_at_defaults=spec.estimate_cost_usd(GenerationParams()),
        docs_url=spec.docs_url,
    )


def slowest_latency_ceiling_seconds() -> float:
    """The longest any catalog model is expected to take for one image."""
    return max(spec.latency_ceiling_seconds for spec in MODELS.values())


def catalog_summary() -> list[ModelSummary]:
    """Every model, default first, as list_models shows them. `.model_dump()` gives plain dicts."""
    ordered = [MODELS[DEFAULT_MODEL], *(spec for key, spec in MODELS.items() if key != DEFAULT_MODEL)]
    return [summarize(spec) for spec in ordered]
