"""The request middleware (pure ASGI): request id, body size limit, one JSON log line and metrics per request.

`X-Request-ID` is taken from the request when it is a sane id (else one is made) and echoed on the
answer. A body over the limit is answered 413 before the app reads it: by `Content-Length` when sent,
else by reading the chunked body up to the limit. Headers are never logged (they carry credentials).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mistctl.api.logs import request_id_var
from mistctl.api.metrics import ApiMetrics

log = logging.getLogger("mistctl.api.access")

MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class TooLarge(Exception):
    """The body is over the limit."""


class RequestMiddleware:
    """Wraps the whole app; see the module docstring."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id  # for the 500 handler, which runs outside
        started = time.monotonic()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            receive = await self._limited(headers, receive)
            await self.app(scope, receive, send_with_id)
        except TooLarge:
            await _too_large(send_with_id, self.max_body)
        finally:
            self._record(scope, status["code"], time.monotonic() - started)
            request_id_var.reset(token)

    async def _limited(self, headers: dict[str, str], receive: Receive) -> Receive:
        """The receive channel to hand the app; raises `TooLarge` for a body over the limit."""
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_body:
                raise TooLarge
            return receive
        if "chunked" not in headers.get("transfer-encoding", ""):
            return receive
        body, more = b"", True
        while more:  # read it all now: it is bounded by the limit, and the app gets it replayed
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                raise TooLarge
        return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        # The route template keeps the label set small; paths no route matched (404) share one label.
        route = getattr(scope.get("route"), "path", None) or ("unmatched" if status == 404 else scope["path"])
        state: dict[str, Any] = scope.get("state") or {}
        self.metrics.observe_request(scope["method"], route, status, seconds)
        log.info("%s %s %s", scope["method"], route, status, extra={
            "method": scope["method"], "path": scope["path"], "route": route, "status": status,
            "duration_ms": round(seconds * 1000, 1), "actor": state.get("actor"),
            "request_id": request_id_var.get(),
        })


def _replay(messages: list[Message], then: Receive) -> Receive:
    """Hand out `messages` first, then whatever the server sends next (a disconnect, eventually)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is over the limit of {limit} bytes: send a smaller one"})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
