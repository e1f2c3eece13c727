"""Access logs without query strings: a token wrongly sent as `?access_token=` must not reach a log file."""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class StripQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access records carry (client, method, path with query, http version, status).
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path = record.args[2].split("?", 1)[0]
            record.args = (*record.args[:2], path, *record.args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    config: dict[str, Any] = {**LOGGING_CONFIG}
    config["filters"] = {"strip_query": {"()": f"{__name__}.StripQueryString"}}
    config["handlers"] = {name: dict(handler) for name, handler in LOGGING_CONFIG["handlers"].items()}
    config["handlers"]["access"]["filters"] = ["strip_query"]
    return config
