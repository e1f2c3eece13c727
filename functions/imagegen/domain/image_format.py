"""Detect an image's real format from its first bytes. Declared content types are not trusted."""

from __future__ import annotations

from typing import NamedTuple


class ImageFormat(NamedTuple):
    content_type: str
    extension: str


PNG = ImageFormat("image/png", "png")
JPEG = ImageFormat("image/jpeg", "jpg")
WEBP = ImageFormat("image/webp", "webp")

_EXTENSIONS = {fmt.extension: fmt for fmt in (PNG, JPEG, WEBP)}


def detect_image_format(data: bytes) -> ImageFormat | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def format_for_extension(extension: str) -> ImageFormat | None:
    return _EXTENSIONS.get(extension.lower().lstrip("."))
