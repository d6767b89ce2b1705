"""PSK actions: rotate PSKs (the new passphrases shown once, on the answer to the post) and finish rotations.

    GET  /ui/psk-rotation          the forms
    POST /ui/psk-rotation          rotate the PSKs named (or every one): `services_day2.rotate`, as the API
    POST /ui/psk-rotation/finish   remove old passphrases whose grace is over: `services_day2.finish`

The new passphrase is in the body of the POST's answer only: never in a URL (no redirect after the
post), never in the store or the audit log (the workflow keeps its fingerprint), and the answer is
`Cache-Control: no-store` (every console page is) so the browser keeps no copy for Back or history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.responses import Response

from mistctl.api import services_day2
from mistctl.api.auth import Access
from mistctl.api.deps import Ctx
from mistctl.web.access import SessionDep
from mistctl.web.actions_common import ACTION_ERRORS, Posted, access_for, audit, confirmed, failure
from mistctl.web.render import page
from mistctl.web.session import Session

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
MAX_NAMES = 200


def names_of(text: str) -> list[str]:
    """PSK names, one a line or comma-separated (blank entries dropped)."""
    return [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()][:MAX_NAMES]


def _forms(request: Request, status: int = 200, error: str | None = None, **shown: object) -> Response:
    context: dict[str, object] = {"rotated": None, "finished": None, **shown}
    return page(request, "psk_rotation.html", status=status, nav="psk", error=error, **context)


async def _asked(request: Request, session: Session, what: str) -> tuple[Posted, list[str], bool] | Response:
    """The confirmed form, the PSKs it names and whether it asks for every one; else the answer why not."""
    form = await confirmed(request, session, what)
    if isinstance(form, Response):
        return form
    names, every = names_of(form.get("names")), form.ticked("every")
    if not names and not every:
        return _forms(request, 422, f"{what} needs PSKs: name them (one a line), or tick 'every PSK'.")
    return form, names, every


@router.get("/ui/psk-rotation")
async def psk_forms(request: Request, _session: SessionDep) -> Response:
    """The rotate and finish forms."""
    return _forms(request)


async def _act(request: Request, ctx: Ctx, session: Session, what: str,
               action: Callable[[Access, Posted, list[str], bool], Awaitable[T]]) -> T | Response:
    """Run a confirmed PSK action on the PSKs the form names; else the page saying why not."""
    asked = await _asked(request, session, what)
    if isinstance(asked, Response):
        return asked
    try:
        return await action(await access_for(ctx, session, None), *asked)
    except ACTION_ERRORS as exc:
        return _forms(request, *failure(exc))


@router.post("/ui/psk-rotation")
async def psk_rotate(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Rotate: the answer shows each new passphrase once."""
    answer = await _act(request, ctx, session, "The PSK rotation", lambda access, form, names, every:
                        services_day2.rotate(ctx, access, names=names, every=every,
                                             grace=form.get("grace") or "24h", force=form.ticked("force")))
    if isinstance(answer, Response):
        return answer
    rotated = [r.name for r in answer.rotated]
    await audit(ctx, request, session, f"rotate PSKs {', '.join(rotated) or '(none)'}", run_id=answer.run_id)
    return _forms(request, rotated=answer)


@router.post("/ui/psk-rotation/finish")
async def psk_finish(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Finish: remove the old passphrases whose grace period is over."""
    outcome = await _act(request, ctx, session, "Finishing the PSK rotation", lambda access, form, names, every:
                         services_day2.finish(ctx, access, names=names, every=every, force=form.ticked("force")))
    if isinstance(outcome, Response):
        return outcome
    await audit(ctx, request, session, f"finish PSK rotation {', '.join(outcome.finished) or '(none)'}",
                run_id=outcome.run_id)
    return _forms(request, finished=outcome)
