"""What every Lambda function shares: the runtime, the code asset, the dependency layer, a scoped role."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from layers.build import HASH_FILE_NAME

from infra.config import REPO_ROOT
from infra.nag import acknowledge

# The layer is built for exactly this Python (layers/build.py PYTHON_VERSION; a test keeps them equal).
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64

FUNCTIONS_DIR = REPO_ROOT / "functions"
# The functions/ tree also holds the editable install's metadata and caches; none of it runs in Lambda.
CODE_EXCLUDES = (
    "**/__pycache__",
    "**/*.pyc",
    "*.egg-info",
    "**/tests",
    "**/.mypy_cache",
    "**/.pytest_cache",
    "**/.ruff_cache",
    # What runs on a developer's machine only: the CLI, the emulation of AWS, the fake Workers AI.
    "imagegen/cli",
    "imagegen/emulator",
    "imagegen/fakes",
)
LAYER_EXCLUDES = (HASH_FILE_NAME, "python.partial")


class LayerNotBuiltError(FileNotFoundError):
    pass


class SharedCode(Construct):
    """One code asset for both functions (they share the core) and one layer for their dependencies."""

    def __init__(self, scope: Construct, construct_id: str, *, layer_path: Path) -> None:
        super().__init__(scope, construct_id)
        if not (layer_path / "python").is_dir():
            raise LayerNotBuiltError(
                f"the dependency layer is missing: {layer_path / 'python'} does not exist. "
                "Run `make layer` (or pass -c layer_path=DIR holding a python/ folder)."
            )
        self.code = lambda_.Code.from_asset(
            str(FUNCTIONS_DIR), exclude=list(CODE_EXCLUDES), ignore_mode=IgnoreMode.GLOB
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_path), exclude=list(LAYER_EXCLUDES)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="imagegen runtime dependencies (layers/requirements.txt)",
            removal_policy=RemovalPolicy.DESTROY,
        )


class PythonFunction(Construct):
    """A function with its own role and log group, so its permissions are exactly what it is granted."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedCode,
        handler: str,
        description: str,
        timeout: Duration,
        memory_size: int,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        tracing: bool,
        reserved_concurrent_executions: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        # A role of our own instead of the default one, which would attach the AWS managed
        # AWSLambdaBasicExecutionRole policy: log writes to every log group in the account.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"imagegen {construct_id} function",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=shared.code,
            handler=handler,
            layers=[shared.layer],
            role=self.role,
            description=description,
            timeout=timeout,
            memory_size=memory_size,
            environment=dict(environment),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=reserved_concurrent_executions,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to python3.13 on purpose: the dependency layer is built from cp313 aarch64 "
            "wheels (layers/build.py PYTHON_VERSION) and both move together in one change.",
        )
        if tracing:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
                "permissions; '*' is the only valid resource for them.",
            )
