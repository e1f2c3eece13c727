"""CDK entry point (`"app": "python -m infra.app"` in cdk.json): validate config, build, check."""

from __future__ import annotations

import sys

from aws_cdk import Annotations, App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, DeployConfig, load_config
from infra.constructs.functions import LayerNotBuiltError
from infra.stack import ImagegenStack


def build_app(
    context: dict[str, object] | None = None, *, outdir: str | None = None
) -> tuple[App, ImagegenStack]:
    app = App(context=context, outdir=outdir)
    config = load_config(app.node.get_all_context())
    stack = create_stack(app, config)
    return app, stack


def create_stack(app: App, config: DeployConfig) -> ImagegenStack:
    stack = ImagegenStack(app, config.stack_name, config=config)
    if config.uses_placeholders:
        Annotations.of(stack).add_warning_v2(
            "imagegen:placeholder-config",
            f"placeholder values for {', '.join(config.uses_placeholders)}: images cannot reach R2 until "
            "you set them (-c key=value or cdk.json).",
        )
    # Acknowledged findings are copied into each resource's Metadata, so the template itself records what
    # was accepted and why.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stack


def main() -> None:
    try:
        app, _ = build_app()
    except (ConfigError, LayerNotBuiltError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    app.synth()


if __name__ == "__main__":
    main()
