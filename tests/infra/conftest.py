"""Synthesis helpers: the real cdk.json context, a stand-in layer, one synth per distinct configuration."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner on every kernel start under Node 20; it says nothing about our code.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, assertions
from infra.app import build_app
from infra.stack import ImagegenStack

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synth:
    app: App
    stack: ImagegenStack
    template: assertions.Template
    outdir: Path

    @cached_property
    def json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.json["Resources"].items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, construct: Any) -> str:
        """The template's id for an L2 construct (or an L1 resource)."""
        resource = getattr(construct.node, "default_child", None) or construct
        resolved: str = self.stack.resolve(self.stack.get_logical_id(resource))
        return resolved

    def properties(self, construct: Any) -> dict[str, Any]:
        props: dict[str, Any] = self.json["Resources"][self.logical_id(construct)]["Properties"]
        return props


def cdk_json_context() -> dict[str, Any]:
    """The context `cdk synth` would pass: cdk.json's defaults and feature flags."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context


class Synthesizer:
    """Synthesizes once per distinct set of context overrides, whichever module asks first."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._cache: dict[str, Synth] = {}
        # A few bytes instead of the ~55 MB real layer: synthesis only hashes and copies it.
        self.layer_path = workdir / "layer"
        (self.layer_path / "python").mkdir(parents=True)
        (self.layer_path / "python" / "placeholder.py").write_text("# stand-in for layers/build/python\n")

    def context(self, **overrides: Any) -> dict[str, Any]:
        return {**cdk_json_context(), "layer_path": str(self.layer_path), **overrides}

    def __call__(self, **overrides: Any) -> Synth:
        key = json.dumps(overrides, sort_keys=True)
        if key not in self._cache:
            outdir = self._workdir / f"cdk.out.{len(self._cache)}"
            app, stack = build_app(self.context(**overrides), outdir=str(outdir))
            app.synth()
            self._cache[key] = Synth(app, stack, assertions.Template.from_stack(stack), outdir)
        return self._cache[key]


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    return Synthesizer(tmp_path_factory.mktemp("infra"))


@pytest.fixture(scope="module")
def default_synth(synthesize: Synthesizer) -> Synth:
    return synthesize()


@pytest.fixture(scope="module")
def full_synth(synthesize: Synthesizer) -> Synth:
    """Every optional feature on: alarm e-mail, browser origins, custom domain, client limits."""
    return synthesize(
        stage="prod",
        cloudflare_account_id="0123456789abcdef0123456789abcdef",
        r2_public_base_url="https://images.example.org/",
        r2_jurisdiction="eu",
        allowed_origins="https://inspector.example.org, http://localhost:6274",
        custom_domain="mcp.example.org",
        custom_domain_certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555",
        alarm_email="ops@example.org",
        worker_reserved_concurrency="2",
        log_retention_days="90",
        retain_data="false",
        client_limits='{"*": {"jobs_in_flight": 5}, "ci": {"images_per_day": null}}',
    )
