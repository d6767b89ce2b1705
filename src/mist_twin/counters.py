"""Call counters for tests and benchmarks: by method and path template, by status, and the 429s.

`/__twin/` control calls are not counted. The path template is the route's (`/api/v1/sites/{site_id}`),
so calls on different objects add up; calls refused before routing (429, injected faults) are
matched against the routes here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mist_twin.faults import DroppedAnswer


class Counters:
    """Totals since start (or the last reset)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_route: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.dropped = 0

    def record(self, route: str, status: str) -> None:
        """Count one answered (or dropped) call."""
        self.total += 1
        self.by_route[route] += 1
        self.by_status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy (what `GET /__twin/counters` answers)."""
        return {
            "total": self.total,
            "by_route": dict(self.by_route),
            "by_status": dict(self.by_status),
            "rate_limited": self.by_status.get("429", 0),
            "dropped": self.dropped,
        }

    def reset(self) -> None:
        """Back to zero."""
        self.total = 0
        self.by_route.clear()
        self.by_status.clear()
        self.dropped = 0


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """`METHOD /path/{template}` of a call the router did not see (the raw path when nothing matches)."""
    partial = None
    for candidate in routes:
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            partial = candidate
            break
        if match is Match.PARTIAL and partial is None:
            partial = candidate
    path = getattr(partial, "path", None) or scope["path"]
    return f"{scope['method']} {path}"


class CountersMiddleware:
    """Records each `/api/` call once its answer has started (outermost middleware)."""

    def __init__(self, app: ASGIApp, counters: Counters, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.counters = counters
        self.routes = routes  # the API routes, flat (FastAPI keeps included routers nested)
        # Routing leaves the endpoint in the scope: its template is then a dict lookup.
        self.by_endpoint: dict[Any, str] = {r.endpoint: r.path for r in routes if isinstance(r, Route)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        status = "000"

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except DroppedAnswer:
            self.counters.dropped += 1
            status = "dropped"
            raise
        finally:
            path = self.by_endpoint.get(scope.get("endpoint"))
            template = f"{scope['method']} {path}" if path else route_template(self.routes, scope)
            self.counters.record(template, status)
