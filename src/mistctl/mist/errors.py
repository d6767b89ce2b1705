"""Errors raised by the Mist API client.

The client raises, it never returns error-shaped values. Every error names the HTTP method and the
request path (with its ids, never a query string or a header) and carries Mist's own ``detail``::

    MistError                      anything the client could not do
    +-- MistTransportError         no usable answer came back (connection, timeout, rate)
    |   +-- RateLimited            the call budget is spent or Mist answered 429 past our patience
    |   +-- OutcomeUnknown         a POST was sent but its answer was lost: it may or may not have happened
    +-- MistStatusError            Mist answered with an error status
    |   +-- BadRequest             400: the body or a query is wrong
    |   +-- Unauthorized           401: the API token is missing, wrong or expired
    |   +-- Forbidden              403: the token has no privilege for this
    |   +-- NotFound               404: no such object (or not visible to the token)
    |   +-- ServerError            5xx on a call that is not retried any more
    +-- MalformedResponse          Mist answered 2xx with something that is not the expected JSON

Messages never contain the token: the client builds them from its own words, never from the httpx
request (whose headers hold the token), and raw httpx exceptions are not chained.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class MistError(Exception):
    """Base of every error the Mist client raises."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail

    @property
    def message(self) -> str:
        """The human message (the same text as ``str(err)``)."""
        return str(self.args[0]) if self.args else ""


class MistTransportError(MistError):
    """No usable answer: the connection failed, timed out, or the rate limit stopped us."""


class RateLimited(MistTransportError):
    """The token's call budget is spent (or Mist kept answering 429) for longer than we wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class OutcomeUnknown(MistTransportError):
    """A non-idempotent call was sent but its answer was lost; look the object up to learn the outcome."""


class MistStatusError(MistError):
    """Mist answered with an error status; ``body`` holds the parsed error body (may be None)."""

    def __init__(self, message: str, *, body: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.body = body


class BadRequest(MistStatusError):
    """400: Mist refused the request's body or query."""


class Unauthorized(MistStatusError):
    """401: the API token is missing, wrong or expired."""


class Forbidden(MistStatusError):
    """403: the token lacks the privilege for this call."""


class NotFound(MistStatusError):
    """404: no such object, or not visible to this token."""


class ServerError(MistStatusError):
    """5xx from Mist."""


class MalformedResponse(MistError):
    """A success status with a body that is not the JSON the operation promises."""


_BY_STATUS: dict[int, type[MistStatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}

_HINTS: dict[int, str] = {
    401: "check MIST_APITOKEN: create an API token in the Mist portal (My Account > API Token)",
    403: "the token's role must be admin or write on this org",
}


def status_error_class(status: int) -> type[MistStatusError]:
    """The exception class for an HTTP error status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, MistStatusError)


def describe_status(status: int) -> str:
    """``404 Not Found`` style words for a status code."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def extract_detail(body: Any, text: str = "") -> str:
    """Mist's explanation from an error body: ``detail``, else inventory ``reason``s, else a 404 ``id``."""
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail
        reason = body.get("reason")
        if isinstance(reason, list) and reason:
            return "; ".join(str(r) for r in reason)
        if isinstance(body.get("id"), str):
            return f"id {body['id']} not found"
    return " ".join(text.split())[:200]


def status_error(status: int, *, method: str, path: str, detail: str, body: Any = None) -> MistStatusError:
    """Build the typed error for an error answer, with a message that names the call and a fix."""
    message = f"{method} {path} -> {describe_status(status)}"
    if detail:
        message += f": {detail}"
    if status in _HINTS:
        message += f" ({_HINTS[status]})"
    cls = status_error_class(status)
    return cls(message, method=method, path=path, status=status, detail=detail, body=body)
