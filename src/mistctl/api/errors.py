"""Errors as JSON answers that name the problem: `{"detail": "...", ...}`, never a traceback.

    ApiError(status, detail, **extra)   raised by the API layer itself (401, 403, 404, 409 ...)
    RequestValidationError              422 with `problems` [{item, message}] (a malformed request)
    HTTPException                       as is (404, 405 ...); 400 (a body that is not JSON) becomes 422
    FleetInvalid                        422 with `problems` [{item, message}] (a design or fleet problem)
    UserError                           422 (SiteNotFound: 404)
    Busy (a site or org lock)           409 with `site`, `org_id`, `run_id`
    MistError                           Mist refused (403), call budget spent (503 with Retry-After and
                                        `budget_resets_at`), unreachable (503), else 502
    StoreUnavailable                    503
    anything else                       500 naming the request id (details in the log only)
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match

from mistctl.api.jobs import Busy
from mistctl.api.logs import request_id_var
from mistctl.domain.errors import FleetInvalid
from mistctl.errors import UserError
from mistctl.mist.errors import Forbidden, MistError, MistTransportError, RateLimited, Unauthorized
from mistctl.store.errors import StoreUnavailable
from mistctl.workflow.site_devices import SiteNotFound

log = logging.getLogger("mistctl.api")


class ApiError(Exception):
    """An answer other than success, with its status, message and extra JSON fields."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra


def _json(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _json(exc.status, exc.detail, exc.headers, **exc.extra)


async def _malformed(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"item": ".".join(str(p) for p in err.get("loc", ())) or "request",
                 "message": str(err.get("msg"))} for err in exc.errors()]  # no input: it may hold secrets
    return _problems(problems or [{"item": "request", "message": "is malformed"}])


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body": a malformed body, like any other
        return _problems([{"item": "body", "message": "cannot be parsed: send JSON in UTF-8"}])
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:  # Starlette lists the methods of one route; a path may have several
        allowed = _methods(request)
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return _json(405, f"{request.method} is not allowed here; use {' or '.join(allowed)}", headers)
    return _json(exc.status_code, str(exc.detail), headers)


def _methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET", "type": "http"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _fleet_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FleetInvalid)
    return _problems([{"item": i.item, "message": i.message} for i in exc.issues])


def _problems(problems: list[dict[str, str]]) -> JSONResponse:
    count = len(problems)
    lines = "; ".join(f"{p['item']}: {p['message']}" for p in problems[:5])
    return _json(422, f"{count} problem{'s' if count != 1 else ''}: {lines}", problems=problems)


async def _user_error(_request: Request, exc: Exception) -> JSONResponse:
    return _json(404 if isinstance(exc, SiteNotFound) else 422, str(exc))


async def _busy(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Busy)
    return _json(409, str(exc), site=exc.site, org_id=exc.org_id, run_id=exc.run_id)


async def _mist_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MistError)
    if isinstance(exc, Unauthorized | Forbidden):
        return _json(403, f"Mist refused the call: {exc}", mist_status=exc.status)
    if isinstance(exc, RateLimited):
        return _budget_spent(_request, exc)
    if isinstance(exc, MistTransportError):
        return _json(503, f"Mist cannot be reached: {exc}")
    return _json(502, f"Mist answered with an error: {exc}", mist_status=exc.status)


def _budget_spent(request: Request, exc: RateLimited) -> JSONResponse:
    """503 with Retry-After and the reset time: the service's Mist call budget is spent for longer than a
    request waits (`MISTCTL_BUDGET_WAIT`); deployments in the background wait for the reset instead."""
    wait = max(1, math.ceil(exc.retry_after if exc.retry_after is not None else 60))
    ctx = getattr(request.app.state, "ctx", None)
    now = ctx.clock.now() if ctx is not None else time.time()
    resets = datetime.fromtimestamp(now + wait, UTC).isoformat(timespec="seconds")
    detail = (f"the Mist API call budget is spent until {resets} ({exc}); retry after {wait} s, "
              "or start a deployment (POST /deployments), which waits for the reset")
    return _json(503, detail, {"Retry-After": str(wait)}, retry_after=wait, budget_resets_at=resets)


async def _store_down(_request: Request, exc: Exception) -> JSONResponse:
    return _json(503, f"the state store is unavailable: {exc}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette runs this outside RequestMiddleware, whose context (and request id) has ended by now:
    # the id it put in the request's state is the one its log lines carry.
    request_id = str(request.scope.get("state", {}).get("request_id") or request_id_var.get())
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc, extra={"request_id": request_id})
    where = f"the service log has its details under request id {request_id}"
    return _json(500, f"internal error; {where}", {"x-request-id": request_id}, request_id=request_id)


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(FleetInvalid, _fleet_invalid)
    app.add_exception_handler(UserError, _user_error)
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(MistError, _mist_error)
    app.add_exception_handler(StoreUnavailable, _store_down)
    app.add_exception_handler(Exception, _unexpected)
