"""Mist-shaped error answers, raised anywhere in a handler and rendered by one exception handler."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

from mist_twin.jsonresp import JSONResponse

NO_CREDENTIALS = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
NO_PERMISSION = "You do not have permission to perform this action."


class TwinError(Exception):
    """An answer other than 200: a status and Mist's JSON body for it."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def bad_request(detail: str) -> TwinError:
    """400 `{"detail": ...}`: the detail names the offending field."""
    return TwinError(400, {"detail": detail})


def unauthorized(detail: str = NO_CREDENTIALS) -> TwinError:
    """401, with Mist's wording for a missing or an unknown token."""
    return TwinError(401, {"detail": detail})


def forbidden() -> TwinError:
    """403: the token has no (or only read) privilege on the org."""
    return TwinError(403, {"detail": NO_PERMISSION})


def not_found(title: str, object_id: str) -> TwinError:
    """404: the spec's body is `{"id": ...}`; a `detail` is added for humans (the schema allows it)."""
    return TwinError(404, {"id": object_id, "detail": f"{title} {object_id} not found"})


async def handle_twin_error(request: Request, exc: Exception) -> Response:
    """Render a TwinError as JSON (registered on the app for TwinError)."""
    del request
    assert isinstance(exc, TwinError)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def send_answer(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"application/json",
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer from a middleware, before the app runs (a 429, an injected 5xx): headers, then the body."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
