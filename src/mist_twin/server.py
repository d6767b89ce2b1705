"""Run the twin over HTTP with uvicorn, printing one ready line once the socket listens."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

import uvicorn

from mist_twin.app import create_app
from mist_twin.config import TwinConfig
from mist_twin.faults import DroppedAnswer


class _HideDroppedAnswers(logging.Filter):
    """Uvicorn logs an app exception with a traceback; a dropped answer is on purpose, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedAnswer)


def ready_line(url: str, org_id: str, token: str, token_generated: bool) -> str:
    """The one line a supervisor waits for; a token the user passed is not echoed."""
    shown = token if token_generated else "(as given)"
    return f"mist twin ready on {url} org_id={org_id} token={shown}"


async def _serve(config: TwinConfig, host: str, port: int) -> None:
    app = create_app(config)
    twin = app.state.twin
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # failed to bind: let its exception (or exit) surface
            await task
            return
        await asyncio.sleep(0.02)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    line = ready_line(f"http://{host}:{bound_port}", twin.org_id, twin.token, twin.token_generated)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    await task


def serve(config: TwinConfig, host: str = "127.0.0.1", port: int = 8900) -> None:
    """Serve the twin until interrupted (SIGINT/SIGTERM); `port=0` picks a free port (see the ready line)."""
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedAnswers())
    run_loop(_serve(config, host, port))


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (uvicorn[standard] brings it): uvicorn only picks it itself in
    `uvicorn.run`, and the twin starts its server in a loop of its own (for the ready line)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] is a dependency
        asyncio.run(main)
        return
    uvloop.run(main)
