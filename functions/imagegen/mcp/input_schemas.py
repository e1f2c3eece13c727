"""Input schemas that say exactly what the tools accept, and say it briefly.

The SDK generates each tool's input schema from its signature. That schema has three faults this
module removes, once, when the server is built:
- an optional argument is written `anyOf: [{type: X}, {type: null}]` with `default: null`, so bounds and
  enums given beside the `anyOf` (say the model filter's `enum`) contradict the default. An optional
  argument is simply one a client may leave out: here it becomes `{type: X, ...}`, not required.
- unknown arguments are allowed; here `additionalProperties` is false, as the server refuses them;
- every property carries a generated `title`, which the model reads as noise (and pays for in tokens).
Rules the signature cannot express (exactly one of two arguments) are added by the tool groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NULL_BRANCH = {"type": "null"}
# Rules an input schema cannot get from a signature, by tool name.
SchemaRules = Mapping[str, Mapping[str, Any]]


def tidy_input_schema(
    schema: Mapping[str, Any], extra_rules: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    properties = {name: _tidy_property(dict(prop)) for name, prop in (schema.get("properties") or {}).items()}
    tidy: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if schema.get("required"):
        tidy["required"] = list(schema["required"])
    tidy.update(extra_rules or {})
    return tidy


def _tidy_property(prop: dict[str, Any]) -> dict[str, Any]:
    prop.pop("title", None)
    branches = prop.get("anyOf")
    if (
        isinstance(branches, list)
        and len(branches) == 2
        and NULL_BRANCH in branches
        and prop.get("default") is None
    ):
        (value_branch,) = [branch for branch in branches if branch != NULL_BRANCH]
        prop.pop("anyOf")
        prop.pop("default", None)
        prop = {**value_branch, **prop}
    return prop


def argument_names(schema: Mapping[str, Any]) -> list[str]:
    return list((schema.get("properties") or {}).keys())
