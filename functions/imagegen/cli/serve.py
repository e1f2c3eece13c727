"""`imagegen serve`: the MCP server on this machine, on embedded parts or on the emulated AWS stack."""

from __future__ import annotations

import importlib.util
import os
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagegen.adapters.aws import schema
from imagegen.adapters.workers_ai.settings import WorkersAISettings
from imagegen.cli.console import (
    console,
    local_keyring,
    named_tokens,
    print_client_configs,
    resolve_token,
)
from imagegen.cli.logs import LogLine, render
from imagegen.observability import configure_terminal_logging
from imagegen.settings import LocalSettings
from imagegen.web.logging import uvicorn_log_config

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from imagegen.emulator.stack import StackConfig

EMULATOR_EXTRA = "pip install -e '.[emulator]' (or run `make serve-aws`)"


class Backend(StrEnum):
    LOCAL = "local"
    AWS = "aws"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to bind (env HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env PORT, default 8787)")] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            help="local: SQLite + in-process worker. aws: the Lambda handlers behind an emulation of API "
            "Gateway, Lambda and SQS, on the endpoint in AWS_ENDPOINT_URL (or --moto)"
        ),
    ] = Backend.LOCAL,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data folder (env IMAGEGEN_DATA_DIR, default ./.data)")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Worker concurrency of the local backend (env WORKER_CONCURRENCY)")
    ] = None,
    moto: Annotated[
        bool, typer.Option("--moto", help="aws backend: start moto's server in this process as the endpoint")
    ] = False,
    account_concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            help="aws backend: the Lambda concurrency quota (AWS default 1000; new accounts often 10)",
        ),
    ] = 1000,
) -> None:
    """Start the MCP server on this machine and print ready-to-paste client configs."""
    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "imagegen_data_dir": data_dir,
            "worker_concurrency": concurrency,
        }.items()
        if value is not None
    }
    settings = LocalSettings(**overrides)  # type: ignore[arg-type]
    configure_terminal_logging(settings.log_level)
    if backend is Backend.AWS:
        serve_aws(settings, moto=moto, account_concurrency=account_concurrency)
        return
    serve_local(settings)


def serve_local(settings: LocalSettings) -> None:
    import uvicorn

    from imagegen.cli.graceful import GracefulServer
    from imagegen.runtime.local import LocalRuntime
    from imagegen.runtime.providers import select_provider
    from imagegen.web.routes import MCP_PATH

    token, is_new = resolve_token(settings)
    keyring = local_keyring(settings, token)
    if settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        console.print(
            "[yellow]warning:[/] bound to every interface but ALLOWED_HOSTS is empty: requests by any name "
            "other than localhost get 421. Set ALLOWED_HOSTS=name:port[,...] and PUBLIC_BASE_URL."
        )
    provider = select_provider(WorkersAISettings(), settings.preview_latency_seconds)
    runtime = LocalRuntime(settings, provider)
    print_client_configs(settings.base_url + MCP_PATH, token, is_new, settings.imagegen_data_dir)
    console.print(f"Provider: [bold]{provider.name}[/]   data: {settings.imagegen_data_dir.resolve()}")
    config = uvicorn.Config(
        runtime.web_app(keyring),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(),
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    GracefulServer(config, drain=runtime.drain).run()


def serve_aws(settings: LocalSettings, *, moto: bool, account_concurrency: int) -> None:
    """The deployed handlers behind the emulated API Gateway, Lambda and SQS event source."""
    import uvicorn

    _require_emulator(moto)
    from imagegen.emulator.stack import EmulatedStack

    token, is_new = resolve_token(settings)
    local_keyring(settings, token)  # refuse a bad key configuration before anything starts
    moto_server = _start_moto() if moto else None
    endpoint = moto_server[1] if moto_server else os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        console.print(
            "[red]error:[/] the aws backend runs on an AWS-compatible endpoint: set AWS_ENDPOINT_URL "
            "(moto server, LocalStack) or pass --moto. Real deployments are made with `make deploy`."
        )
        raise typer.Exit(2)
    stack = EmulatedStack(
        stack_config(settings, endpoint, token, account_concurrency=account_concurrency),
        log=print_function_line,
    )
    print_client_configs(stack.mcp_url, token, is_new, settings.imagegen_data_dir)
    console.print(
        f"Backend: [bold]aws[/] (emulated API Gateway + Lambda + SQS) on {endpoint}   "
        f"queue: {stack.queue_url}"
    )
    stack.start()
    try:
        uvicorn.run(
            stack.gateway,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            log_config=uvicorn_log_config(),
            server_header=False,
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
    finally:
        stack.close()
        if moto_server is not None:
            moto_server[0].stop()


def stack_config(
    settings: LocalSettings, endpoint: str, token: str | None, *, account_concurrency: int = 1000
) -> StackConfig:
    from imagegen.emulator.stack import StackConfig

    bound = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    names = [f"{bound}:{settings.port}", f"localhost:{settings.port}", f"127.0.0.1:{settings.port}"]
    domain_names = list(dict.fromkeys([*names, f"[::1]:{settings.port}", *settings.allowed_hosts]))
    credentials = {
        schema.SECRET_AUTH_TOKEN: token,
        schema.SECRET_AUTH_TOKENS: named_tokens(settings),
        schema.SECRET_ADMIN_CLIENT: settings.admin_client,
        **{
            name: os.environ.get(name)
            for name in (
                schema.SECRET_CLOUDFLARE_API_TOKEN,
                schema.SECRET_R2_ACCESS_KEY_ID,
                schema.SECRET_R2_SECRET_ACCESS_KEY,
            )
        },
    }
    account_id = os.environ.get(schema.ENV_R2_ACCOUNT_ID)
    use_real_r2 = bool(account_id and os.environ.get(schema.SECRET_R2_ACCESS_KEY_ID))
    return StackConfig(
        endpoint_url=endpoint,
        region=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        domain_names=domain_names,
        credentials={name: value for name, value in credentials.items() if value},
        cloudflare_account_id=account_id,
        r2_public_base_url=os.environ.get(schema.ENV_R2_PUBLIC_BASE_URL) if use_real_r2 else None,
        use_real_r2=use_real_r2,
        allowed_origins=[*settings.allowed_origins, *settings.cors_allowed_origins],
        account_concurrency=account_concurrency,
    )


def print_function_line(source: str, line: str) -> None:
    """The emulated functions' log lines, rendered as `imagegen logs` renders CloudWatch's."""
    rendered = render(LogLine(timestamp=int(time.time() * 1000), source=source, event_id="", message=line))
    console.print(rendered, soft_wrap=True)


def _require_emulator(moto: bool) -> None:
    missing = [name for name in ("awslambdaric",) if importlib.util.find_spec(name) is None]
    if moto and importlib.util.find_spec("moto") is None:
        missing.append("moto")
    if missing:
        console.print(f"[red]error:[/] the AWS emulation needs {', '.join(missing)}: {EMULATOR_EXTRA}")
        raise typer.Exit(2)


def _start_moto() -> tuple[ThreadedMotoServer, str]:
    from moto.server import ThreadedMotoServer

    from imagegen.emulator.moto_fidelity import make_moto_behave_like_aws
    from imagegen.emulator.stack import EMULATOR_CREDENTIALS

    make_moto_behave_like_aws()
    for name, value in EMULATOR_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"
