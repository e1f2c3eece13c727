"""Offline preview provider: draws a clearly labelled placeholder so the whole flow works without credentials."""

from __future__ import annotations

import asyncio
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from imagegen.domain import catalog
from imagegen.domain.models import PREVIEW_PROVIDER
from imagegen.ports import GeneratedImage, GenerationRequest

PREVIEW_PROVIDER_NAME = PREVIEW_PROVIDER


class PreviewProvider:
    def __init__(self, latency_seconds: float = 0.0) -> None:
        self._latency = latency_seconds

    @property
    def name(self) -> str:
        return PREVIEW_PROVIDER_NAME

    async def generate(self, request: GenerationRequest) -> GeneratedImage:
        if self._latency:
            await asyncio.sleep(self._latency)
        spec = catalog.get_model(request.model)
        width, height = spec.output_size(request.params)
        data = await asyncio.to_thread(_draw, request, spec.display_name, width, height)
        return GeneratedImage(
            data=data, content_type="image/png", extension="png", width=width, height=height
        )


def _draw(request: GenerationRequest, model_name: str, width: int, height: int) -> bytes:
    # The background colour comes from the prompt and seed, so different requests look different.
    digest = hashlib.sha256(f"{request.prompt}|{request.params.seed}".encode()).digest()
    background = (64 + digest[0] // 2, 64 + digest[1] // 2, 64 + digest[2] // 2)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    size = max(12, min(width, height) // 24)
    font = ImageFont.load_default(size=size)
    margin = size
    draw.rectangle((0, 0, width, size * 2 + margin), fill=(20, 20, 20))
    draw.text((margin, margin // 2), "PREVIEW - not AI generated", fill=(255, 210, 0), font=font)
    lines = [f"model: {model_name}", f"size: {width}x{height}", ""]
    chars_per_line = max(10, int(width / (size * 0.6)) - 2)
    lines += textwrap.wrap(request.prompt, chars_per_line)[: max(1, height // (size * 2) - 6)]
    lines += ["", "Set CLOUDFLARE_ACCOUNT_ID and", "CLOUDFLARE_API_TOKEN for real images."]
    y = size * 3 + margin
    for line in lines:
        draw.text((margin, y), line, fill=(255, 255, 255), font=font)
        y += int(size * 1.4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()
