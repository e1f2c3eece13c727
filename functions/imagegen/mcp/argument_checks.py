"""What a tool call's arguments must be before any tool runs, and what the model reads when they are not.

The SDK validates arguments with pydantic and passes the raw report on ("4 validation errors for
generate_imageArguments ..."); a model acts better on one line per argument in plain words that says
what to send instead. Unknown arguments are refused by name (with the closest valid one), never
silently ignored, and numbers must be finite everywhere.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from imagegen.domain.errors import shown

_EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of reasonable size",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "string_type": "text",
    "list_type": "a list",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "an object",
}


def unknown_arguments_message(tool: str, given: Mapping[str, Any], valid: list[str]) -> str | None:
    unknown = [name for name in given if name not in valid]
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        hints.append(f"{shown(name)}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"{tool} does not take {', '.join(hints)}. Its arguments are: {', '.join(valid)}. "
        "Remove the unknown argument and call again."
    )


def non_finite_message(given: Mapping[str, Any]) -> str | None:
    for name, value in given.items():
        if _non_finite(value):
            return f"{name}={shown(value)} holds a value that is not a finite number; send plain numbers such as 7.5."
    return None


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_non_finite(item) for item in value)
    if isinstance(value, dict):
        return any(_non_finite(item) for item in value.values())
    return False


def validation_message(tool: str, error: ValidationError) -> str:
    """One sentence per rejected argument, in plain words."""
    problems = []
    for item in error.errors(include_url=False):
        name = ".".join(str(part) for part in item["loc"]) or "arguments"
        kind = item["type"]
        if kind == "missing":
            problems.append(f"{name} is required")
        elif kind in _EXPECTED:
            problems.append(f"{name} must be {_EXPECTED[kind]}, not {shown(item.get('input'))}")
        else:
            problems.append(f"{name}: {str(item.get('msg', 'is not valid')).lower()}")
    return f"The arguments for {tool} are not valid: {'; '.join(problems)}. Fix them and call again."
