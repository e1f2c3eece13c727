"""The catalog against Cloudflare's published input schemas (copies in imagegen/fakes/schemas/).

Two checks: the widest request the catalog allows, every bound at its maximum and then at its minimum, is
sent through the real adapter to the fake Workers AI server, which validates it against Cloudflare's schema;
and every bound the catalog calls Cloudflare's equals the schema's, while every bound it calls its own lies
inside the schema's. A catalog bound wider than Cloudflare's fails both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from imagegen.adapters.workers_ai.provider import WorkersAIProvider
from imagegen.adapters.workers_ai.wire import wire_for
from imagegen.domain import catalog
from imagegen.domain.catalog import Bound, ModelSpec, ParamSpec
from imagegen.domain.models import GenerationParams
from imagegen.fakes.cloudflare_schemas import schema_for
from imagegen.ports import GenerationRequest
from tests.support.fake_time import no_sleep
from tests.support.fake_workers_ai import FakeWorkersAI

Extreme = Literal["maximum", "minimum"]

# Catalog bound -> JSON Schema keyword, and whether a value above the schema's (True) or below it is wider.
KEYWORDS: dict[Bound, tuple[str, bool]] = {
    "minimum": ("minimum", False),
    "maximum": ("maximum", True),
    "min_length": ("minLength", False),
    "max_length": ("maxLength", True),
}
JSON_TYPES = {"int": "integer", "float": "number", "str": "string"}


@pytest.fixture
async def provider(fake: FakeWorkersAI) -> AsyncIterator[WorkersAIProvider]:
    async with WorkersAIProvider(fake.settings(), sleep=no_sleep) as workers_ai:
        yield workers_ai


def extreme_value(param: ParamSpec, extreme: Extreme) -> Any:
    """The param at its catalog maximum or minimum; a representative value where the catalog sets none."""
    if param.kind == "str":
        longest = param.max_length if param.max_length is not None else 100
        shortest = max(param.min_length or 1, 1)
        return "n" * (longest if extreme == "maximum" else shortest)
    bound = param.maximum if extreme == "maximum" else param.minimum
    if bound is None:
        bound = param.default if isinstance(param.default, int | float) else 1
    return int(bound) if param.kind == "int" else float(bound)


def widest_request(spec: ModelSpec, extreme: Extreme) -> GenerationRequest:
    prompt = "x" * (spec.max_prompt_length if extreme == "maximum" else 1)
    params = {name: extreme_value(param, extreme) for name, param in spec.params.items()}
    return GenerationRequest(model=spec.key, prompt=prompt, params=GenerationParams(**params))


@pytest.mark.parametrize("extreme", ["maximum", "minimum"])
@pytest.mark.parametrize("key", list(catalog.MODELS))
async def test_given_the_widest_request_the_catalog_allows_then_cloudflares_schema_accepts_it(
    fake: FakeWorkersAI, provider: WorkersAIProvider, key: str, extreme: Extreme
) -> None:
    spec = catalog.MODELS[key]
    request = widest_request(spec, extreme)

    # A bound wider than Cloudflare's makes the fake answer 5006, which the adapter raises as invalid_input.
    await provider.generate(request)

    sent = fake.calls[-1].fields
    wire = wire_for(spec)
    assert set(sent) == {"prompt"} | {wire.wire_name(name) for name in spec.params}, "a parameter was dropped"


@pytest.mark.parametrize("key", list(catalog.MODELS))
def test_given_each_model_then_every_catalog_bound_is_cloudflares_or_an_own_one_inside_it(key: str) -> None:
    spec = catalog.MODELS[key]
    schema = schema_for(spec.model_id)
    wire = wire_for(spec)

    for name, param in spec.params.items():
        field = wire.wire_name(name)
        assert field in schema.properties, f"{key}: Cloudflare's schema has no field {field!r}"
        published = schema.properties[field]
        assert published["type"] == JSON_TYPES[param.kind], f"{key}.{name}: type"
        for bound, (keyword, above_is_wider) in KEYWORDS.items():
            check_bound(
                f"{key}.{name}.{bound}",
                ours=getattr(param, bound),
                cloudflares=published.get(keyword),
                own=bound in param.our_bounds,
                above_is_wider=above_is_wider,
            )
    check_bound(
        f"{key}.max_prompt_length",
        ours=spec.max_prompt_length,
        cloudflares=schema.properties["prompt"].get("maxLength"),
        own="max_prompt_length" in spec.our_bounds,
        above_is_wider=True,
    )


def check_bound(
    where: str, *, ours: float | None, cloudflares: float | None, own: bool, above_is_wider: bool
) -> None:
    if not own:
        assert ours == cloudflares, (
            f"{where} is {ours}, Cloudflare's is {cloudflares} (mark it ours if chosen)"
        )
        return
    assert ours is not None, f"{where} is marked ours but not set"
    if cloudflares is not None:
        wider = ours > cloudflares if above_is_wider else ours < cloudflares
        assert not wider, f"{where} is {ours}, wider than Cloudflare's {cloudflares}"


@pytest.mark.parametrize("key", list(catalog.MODELS))
def test_given_each_model_then_the_schema_copy_says_where_it_came_from(key: str) -> None:
    schema = schema_for(catalog.MODELS[key].model_id)

    assert schema.source.startswith("https://github.com/cloudflare/cloudflare-docs/blob/")
    assert schema.input["required"] == ["prompt"]
