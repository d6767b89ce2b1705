"""The console's "Roll back" of a run: a confirmation page showing the rollback plan, then the rollback.

    GET  /ui/deployments/{id}/rollback   the plan (reads the live org, writes nothing) and a confirm form
    POST /ui/deployments/{id}/rollback   CSRF-checked; starts the rollback and goes to its deployment page

The rollback is made with the service's Mist tokens on behalf of the signed-in key, whose id is the
run's `requested_by` and names the audit entry of the request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mistctl.api.auth import Access
from mistctl.api.deps import Ctx
from mistctl.api.errors import ApiError
from mistctl.api.services_rollback import nothing_to_do, start_rollback
from mistctl.errors import UserError
from mistctl.store.models import Run
from mistctl.web.access import SessionDep
from mistctl.web.render import page
from mistctl.web.routes import RunId, console_run
from mistctl.web.session import Session, csrf_ok
from mistctl.workflow.deploy import CallLedger
from mistctl.workflow.rollback import ROLLBACK, plan_rollback

router = APIRouter(include_in_schema=False)


def _access(ctx: Ctx, session: Session, run: Run) -> Access:
    return Access(run.org_id, session.actor, tuple(ctx.server_tokens))


def _refused(request: Request, run_id: str, message: str, status: int) -> Response:
    return page(request, "message.html", status=status, title="Cannot roll back",
                message=f"Deployment {run_id}: {message}")


async def _target(request: Request, ctx: Ctx, run_id: str) -> Run | Response:
    run = await console_run(ctx, run_id)
    if run is None:
        return page(request, "message.html", status=404, title="No such deployment",
                    message=f"There is no deployment '{run_id}': the fleet page lists the recent ones.")
    if run.kind == ROLLBACK or not run.is_terminal:
        return _refused(request, run_id, "only a run that has ended, and is not itself a rollback, is rolled back",
                        409)
    return run


@router.get("/ui/deployments/{run_id}/rollback")
async def confirm_rollback(request: Request, ctx: Ctx, session: SessionDep, run_id: RunId) -> Response:
    """What rolling the run back would do, and the button that does it."""
    target = await _target(request, ctx, run_id)
    if isinstance(target, Response):
        return target
    access = _access(ctx, session, target)
    try:
        plan = await plan_rollback(ctx.client(access.tokens, CallLedger()), ctx.store, target.id)
    except UserError as exc:
        return _refused(request, run_id, str(exc), 422)
    return page(request, "rollback.html", nav="fleet", run=target, plan=plan, why=await nothing_to_do(ctx, plan))


@router.post("/ui/deployments/{run_id}/rollback")
async def roll_back(request: Request, ctx: Ctx, session: SessionDep, run_id: RunId) -> Response:
    """Start the rollback (the form's CSRF token must be the session's), then show its deployment page."""
    async with request.form(max_files=0, max_fields=4) as form:
        token = form.get("csrf")
    if not csrf_ok(session, token if isinstance(token, str) else None):
        return page(request, "message.html", status=403, title="Form expired",
                    message="The form was stale: reload the deployment page and confirm the rollback again.")
    target = await _target(request, ctx, run_id)
    if isinstance(target, Response):
        return target
    try:
        run = await start_rollback(ctx, _access(ctx, session, target), target, force=False,
                                   path=request.url.path)
    except ApiError as exc:
        return _refused(request, run_id, exc.detail, exc.status)
    except UserError as exc:
        return _refused(request, run_id, str(exc), 422)
    return RedirectResponse(f"/ui/deployments/{run.id}", status_code=303)
