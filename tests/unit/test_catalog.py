"""The model catalog: per-model validation, messages a model can act on, bounds, costs, the list_models summary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imagegen.adapters.workers_ai.wire import WIRE, RequestEncoding, ResponseShape, wire_for
from imagegen.domain import catalog
from imagegen.domain.errors import InvalidRequest
from imagegen.domain.models import GenerationParams

SD_FAMILY = ["sdxl-lightning", "sdxl-base", "dreamshaper-8-lcm"]
FLUX2 = ["flux-2-dev", "flux-2-klein-4b", "flux-2-klein-9b"]


# ---------------------------------------------------------------- the catalog itself


@pytest.mark.parametrize("key", list(catalog.MODELS))
def test_given_each_model_then_its_entry_is_consistent(key: str) -> None:
    spec = catalog.MODELS[key]

    assert spec.key == key
    assert spec.model_id.startswith("@cf/")
    assert spec.typical_latency_seconds > 0
    assert spec.docs_url.startswith("https://developers.cloudflare.com/workers-ai/models/")
    assert catalog.find_by_model_id(spec.model_id) is spec
    for axis, default in (("width", spec.default_width), ("height", spec.default_height)):
        if axis in spec.params:
            param = spec.params[axis]
            assert param.minimum is not None and param.maximum is not None
            assert param.minimum <= default <= param.maximum
    for param in spec.params.values():
        if param.default is not None and param.minimum is not None and param.maximum is not None:
            assert param.minimum <= param.default <= param.maximum


def test_given_the_seed_models_then_they_keep_their_keys_and_ids() -> None:
    assert catalog.MODELS["flux-schnell"].model_id == "@cf/black-forest-labs/flux-1-schnell"
    assert catalog.MODELS["sdxl-lightning"].model_id == "@cf/bytedance/stable-diffusion-xl-lightning"
    assert catalog.MODELS["sdxl-base"].model_id == "@cf/stabilityai/stable-diffusion-xl-base-1.0"
    assert catalog.DEFAULT_MODEL in catalog.MODELS


@pytest.mark.parametrize(
    ("key", "shape", "encoding"),
    [
        ("flux-schnell", ResponseShape.JSON_BASE64, RequestEncoding.JSON),
        ("lucid-origin", ResponseShape.JSON_BASE64, RequestEncoding.JSON),
        ("sdxl-base", ResponseShape.RAW_BYTES, RequestEncoding.JSON),
        ("phoenix", ResponseShape.RAW_BYTES, RequestEncoding.JSON),
        ("flux-2-dev", ResponseShape.MULTIPART_JSON, RequestEncoding.MULTIPART),
        ("flux-2-klein-4b", ResponseShape.MULTIPART_JSON, RequestEncoding.MULTIPART),
    ],
)
def test_given_a_model_then_its_wire_shape_matches_cloudflares_docs(
    key: str, shape: ResponseShape, encoding: RequestEncoding
) -> None:
    wire = wire_for(catalog.MODELS[key])

    assert (wire.response_shape, wire.request_encoding) == (shape, encoding)


def test_given_the_catalog_then_every_model_has_a_wire_format_and_nothing_else_does() -> None:
    assert set(WIRE) == set(catalog.MODELS)
    for key, wire in WIRE.items():
        assert set(wire.field_names) <= set(catalog.MODELS[key].params), key


@pytest.mark.parametrize(
    ("key", "wire"),
    [
        ("flux-schnell", "steps"),
        ("sdxl-base", "num_steps"),
        ("phoenix", "num_steps"),
        ("flux-2-dev", "steps"),
    ],
)
def test_given_a_model_with_steps_then_the_wire_name_is_what_cloudflare_expects(key: str, wire: str) -> None:
    assert "steps" in catalog.MODELS[key].params
    assert wire_for(catalog.MODELS[key]).wire_name("steps") == wire


@pytest.mark.parametrize("key", ["flux-2-klein-4b", "flux-2-klein-9b"])
def test_given_a_klein_model_then_steps_are_fixed_and_not_a_parameter(key: str) -> None:
    spec = catalog.MODELS[key]

    assert "steps" not in spec.params
    assert spec.fixed_steps == 4


# ---------------------------------------------------------------- validation messages


def test_given_width_on_flux_schnell_when_validating_then_the_message_names_what_it_accepts() -> None:
    spec = catalog.get_model("flux-schnell")

    with pytest.raises(InvalidRequest) as caught:
        catalog.validate_params(spec, {"width": 512, "height": 512})

    message = str(caught.value)
    assert "'flux-schnell' does not accept height, width" in message
    assert "It accepts: steps (1-8)." in message
    assert "list_models" in message


@pytest.mark.parametrize("key", SD_FAMILY)
def test_given_an_unknown_parameter_on_an_sd_model_when_validating_then_all_its_parameters_are_listed(
    key: str,
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        catalog.validate_params(catalog.get_model(key), {"style": "anime"})

    message = str(caught.value)
    for expected in (
        "width (256-2048)",
        "height (256-2048)",
        "negative_prompt (text, up to 2048 characters)",
        "steps (1-20)",
        "guidance (0-30)",
        "seed (0-4294967295)",
    ):
        assert expected in message


def test_given_steps_on_a_klein_model_when_validating_then_the_message_lists_its_parameters() -> None:
    with pytest.raises(InvalidRequest) as caught:
        catalog.validate_params(catalog.get_model("flux-2-klein-4b"), {"steps": 4})

    message = str(caught.value)
    assert "does not accept steps" in message
    assert "width (256-1920), height (256-1920), guidance, seed" in message


def test_given_an_unknown_model_when_looking_it_up_then_the_message_lists_valid_models() -> None:
    with pytest.raises(InvalidRequest) as caught:
        catalog.get_model("dall-e-3")

    message = str(caught.value)
    assert "'dall-e-3'" in message
    for key in catalog.MODELS:
        assert key in message


def test_given_no_parameters_when_validating_then_every_model_accepts_them() -> None:
    for spec in catalog.MODELS.values():
        assert catalog.validate_params(spec, {}) == GenerationParams()


def test_given_none_values_when_validating_then_they_are_ignored() -> None:
    params = catalog.validate_params(catalog.get_model("flux-schnell"), {"width": None, "steps": 2})

    assert params == GenerationParams(steps=2)


# ---------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("key", "name", "accepted", "rejected"),
    [
        ("flux-schnell", "steps", [1, 8], [0, 9]),
        ("sdxl-base", "width", [256, 2048], [255, 2049]),
        ("sdxl-lightning", "steps", [1, 20], [0, 21]),
        ("dreamshaper-8-lcm", "height", [256, 2048], [100, 4096]),
        ("lucid-origin", "width", [256, 2500], [0, 2501]),
        ("lucid-origin", "guidance", [0, 10], [-0.5, 10.5]),
        ("lucid-origin", "steps", [1, 40], [0, 41]),
        ("phoenix", "guidance", [2, 10], [1.5, 11]),
        ("phoenix", "steps", [1, 50], [0, 51]),
        ("flux-2-dev", "width", [256, 1920], [255, 1921]),
        ("flux-2-dev", "steps", [1, 50], [0, 51]),
        ("flux-2-klein-9b", "height", [256, 1920], [255, 2048]),
        ("sdxl-base", "seed", [0, 2**32 - 1], [-1, 2**32]),
    ],
)
def test_given_values_at_and_past_the_bounds_when_validating_then_only_in_range_values_pass(
    key: str, name: str, accepted: list[float], rejected: list[float]
) -> None:
    spec = catalog.get_model(key)
    for value in accepted:
        assert getattr(catalog.validate_params(spec, {name: value}), name) == value
    for value in rejected:
        with pytest.raises(InvalidRequest) as caught:
            catalog.validate_params(spec, {name: value})
        assert f"{name}={value} is out of range for {key!r}" in str(caught.value)


def test_given_a_negative_prompt_too_long_when_validating_then_the_limit_is_named() -> None:
    with pytest.raises(InvalidRequest, match="negative_prompt is 2049 characters; 'sdxl-base' allows 2048"):
        catalog.validate_params(catalog.get_model("sdxl-base"), {"negative_prompt": "x" * 2049})


def test_given_a_blank_negative_prompt_for_phoenix_when_validating_then_it_is_rejected() -> None:
    with pytest.raises(InvalidRequest, match="negative_prompt is empty"):
        catalog.validate_params(catalog.get_model("phoenix"), {"negative_prompt": "  "})


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("width", "wide", "a whole number"),
        ("width", 512.5, "a whole number"),
        ("width", True, "a whole number"),
        ("guidance", "high", "a number"),
        ("negative_prompt", 42, "text"),
    ],
)
def test_given_a_value_of_the_wrong_kind_when_validating_then_the_message_says_what_is_expected(
    name: str, value: Any, words: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        catalog.validate_params(catalog.get_model("sdxl-base"), {name: value})

    assert f"must be {words} for 'sdxl-base'" in str(caught.value)


def test_given_a_whole_float_for_an_int_when_validating_then_it_becomes_an_int() -> None:
    params = catalog.validate_params(catalog.get_model("sdxl-base"), {"width": 1024.0})

    assert params.width == 1024
    assert isinstance(params.width, int)


# ---------------------------------------------------------------- cost estimates


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        # 1024x1024 = 4 tiles; default 4 steps: 4 * 0.0000528 + 4 * 0.0001056
        ("flux-schnell", {}, 0.0006336),
        ("flux-schnell", {"steps": 8}, 4 * 0.0000528 + 8 * 0.0001056),
        ("sdxl-base", {"width": 2048, "height": 2048}, 0.0),
        # 1120x1120 rounds up to 5 tiles; no documented default step count, so one step
        ("lucid-origin", {}, 5 * 0.007 + 0.00013),
        ("lucid-origin", {"width": 512, "height": 512, "steps": 20}, 0.007 + 20 * 0.00013),
        ("phoenix", {}, 4 * 0.0058 + 25 * 0.00011),
        # 1024x768 = 3 tiles, billed per tile per step; 25 steps assumed when none is given
        ("flux-2-dev", {}, 3 * 25 * 0.00041),
        ("flux-2-dev", {"steps": 10, "width": 512, "height": 512}, 10 * 0.00041),
        ("flux-2-klein-4b", {}, 3 * 0.000287),
        ("flux-2-klein-9b", {}, 0.015),
        # 1920x1920 is 3.5 MP: the first MP plus three started ones
        ("flux-2-klein-9b", {"width": 1920, "height": 1920}, 0.015 + 3 * 0.002),
    ],
)
def test_given_a_model_and_parameters_when_estimating_then_the_list_price_is_applied(
    key: str, params: dict[str, Any], expected: float
) -> None:
    spec = catalog.get_model(key)

    assert spec.estimate_cost_usd(GenerationParams(**params)) == pytest.approx(expected, abs=1e-9)


def test_given_a_bigger_image_when_estimating_then_it_costs_more() -> None:
    spec = catalog.get_model("phoenix")

    small = spec.estimate_cost_usd(GenerationParams(width=512, height=512))
    large = spec.estimate_cost_usd(GenerationParams(width=2048, height=2048))

    assert small is not None and large is not None
    assert large > small


# ---------------------------------------------------------------- list_models summary


def test_given_the_catalog_when_summarizing_then_every_model_appears_once_default_first() -> None:
    summary = catalog.catalog_summary()

    assert summary[0].model == catalog.DEFAULT_MODEL
    assert sorted(item.model for item in summary) == sorted(catalog.MODELS)


def test_given_the_summary_when_serialized_then_it_carries_bounds_latency_and_price_but_no_wire_names() -> (
    None
):
    dumped = [item.model_dump(mode="json") for item in catalog.catalog_summary()]
    by_key = {item["model"]: item for item in dumped}

    flux = by_key["flux-schnell"]
    assert flux["model_id"] == "@cf/black-forest-labs/flux-1-schnell"
    assert flux["parameters"] == {
        "steps": {
            "type": "int",
            "description": "Diffusion steps.",
            "minimum": 1.0,
            "maximum": 8.0,
            "min_length": None,
            "max_length": None,
            "default": 4,
        }
    }
    assert flux["accepts"] == "steps (1-8)"
    assert flux["typical_latency_seconds"] == 3.0
    assert flux["estimated_cost_usd_at_defaults"] == pytest.approx(0.0006336)
    assert "0.0000528" in flux["pricing"]
    assert by_key["flux-2-klein-4b"]["fixed_steps"] == 4
    assert "num_steps" not in json.dumps(dumped)
