"""Workers AI's wire formats, per catalog model: how a request is encoded, how the answer carries the
image, and what the REST API calls a parameter when its name differs from the tool-facing one.

The catalog (domain) says what a model accepts; this says how Workers AI wants it sent. Sources: each
model's page at developers.cloudflare.com/workers-ai/models/ and, for FLUX.2 (multipart only), the
launch changelogs. A test keeps this table and the catalog in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from imagegen.domain.catalog import ModelSpec


class ResponseShape(StrEnum):
    """How a model's REST answer carries the image."""

    JSON_BASE64 = "json_base64"  # {"result": {"image": "<base64>"}, "success": true}
    RAW_BYTES = "raw_bytes"  # the body is the image itself
    MULTIPART_JSON = "multipart_json"  # request is multipart/form-data, answer is JSON base64


class RequestEncoding(StrEnum):
    JSON = "json"
    MULTIPART = "multipart"  # FLUX.2 takes form fields even when there is only a prompt


@dataclass(frozen=True)
class ModelWire:
    response_shape: ResponseShape
    field_names: Mapping[str, str] = field(default_factory=dict)  # tool-facing name -> Workers AI name

    @property
    def request_encoding(self) -> RequestEncoding:
        if self.response_shape is ResponseShape.MULTIPART_JSON:
            return RequestEncoding.MULTIPART
        return RequestEncoding.JSON

    def wire_name(self, param: str) -> str:
        return self.field_names.get(param, param)


# The Stable Diffusion family and Phoenix call the step count `num_steps`.
_NUM_STEPS = {"steps": "num_steps"}

WIRE: Mapping[str, ModelWire] = {
    "flux-schnell": ModelWire(ResponseShape.JSON_BASE64),
    "sdxl-lightning": ModelWire(ResponseShape.RAW_BYTES, _NUM_STEPS),
    "sdxl-base": ModelWire(ResponseShape.RAW_BYTES, _NUM_STEPS),
    "dreamshaper-8-lcm": ModelWire(ResponseShape.RAW_BYTES, _NUM_STEPS),
    "lucid-origin": ModelWire(ResponseShape.JSON_BASE64),
    "phoenix": ModelWire(ResponseShape.RAW_BYTES, _NUM_STEPS),
    "flux-2-dev": ModelWire(ResponseShape.MULTIPART_JSON),
    "flux-2-klein-4b": ModelWire(ResponseShape.MULTIPART_JSON),
    "flux-2-klein-9b": ModelWire(ResponseShape.MULTIPART_JSON),
}


def wire_for(spec: ModelSpec) -> ModelWire:
    return WIRE[spec.key]
