"""Small Lambda handlers for testing the emulation itself: they import nothing heavy, so they start fast.

Loaded by the runtime interface client in a separate process, from this folder (the function's code).
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

STATE = {"invocations": 0}


def handler(event: dict[str, Any], context: Any) -> Any:
    """A plain function: does what the event asks, and says what this environment has seen."""
    STATE["invocations"] += 1
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    if event.get("raise"):
        raise RuntimeError(str(event["raise"]))
    if event.get("answer_bytes"):
        return "x" * int(event["answer_bytes"])
    return {
        "invocations": STATE["invocations"],
        "pid": os.getpid(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }


def http_handler(event: dict[str, Any], context: Any) -> Any:
    """Behind the emulated API Gateway: the path says what to answer."""
    path = event["rawPath"]
    if path == "/sleep":
        time.sleep(float(event.get("queryStringParameters", {}).get("seconds", "1")))
        return {"statusCode": 200, "body": "slept"}
    if path == "/crash":
        raise RuntimeError("crash")
    if path == "/plain":
        return {"hello": "world"}
    if path == "/binary":
        return {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "cookies": ["a=1; Path=/", "b=2; Path=/"],
            "isBase64Encoded": True,
            "body": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode(),
        }
    if path == "/not-a-response":
        return {"statusCode": "two hundred"}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


def sqs_handler(event: dict[str, Any], context: Any) -> Any:
    """A worker: fails the records whose body says so, reports them as partial batch failures."""
    bodies = [record["body"] for record in event["Records"]]
    if "crash" in bodies:
        raise RuntimeError("the whole batch fails")
    if "garbage" in bodies:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-id"}]}
    failed = [record["messageId"] for record in event["Records"] if record["body"] == "fail"]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
