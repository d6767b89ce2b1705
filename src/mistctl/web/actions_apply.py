"""Apply a reviewed plan from the plan page: exactly the plan shown, refused when it went stale.

    POST /ui/plan/apply   the draft's fleet, planned again now and compared with the plan reviewed
                          (`check_saved`, as `mistctl apply --plan` and `POST /deployments` with a plan);
                          when they agree, a deployment of that saved plan (`enqueue_deployment`)

The reviewed plan is refused when the org changed since (its live fingerprint), or when it was made for
another org or fleet; the run checks it once more when it takes the org. Deletes in the plan are made
only when their own box is ticked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mistctl.api.deps import Ctx
from mistctl.api.services_fleet import enqueue_deployment
from mistctl.web.access import SessionDep
from mistctl.web.actions_common import ACTION_ERRORS, access_for, audit, confirmed, failure
from mistctl.web.drafts import DRAFTS
from mistctl.web.render import page
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import CallLedger, PlanRefused, check_saved, plan_fleet
from mistctl.workflow.runlock import Busy

router = APIRouter(include_in_schema=False)


def _not_applied(request: Request, status: int, why: str) -> Response:
    return page(request, "message.html", status=status, title="Plan not applied",
                message=f"The plan was not applied: {why}. Nothing was written.")


@router.post("/ui/plan/apply")
async def apply_plan(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Deploy the reviewed plan, or say why not (stale, unknown, busy)."""
    form = await confirmed(request, session, "Applying the plan")
    if isinstance(form, Response):
        return form
    draft = DRAFTS.draft(form.get("draft"), session.actor)
    if draft is None:
        return _not_applied(request, 409, "this console no longer holds that plan (it lapses after an hour, "
                                          "or was planned on another replica): submit the fleet again")
    try:
        access = await access_for(ctx, session, draft.fleet.org_id)
        fresh = await plan_fleet(ctx.client(access.tokens, CallLedger()), ctx.store, draft.fleet, access.org_id,
                                 concurrency=ctx.concurrency)
        check_saved(draft.plan, fresh.plan)
        consent = DeleteConsent(allow_delete=form.ticked("allow_delete"))
        run = await enqueue_deployment(ctx, access, draft.fleet, saved=draft.plan, consent=consent)
    except PlanRefused as exc:
        return _not_applied(request, 409, f"it is stale: {exc}; submit the fleet again and review the new plan")
    except Busy as exc:
        return _not_applied(request, 409, str(exc))
    except ACTION_ERRORS as exc:
        status, message = failure(exc)
        return _not_applied(request, status, message)
    DRAFTS.started(run.id, draft.fleet)
    await audit(ctx, request, session, "apply reviewed plan", status=202, run_id=run.id)
    return RedirectResponse(f"/ui/deployments/{run.id}", status_code=303)
