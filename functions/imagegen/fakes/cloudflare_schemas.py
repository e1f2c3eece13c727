"""Cloudflare's published input schemas for the catalog's models, as kept in `schemas/` (see its README).

They are the fake Workers AI server's idea of valid input, and deliberately not the catalog's: a catalog
bound wider than Cloudflare allows must fail against them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

SCHEMA_PACKAGE = "imagegen.fakes"
SCHEMA_FOLDER = "schemas"


@dataclass(frozen=True)
class CloudflareSchema:
    model_id: str
    source: str  # where `input` was copied from, pinned to a commit
    input: Mapping[str, Any]  # a JSON Schema for the request fields

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        properties: Mapping[str, Mapping[str, Any]] = self.input.get("properties", {})
        return properties


def schema_file_name(model_id: str) -> str:
    """`@cf/leonardo/phoenix-1.0` -> `phoenix-1.0.json`, the name cloudflare-docs gives the model's file."""
    return model_id.rsplit("/", 1)[-1] + ".json"


@functools.cache
def schema_for(model_id: str) -> CloudflareSchema:
    path = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER, schema_file_name(model_id))
    if not path.is_file():
        raise LookupError(
            f"no copy of Cloudflare's input schema for {model_id} in {SCHEMA_PACKAGE}/{SCHEMA_FOLDER}"
        )
    document = json.loads(path.read_text(encoding="utf-8"))
    if document["model"] != model_id:
        raise LookupError(f"{path.name} describes {document['model']}, not {model_id}")
    return CloudflareSchema(model_id=model_id, source=document["source"], input=document["input"])
