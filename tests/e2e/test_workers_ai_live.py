"""Opt-in smoke test against the real Workers AI API. It spends a few neurons.

Run with: WORKERS_AI_LIVE=1 CLOUDFLARE_ACCOUNT_ID=... CLOUDFLARE_API_TOKEN=... pytest tests/e2e/test_workers_ai_live.py
Optional: WORKERS_AI_LIVE_MODELS=flux-schnell,sdxl-lightning (default: flux-schnell only).
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from imagegen.adapters.workers_ai.provider import WorkersAIProvider
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.domain import catalog
from imagegen.domain.models import GenerationParams
from imagegen.ports import GenerationRequest

LIVE = (
    os.environ.get("WORKERS_AI_LIVE") == "1"
    and bool(os.environ.get("CLOUDFLARE_ACCOUNT_ID"))
    and bool(os.environ.get("CLOUDFLARE_API_TOKEN"))
)
MODELS = [
    key.strip() for key in os.environ.get("WORKERS_AI_LIVE_MODELS", "flux-schnell").split(",") if key.strip()
]

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not LIVE, reason="set WORKERS_AI_LIVE=1, CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN"
    ),
]


@pytest.mark.parametrize("key", MODELS)
async def test_given_real_credentials_when_generating_then_a_readable_image_comes_back(key: str) -> None:
    spec = catalog.get_model(key)
    params = {"width": 512, "height": 512} if "width" in spec.params else {}
    if "steps" in spec.params:
        params["steps"] = int(spec.params["steps"].minimum or 1)

    async with WorkersAIProvider(WorkersAISettings()) as provider:
        image = await provider.generate(
            GenerationRequest(
                model=key,
                prompt="a small red lighthouse on a rock, flat illustration",
                params=GenerationParams(**params),
            )
        )

    assert image.content_type in {"image/png", "image/jpeg", "image/webp"}
    with Image.open(io.BytesIO(image.data)) as decoded:
        assert decoded.size == (image.width, image.height)
    if params.get("width"):
        assert (image.width, image.height) == (params["width"], params["height"])
