"""The console's session: a signed cookie naming a service key's id, an expiry and a session id, never the
key; the session itself is held in the state store, so signing out ends it on every replica.

    mistctl_session = <key id>.<expiry, epoch seconds>.<session id>.<HMAC-SHA256 of the three, hex>

The login form takes a service key (`MISTCTL_API_KEYS`) and checks it with the API's own check
(`auth.authenticate`, constant time, throttled per client). The signing secret is derived from the
configured keys, so every worker of the service agrees without another setting, and changing the keys
ends every session; a session whose key id is no longer configured is refused as well.

Server side, a session is a lease in the store (`acquire_lock`, named by a hash of the session id, owned
by the key id, expiring with the cookie): each page checks it is still held, and signing out releases
it, so a copied cookie stops working at sign-out (or at expiry) wherever it is replayed. Forms that post
carry a CSRF token derived from the session (the cookie is also `SameSite=Lax`); the login form, which
has no session yet, checks that it was posted from this site (`Origin`, else `Referer`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
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

    def __init__(self, message: str, status: int = 401, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers


@dataclass(frozen=True)
class Session:
    """A signed-in person: the key's id (`key:<8 hex>`), when the session ends, its id and CSRF token."""

    actor: str
    expires: int
    sid: str
    csrf: str


def _keys(ctx: AppContext) -> list[str]:
    return sorted(service_keys(ctx))  # sorted: the signing secret does not depend on the keys' order


def _secret(keys: list[str]) -> bytes:
    return hmac.new("\n".join(keys).encode(), _CONTEXT, hashlib.sha256).digest()


def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def _lease(sid: str) -> str:
    """The store's name for a session (a hash: whoever reads the store cannot replay it)."""
    return f"console-session:{hashlib.sha256(sid.encode()).hexdigest()[:40]}"


async def check_key(ctx: AppContext, key: str, client: str = "-") -> str:
    """The key id of a valid service key; `LoginFailed` with the reason (and a 429 when throttled)."""
    key = key.strip()
    if not key:
        raise LoginFailed("enter a service key (one of MISTCTL_API_KEYS)")
    bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=key)
    try:
        caller = await authenticate(ctx, None, bearer, client=client)
    except ApiError as exc:
        if not _keys(ctx):
            raise LoginFailed("this service has no service keys: set MISTCTL_API_KEYS, restart it") from None
        if exc.status == 401:
            raise LoginFailed("that is not one of the service keys (MISTCTL_API_KEYS); check it and try "
                              "again") from None
        raise LoginFailed(exc.detail, exc.status, exc.headers) from None
    return caller.actor


async def issue(ctx: AppContext, actor: str, now: float | None = None) -> str:
    """Open a session for `actor` (held in the store) and its signed cookie value, valid for `TTL` s."""
    expires = int(now if now is not None else time.time()) + TTL
    sid = secrets.token_hex(16)
    await ctx.store.acquire_lock(_lease(sid), actor, TTL)
    payload = f"{actor}.{expires}.{sid}"
    return f"{payload}.{_sign(_secret(_keys(ctx)), payload)}"


async def verify(ctx: AppContext, value: str | None, clock: Callable[[], float] = time.time) -> Session | None:
    """The session a cookie value proves, or None (unsigned, tampered, expired, signed out, key removed)."""
    keys = _keys(ctx)
    if not value or not keys or value.count(".") != 3:
        return None
    actor, expires, sid, signature = value.split(".")
    secret = _secret(keys)
    if not hmac.compare_digest(_sign(secret, f"{actor}.{expires}.{sid}"), signature):
        return None
    if not expires.isdigit() or int(expires) < clock() or actor not in {key_id(k) for k in keys}:
        return None
    if not await ctx.store.refresh_lock(_lease(sid), actor, max(1.0, int(expires) - clock())):
        return None  # signed out (or the store lost it): the cookie alone proves nothing
    csrf = _sign(secret, f"csrf.{actor}.{expires}.{sid}")[:32]
    return Session(actor, int(expires), sid, csrf)


async def revoke(ctx: AppContext, session: Session) -> None:
    """End a session everywhere: its cookie is refused from now on."""
    await ctx.store.release_lock(_lease(session.sid), session.actor)


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
