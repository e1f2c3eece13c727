"""Pick the image provider: Workers AI when credentials are configured, else the offline preview."""

from __future__ import annotations

from imagegen.adapters.preview_provider import PreviewProvider
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.ports import ImageProvider


def select_provider(workers_ai: WorkersAISettings, preview_latency_seconds: float = 0.0) -> ImageProvider:
    if workers_ai.configured:
        from imagegen.adapters.workers_ai.provider import WorkersAIProvider

        return WorkersAIProvider(workers_ai)
    return PreviewProvider(latency_seconds=preview_latency_seconds)
