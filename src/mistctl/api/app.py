"""`create_app`: the provisioning service as a FastAPI app (`mistctl serve` runs it with uvicorn).

Composition happens in the lifespan (`open_context`): one state store, one Mist target and connection
pool, the org design, metrics and the background deployments. Tests pass a `transport` (the twin
in-process), a `store` and a `clock`; production builds everything from `Settings` (the environment).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from mistctl import __version__, web
from mistctl.api import docs, errors, routes_day2, routes_fleet, routes_ops, routes_workflow
from mistctl.api.context import open_context
from mistctl.api.json_guard import JsonGuard
from mistctl.api.metrics import ApiMetrics
from mistctl.api.middleware import MAX_BODY_BYTES, RequestMiddleware
from mistctl.api.slashes import SlashRedirect
from mistctl.config import Settings
from mistctl.mist.clock import Clock
from mistctl.store.port import StateStore

DESCRIPTION = """Provision Juniper Mist networks over HTTP with the same engine, state store and rate
budget as the `mistctl` CLI.

**Credentials** (every route but `/healthz`, `/readyz` and `/metrics`): `X-Mist-API-Key: <your Mist API
token>` (validated with Mist, used for your request only) or `Authorization: Bearer <service key>` (`MISTCTL_API_KEYS`;
the service's own Mist token is used). 401: no or bad credentials; 403: no write privilege on the org.

**Workflow answers** are 200 with `status` "completed" or "failed" (the step and why); call again to
resume. **409**: the site is being deployed by another run, named in the body (`run_id`); retry later.
"""


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None,
               store: StateStore | None = None, clock: Clock | None = None,
               max_body: int = MAX_BODY_BYTES) -> FastAPI:
    """The service app; settings default to the environment (read when the app is created)."""
    settings = settings or Settings()
    settings.tokens(), settings.service_keys()  # a bad token or key stops the service here, named by position
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(settings, transport=transport, store=store, clock=clock,
                                metrics=metrics) as ctx:
            app.state.ctx = ctx
            yield

    app = FastAPI(title="mistctl provisioning service", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None, redirect_slashes=False)
    docs.install(app)  # the same pages, with a Content-Security-Policy
    errors.install(app)
    for router in (routes_workflow.router, routes_fleet.router, routes_ops.router, routes_day2.router):
        app.include_router(router)
    web.install(app)  # the web console under /ui
    app.add_middleware(JsonGuard)  # inside RequestMiddleware: the body is bounded, the answer has its id
    app.add_middleware(SlashRedirect, router=app.router)  # relative: never the Host header's
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body=max_body)
    return app
