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


def decodes(data: bytes) -> bool:
    """Whether the bytes are a whole image a decoder can read (a truncated or overwritten file is not)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True
