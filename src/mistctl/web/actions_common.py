"""What every console action shares: the CSRF-checked form, the confirmation, the audit entry, the access.

An action is a POST form carrying the session's CSRF token and a ticked `confirm` box. A post without
the token (or with another session's) answers 403 and changes nothing; one without the tick answers 400
and changes nothing. Every action that went ahead is written to the audit log under the service key's
id (`key:<8 hex of its sha256>`, never the key), with the console path it was asked on.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from mistctl.api.auth import Access, authorize
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.errors import UserError
from mistctl.mist.errors import MistError
from mistctl.store.models import AuditEntry
from mistctl.web.render import page
from mistctl.web.session import Session, caller_of, csrf_ok

CONFIRM = "confirm"
#: What an action may fail with, the user's to read: refused access, bad input, Mist's refusal.
ACTION_ERRORS = (ApiError, UserError, MistError)


@dataclass(frozen=True)
class Posted:
    """A form that passed the CSRF check: its text fields (files are refused)."""

    fields: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    @property
    def confirmed(self) -> bool:
        return self.fields.get(CONFIRM) == "yes"

    def ticked(self, name: str) -> bool:
        return self.fields.get(name) == "yes"


async def posted(request: Request, session: Session, *, max_fields: int = 16) -> Posted | None:
    """The form's fields, or None when its CSRF token is missing or not this session's."""
    async with request.form(max_files=0, max_fields=max_fields) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return Posted(fields) if csrf_ok(session, fields.get("csrf")) else None


async def confirmed(request: Request, session: Session, what: str) -> Posted | Response:
    """The form when its CSRF token is this session's and its box is ticked; else the 403 or 400 answer."""
    form = await posted(request, session)
    if form is None:
        return refused(request)
    return form if form.confirmed else unconfirmed(request, what)


def refused(request: Request) -> Response:
    """The 403 answer to a form without this session's CSRF token (nothing was done)."""
    return page(request, "message.html", status=403, title="Form expired",
                message="The form was stale or not from this console: reload the page and try again. "
                        "Nothing was changed.")


def unconfirmed(request: Request, what: str) -> Response:
    """The 400 answer to an action whose confirmation box was not ticked (nothing was done)."""
    return page(request, "message.html", status=400, title="Not confirmed",
                message=f"{what} was not done: tick the confirmation box, then press the button again.")


async def access_for(ctx: AppContext, session: Session, org_id: str | None) -> Access:
    """What the session may do in an org: the service key with the service's Mist token."""
    return await authorize(ctx, caller_of(ctx, session), org_id or ctx.default_org_id)


async def audit(ctx: AppContext, request: Request, session: Session, action: str, *, status: int = 200,
                run_id: str | None = None, site: str | None = None) -> None:
    """Record who did what from the console: the key's id, the action, the path it was asked on."""
    await ctx.store.append_audit(AuditEntry(method="POST", path=request.url.path, kind="console", name=action,
                                            status=status, run_id=run_id, site=site, actor=session.actor))


def failure(exc: Exception) -> tuple[int, str]:
    """The status and message of one of `ACTION_ERRORS` (a 4xx for the user's mistakes, 502 for Mist's)."""
    if isinstance(exc, ApiError):
        return exc.status, exc.detail
    return (422 if isinstance(exc, UserError) else 502), str(exc)
