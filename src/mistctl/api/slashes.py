"""Trailing-slash redirects that never name a host: `/metrics/` answers 307 `Location: /metrics`.

Starlette's own redirect builds an absolute URL from the request's `Host` header, so whoever controls
that header chooses where the redirect points. This one (the app is created with `redirect_slashes`
off) redirects to the path alone, and only to a route of this app; never to `//host`.
"""

from __future__ import annotations

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class SlashRedirect:
    """Pure ASGI: a path no route matches, whose twin with or without a final slash one does, is 307'd."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope) if scope["type"] == "http" else None
        if target is None:
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        location = target.encode() + (b"?" + query if query else b"")
        await send({"type": "http.response.start", "status": 307,
                    "headers": [(b"location", location), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def _target(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        if path == "/" or path.startswith("//") or self._matches(scope, path):
            return None
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        if not other or other.startswith("//") or not self._matches(scope, other):
            return None
        return other

    def _matches(self, scope: Scope, path: str) -> bool:
        probe = {**scope, "path": path}
        return any(route.matches(probe)[0] != Match.NONE for route in self.router.routes)
