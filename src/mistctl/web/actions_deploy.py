"""Deployment actions: cancel a running deployment, retry the failed sites of one the console started.

    POST /ui/deployments/{id}/cancel   ask the run to stop (`cancel_deployment`, as the API's cancel)
    POST /ui/deployments/{id}/retry    apply the run's fleet again: sites done stay as they are, the
                                       failed ones are tried again (`enqueue_deployment`, as the API)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import RedirectResponse, Response

from mistctl.api.deps import Ctx
from mistctl.api.errors import ApiError
from mistctl.api.services_fleet import cancel_deployment, enqueue_deployment
from mistctl.store.models import Run
from mistctl.web.access import SessionDep
from mistctl.web.actions_common import access_for, audit, posted, refused, unconfirmed
from mistctl.web.drafts import DRAFTS
from mistctl.web.render import page
from mistctl.web.session import Session
from mistctl.workflow.runlock import Busy

router = APIRouter(include_in_schema=False)
RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


def _gone(request: Request, run_id: str) -> Response:
    return page(request, "message.html", status=404, title="No such deployment",
                message=f"There is no deployment '{run_id}': the fleet page lists the recent ones.")


def _to(run_id: str) -> Response:
    return RedirectResponse(f"/ui/deployments/{run_id}", status_code=303)


async def _asked(request: Request, ctx: Ctx, session: Session, run_id: str, what: str) -> Run | Response:
    """The run, the form being confirmed; else the 403 (CSRF), 404 (no such run) or 400 (not ticked) answer."""
    form = await posted(request, session)
    if form is None:
        return refused(request)
    run = await ctx.store.get_run(run_id, include_plan=False)
    if run is None or (ctx.default_org_id is not None and run.org_id != ctx.default_org_id):
        return _gone(request, run_id)
    return run if form.confirmed else unconfirmed(request, what)


@router.post("/ui/deployments/{run_id}/cancel")
async def cancel(request: Request, ctx: Ctx, session: SessionDep, run_id: RunId) -> Response:
    """Ask a running (or waiting) deployment to stop; the sites under way finish, the rest are skipped."""
    run = await _asked(request, ctx, session, run_id, "Cancelling the deployment")
    if isinstance(run, Response):
        return run
    try:
        await access_for(ctx, session, run.org_id)
        await cancel_deployment(ctx, run)
    except ApiError as exc:
        return page(request, "message.html", status=exc.status, title="Not cancelled", message=exc.detail)
    await audit(ctx, request, session, "cancel deployment", status=202, run_id=run.id)
    return _to(run.id)


@router.post("/ui/deployments/{run_id}/retry")
async def retry(request: Request, ctx: Ctx, session: SessionDep, run_id: RunId) -> Response:
    """Apply the run's fleet again as a new deployment (the failed sites are retried)."""
    run = await _asked(request, ctx, session, run_id, "Retrying the failed sites")
    if isinstance(run, Response):
        return run
    fleet = DRAFTS.fleet_of(run.id)
    if fleet is None or not run.is_terminal:
        why = ("it is still running: wait until it ends" if not run.is_terminal else
               "this console process does not hold its fleet (it was started elsewhere, or long ago): "
               "plan the fleet again on the plan page and apply it, or run `mistctl apply`")
        return page(request, "message.html", status=409, title="Not retried", message=f"Not retried: {why}.")
    try:
        access = await access_for(ctx, session, run.org_id)
        again = await enqueue_deployment(ctx, access, fleet)
    except (ApiError, Busy) as exc:
        message = exc.detail if isinstance(exc, ApiError) else str(exc)
        return page(request, "message.html", status=409, title="Not retried", message=message)
    DRAFTS.started(again.id, fleet)
    await audit(ctx, request, session, f"retry failed sites of {run.id}", status=202, run_id=again.id)
    return _to(again.id)
