"""`create_app`: the Mist twin as an ASGI app (state, middlewares, one router per area).

The areas declare their routes on FastAPI routers; the app serves them as plain Starlette routes on an
`IndexedRouter` (router.py), inside Starlette's app with FastAPI's JSON answer for an unrouted call
(`{"detail": "Not Found"}`, 405 `Method Not Allowed`). FastAPI's own app added per-call work the twin
does not use (telemetry checks, a body-size limit, an exit stack for dependencies).

Middlewares, outermost first: counters -> latency -> rate limit -> faults -> routes. So every call is
counted with its final status, 429s are delayed like any answer, injected 5xx still count against
the rate limit (every call counts on Mist), and a dropped answer is dropped after the write happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter
from fastapi.exception_handlers import http_exception_handler
from fastapi.routing import APIRoute
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from mist_twin import (
    control,
    control_day2,
    control_quirks,
    routes_actions,
    routes_firmware,
    routes_inventory,
    routes_self,
    routes_site_devices,
    routes_sites,
    routes_sle,
)
from mist_twin.config import TwinConfig
from mist_twin.counters import CountersMiddleware
from mist_twin.errors import TwinError, handle_twin_error
from mist_twin.faults import FaultMiddleware, LatencyMiddleware
from mist_twin.firmware import SettleMiddleware
from mist_twin.ratelimit import RateLimitMiddleware
from mist_twin.router import IndexedRouter
from mist_twin.routes_collections import build_router
from mist_twin.state import TwinState


def flat_routes(router: APIRouter) -> list[BaseRoute]:
    """An area's routes as plain Starlette routes.

    Twin endpoints are `async def endpoint(request) -> Response` (no FastAPI parameters), so they run
    as Starlette routes: FastAPI's included-router matching and dependency solving cost more than
    the twin's own work per call (about 0.8 ms of the 1 ms of a call, measured by bench_twin.py).
    """
    flat: list[BaseRoute] = []
    for route in router.routes:
        assert isinstance(route, APIRoute), "twin routers hold plain endpoint routes only"
        flat.append(Route(route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name))
    return flat


def create_app(config: TwinConfig | None = None, *, clock: Callable[[], float] | None = None) -> Starlette:
    """A twin of the Mist cloud; `app.state.twin` is its `TwinState`. `clock` drives time (tests)."""
    twin = TwinState(config or TwinConfig(), clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        yield
        twin.close()

    app = Starlette()
    app.router = IndexedRouter(lifespan=lifespan)
    app.state.twin = twin
    app.add_exception_handler(HTTPException, http_exception_handler)  # type: ignore[arg-type]
    app.add_exception_handler(TwinError, handle_twin_error)
    # Specific routes first: `/psks/delete` must not be taken for a PSK id.
    areas = (routes_self.router, routes_sites.router, routes_inventory.router, routes_actions.router)
    day2 = (routes_sle.router, routes_firmware.router, routes_site_devices.router)
    api = [route for router in (*areas, *day2, build_router()) for route in flat_routes(router)]
    controls = (control.router, control_day2.router, control_quirks.router)
    app.router.routes.extend([*api, *(route for router in controls for route in flat_routes(router))])
    # add_middleware wraps: the last added is the outermost. Settling due upgrades is innermost, so
    # only calls that reach the routes (control ones included) see the clock move the firmware on.
    app.add_middleware(SettleMiddleware, twin=twin)
    app.add_middleware(FaultMiddleware, faults=twin.faults)
    app.add_middleware(RateLimitMiddleware, limiter=twin.rate)
    app.add_middleware(LatencyMiddleware, faults=twin.faults)
    app.add_middleware(CountersMiddleware, counters=twin.counters, routes=api)
    return app
