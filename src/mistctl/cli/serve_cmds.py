"""`mistctl serve`: the provisioning service (FastAPI on uvicorn), on the CLI's engine and state store."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI

READY_PREFIX = "mistctl service ready on "
LOG_LEVEL_ENV = "MISTCTL_LOG_LEVEL"
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open
MAX_HEADERS = 16 * 1024  # bytes of request line and headers (h11; httptools has its own limit)


def register(app: typer.Typer) -> None:
    """Add the `serve` command."""
    app.command("serve")(serve_cmd)


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: a free one, shown when ready).")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    max_connections: Annotated[int, typer.Option(
        "--max-connections", min=2, help="Open connections per worker process; past it the longest-idle one "
                                         "is closed.")] = 1000,
    header_timeout: Annotated[float, typer.Option(
        "--header-timeout", min=0.5, help="Seconds a connection has to send a request's headers.")] = 10.0,
) -> None:
    """Serve the HTTP API until interrupted; prints one ready line (docs at /docs).

    Connections are bounded (--max-connections, --header-timeout; see mistctl.api.edge_http): for
    exposure beyond a private network put a reverse proxy (TLS, rate limits) in front.

    Reads the same environment as the other commands: MIST_HOST, MIST_APITOKEN, MIST_ORG_ID,
    MISTCTL_STATE, MISTCTL_API_KEYS (service keys), MISTCTL_DESIGN (the org design).
    """
    import uvicorn

    from mistctl.api.edge_http import PROTOCOL, configure
    from mistctl.api.logs import setup_logging

    _check_settings()
    os.environ[LOG_LEVEL_ENV] = log_level  # worker processes configure their logging from it
    setup_logging(log_level)
    config = uvicorn.Config(f"{__name__}:app_factory", factory=True, host=host, port=port,
                            workers=workers, log_config=None, access_log=False, log_level=log_level.lower(),
                            timeout_graceful_shutdown=10, http=PROTOCOL, timeout_keep_alive=KEEP_ALIVE,
                            limit_concurrency=max_connections + 1, h11_max_incomplete_event_size=MAX_HEADERS)
    configure(config, header_timeout=header_timeout, max_connections=max_connections)
    try:
        if workers == 1:
            asyncio.run(_serve_one(config))
        else:
            _serve_many(config)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def _check_settings() -> None:
    """Stop before serving when a Mist token or a service key is unusable (exit 2, named by position)."""
    from mistctl.cli.errors import fail
    from mistctl.config import Settings
    from mistctl.secret_lists import SecretListInvalid

    settings = Settings()
    try:
        settings.tokens(), settings.service_keys()
    except SecretListInvalid as exc:
        fail(str(exc))


def app_factory() -> FastAPI:
    """The app of one server process, its logs as JSON lines (workers are fresh processes)."""
    from mistctl.api.app import create_app
    from mistctl.api.logs import setup_logging

    setup_logging(os.environ.get(LOG_LEVEL_ENV, "info"))
    return create_app()


def _ready(host: str, port: int) -> None:
    sys.stdout.write(f"{READY_PREFIX}http://{host}:{port} (docs at http://{host}:{port}/docs)\n")
    sys.stdout.flush()


async def _serve_one(config: object) -> None:
    import uvicorn

    assert isinstance(config, uvicorn.Config)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # start-up failed (a bad setting, a busy port): let it surface
            await task
            raise typer.Exit(1)
        await asyncio.sleep(0.02)
    _ready(config.host, server.servers[0].sockets[0].getsockname()[1])
    await task


def _serve_many(config: object) -> None:
    """Several worker processes on one socket (uvicorn's supervisor), bound here to print the port."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    assert isinstance(config, uvicorn.Config)
    sock = config.bind_socket()
    _ready(config.host, sock.getsockname()[1])
    Multiprocess(config, sockets=[sock]).run()
