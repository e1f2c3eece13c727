"""What API Gateway (HTTP API) imposes on the HTTP edge in front of Lambda. It cannot be configured."""

from __future__ import annotations

from typing import Final

# Every integration ends at 30 s, counted from when the gateway received the request (cold start included).
API_GATEWAY_TIMEOUT_SECONDS: Final = 30.0
# Answer this long before the earlier deadline: the response still has to cross API Gateway.
RESPONSE_MARGIN_SECONDS: Final = 1.0
# Request bodies above this get 413 from the gateway itself.
API_GATEWAY_MAX_BODY_BYTES: Final = 10 * 1024 * 1024
# A synchronous Lambda answer is at most 6 MB; what a handler returns inline stays under this, leaving room
# for the JSON around it and the response envelope.
MAX_INLINE_RESPONSE_BYTES: Final = 5_500_000
