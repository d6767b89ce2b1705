"""Who may see a console page: the session dependency, the login redirect, and the login/logout routes.

A page without a valid session answers 303 to `/ui/login?next=<the page>`, the way the API answers 401
without credentials. `next` is only ever a console path, so the login cannot redirect off the site.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from mistctl.api.deps import Ctx, client_of
from mistctl.web.render import page
from mistctl.web.session import (
    COOKIE,
    LoginFailed,
    Session,
    check_key,
    clear_cookie,
    csrf_ok,
    issue,
    revoke,
    set_cookie,
    verify,
)

router = APIRouter(include_in_schema=False)
HOME = "/ui"
MAX_KEY = 512
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login form, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """A console path to go to after login (anything else becomes the fleet page)."""
    if not value or not value.startswith(HOME) or value.startswith("//") or "\\" in value:
        return HOME
    if len(value) > len(HOME) and value[len(HOME)] not in "/?":  # /uix is not the console
        return HOME
    return value


def plain_http(request: Request) -> bool:
    """Whether the page came over plain HTTP from a non-loopback host: browsers drop Secure cookies there."""
    return request.url.scheme == "http" and (request.url.hostname or "") not in LOOPBACK


async def require_session(request: Request, ctx: Ctx) -> Session:
    """The request's session; `LoginRequired` without one (unsigned, tampered, expired or signed out)."""
    session = await verify(ctx, request.cookies.get(COOKIE))
    if session is None:
        where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(where)
    request.state.session = session
    request.state.actor = session.actor  # the access log names who looked
    return session


SessionDep = Annotated[Session, Depends(require_session)]


async def to_login(_request: Request, exc: Exception) -> Response:
    """The handler of `LoginRequired`: 303 to the login form."""
    target = safe_next(exc.next_path if isinstance(exc, LoginRequired) else None)
    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)


@router.get("/ui/login")
async def login_form(request: Request, ctx: Ctx,
                     next_path: Annotated[str | None, Query(alias="next")] = None) -> Response:
    """The sign-in form (a signed-in visitor goes straight on)."""
    if await verify(ctx, request.cookies.get(COOKIE)) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return page(request, "login.html", next_path=safe_next(next_path), error=None, session=None,
                plain_http=plain_http(request))


@router.post("/ui/login")
async def login(request: Request, ctx: Ctx) -> Response:
    """Check the service key; on success set the session cookie and go on to `next`."""
    if not same_site(request):
        return page(request, "message.html", status=403, title="Sign-in refused",
                    message="The sign-in form was posted from another site. Open the console's own "
                            "sign-in page and sign in there.")
    async with request.form(max_files=0, max_fields=4) as form:
        key = str(form.get("key") or "")[:MAX_KEY]
        target = safe_next(str(form.get("next") or ""))
    try:
        actor = await check_key(ctx, key, client_of(request))
    except LoginFailed as exc:
        answer = page(request, "login.html", status=exc.status, next_path=target, error=str(exc), session=None,
                      plain_http=plain_http(request))
        answer.headers.update(exc.headers or {})
        return answer
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, await issue(ctx, actor))
    return response


def same_site(request: Request) -> bool:
    """Whether a form was posted from this site: its `Origin` (else `Referer`) names this host. A request
    with neither comes from no browser page (a script with the key in hand), so it is let through."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower() != ""


@router.post("/ui/logout")
async def logout(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """End the session (the form carries the CSRF token) and show the sign-in form."""
    async with request.form(max_files=0, max_fields=4) as form:
        token = form.get("csrf")
    if not csrf_ok(session, token if isinstance(token, str) else None):
        return page(request, "message.html", status=403, title="Sign-out refused",
                    message="The form was stale: reload the page and sign out again.")
    await revoke(ctx, session)  # the cookie, wherever it was copied to, is refused from now on
    response = RedirectResponse("/ui/login", status_code=303)
    clear_cookie(response)
    return response
