"""Small image transforms with Pillow: thumbnails small enough to inline in a tool result."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_MAX_SIDE = 256
THUMBNAIL_QUALITY = 70


def make_thumbnail(data: bytes, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes:
    """A JPEG no larger than `max_side` on its longest side (a few KB for a 256 px preview)."""
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()
