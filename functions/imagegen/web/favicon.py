"""The server's icon at /favicon.ico, which every browser asks for: a picture (a sun over hills) in a blue
square, 32 px. Kept as bytes so that serving it needs no image library."""

from __future__ import annotations

import base64
from typing import Final

from starlette.responses import Response

FAVICON_ICO: Final = base64.b64decode(
    "AAABAAEAICAAAAAAIAAmAQAAFgAAAIlQTkcNChoKAAAADUlIRFIAAAAgAAAAIAgGAAAAc3p69AAAAO1JREFUeJztl00SgjAMhUuHI+ARcDiUO7yGK68BOw/l4BHwDrjSkbavaTAJG9+GoenkfUl/GJzbWVVqsO3nRcPsMR4iP29ljnJ7aoI2hEcBKwhvbR5C1BrJ75fT6r273uDcaBNKm6MxFYCcEYqJd4CrP4AoQG63o5h4B1JGOTD2PTANjTuen2wIJFYHpqFZPSW0eQmkIIoBJKtmAyBzCqoE+udTQMFRECRASRXhHM5yZQGk1j2XBwJwzamWo3HRm3BLx5IAWkculTcC0DJH+Xf/HH/U9vNiqbdvFUJYFPv9i+ZRwMI8AtCGsCiQrRdfCMhKRwCFJgAAAABJRU5ErkJggg=="
)


def favicon_response() -> Response:
    return Response(
        FAVICON_ICO, media_type="image/x-icon", headers={"cache-control": "public, max-age=86400"}
    )
