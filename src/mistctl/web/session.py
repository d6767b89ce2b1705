"""The console's session: a signed cookie that names a service key's id and an expiry, never the key.

    mistctl_session = <key id>.<expiry, epoch seconds>.<HMAC-SHA256 of both, hex>

The login form takes a service key (`MISTCTL_API_KEYS`) and checks it with the API's own check
(`auth.authenticate`, constant time). The signing secret is derived from the configured keys, so every
worker of the service agrees without another setting, and changing the keys ends every session; a
session whose key id is no longer configured is refused as well. Forms that post carry a CSRF token
derived from the session (the cookie is also `SameSite=Lax`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from mistctl.api.auth import Caller, authenticate, key_id, service_keys
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError

COOKIE = "mistctl_session"
TTL = 8 * 3600  # a working day
_CONTEXT = b"mistctl console session v1"


class LoginFailed(Exception):
    """The key was refused; the message says why and what to do (it never repeats the key)."""


@dataclass(frozen=True)
class Session:
    """A signed-in person: the service key's id (`key:<8 hex>`), when the session ends, its CSRF token."""

    actor: str
    expires: int
    csrf: str


def _keys(ctx: AppContext) -> list[str]:
    return sorted(service_keys(ctx))  # sorted: the signing secret does not depend on the keys' order


def _secret(keys: list[str]) -> bytes:
    return hmac.new("\n".join(keys).encode(), _CONTEXT, hashlib.sha256).digest()


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


async def check_key(ctx: AppContext, key: str) -> str:
    """The key id of a valid service key; `LoginFailed` with the reason otherwise."""
    key = key.strip()
    if not key:
        raise LoginFailed("enter a service key (one of MISTCTL_API_KEYS)")
    try:
        caller = await authenticate(ctx, None, HTTPAuthorizationCredentials(scheme="Bearer", credentials=key))
    except ApiError as exc:
        if not _keys(ctx):
            raise LoginFailed("this service has no service keys: set MISTCTL_API_KEYS, restart it") from None
        raise LoginFailed("that is not one of the service keys (MISTCTL_API_KEYS); check it and try again"
                          if exc.status == 401 else exc.detail) from None
    return caller.actor


def issue(ctx: AppContext, actor: str, now: float | None = None) -> str:
    """A signed cookie value for `actor`, valid for `TTL` seconds."""
    expires = int(now if now is not None else time.time()) + TTL
    payload = f"{actor}.{expires}"
    return f"{payload}.{_sign(_secret(_keys(ctx)), payload)}"


def verify(ctx: AppContext, value: str | None, clock: Callable[[], float] = time.time) -> Session | None:
    """The session a cookie value proves, or None (unsigned, tampered, expired, or its key removed)."""
    keys = _keys(ctx)
    if not value or not keys or value.count(".") != 2:
        return None
    actor, expires, signature = value.split(".")
    secret = _secret(keys)
    if not hmac.compare_digest(_sign(secret, f"{actor}.{expires}"), signature):
        return None
    if not expires.isdigit() or int(expires) < clock() or actor not in {key_id(k) for k in keys}:
        return None
    csrf = _sign(secret, f"csrf.{actor}.{expires}")[:32]
    return Session(actor, int(expires), csrf)


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a form's CSRF token is the session's."""
    return given is not None and hmac.compare_digest(session.csrf, given)


def caller_of(ctx: AppContext, session: Session) -> Caller:
    """The API caller a session acts as: the service key's id with the service's own Mist token."""
    return Caller(session.actor, "service-key", tuple(ctx.server_tokens))


def set_cookie(response: Response, value: str) -> None:
    """Attach the session cookie: HttpOnly, Secure, SameSite=Lax, for the console's paths only."""
    response.set_cookie(COOKIE, value, max_age=TTL, path="/ui", secure=True, httponly=True, samesite="lax")


def clear_cookie(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE, path="/ui", secure=True, httponly=True, samesite="lax")
