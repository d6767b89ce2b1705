"""Drift from the console: check the org against the service's design, see it by object and field, fix it.

    GET  /ui/drift        the check's form
    POST /ui/drift        check (reads only): `services_day2.drift_report`, as `GET /drift`
    POST /ui/drift/fix    fix (confirmed): under the org lock, check again and apply the converging plan
                          as a `drift-fix` run (`services_day2.fix_drift`, as `POST /drift/fix`)

The design holds the org's objects, not its sites, so the check and the fix judge org objects only (as
`GET /drift`): sites are never deleted from here. What was added by hand inside the WLAN templates and site
groups mistctl manages (and managed objects the design no longer names) is removed only when the form's own
"also remove" box is ticked (`mistctl drift --fix --allow-delete`); else it is kept and listed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from mistctl.api import services_day2
from mistctl.api.deps import Ctx
from mistctl.api.services import design_owner
from mistctl.web.access import SessionDep
from mistctl.web.actions_common import ACTION_ERRORS, access_for, audit, confirmed, failure, posted, refused
from mistctl.web.render import page
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.runlock import Busy

router = APIRouter(include_in_schema=False)
ObjectKey = tuple[str, str, str]  # kind, key, site ("" at org level)


def by_object(report: dict[str, Any]) -> list[tuple[ObjectKey, list[dict[str, Any]]]]:
    """The report's differences grouped by object, in the report's order."""
    grouped: dict[ObjectKey, list[dict[str, Any]]] = defaultdict(list)
    for d in report.get("differences", []):
        grouped[(str(d["kind"]), str(d["key"]), str(d.get("site") or ""))].append(d)
    return list(grouped.items())


def _page(request: Request, status: int = 200, **shown: Any) -> Response:
    context: dict[str, Any] = {"report": None, "objects": [], "error": None, **shown}
    return page(request, "drift.html", status=status, nav="drift", **context)


@router.get("/ui/drift")
async def drift_form(request: Request, _session: SessionDep) -> Response:
    """The check's form."""
    return _page(request)


@router.post("/ui/drift")
async def drift_check(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Check the org against the design (reads only) and show the differences by object and field."""
    if await posted(request, session) is None:
        return refused(request)
    try:
        report = await services_day2.drift_report(ctx, await access_for(ctx, session, None), None)
    except ACTION_ERRORS as exc:
        status, message = failure(exc)
        return _page(request, status, error=message)
    return _page(request, report=report, objects=by_object(report))


@router.post("/ui/drift/fix")
async def drift_fix(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Fix the drift: holds the org, checks again (the org may have changed since) and converges it."""
    form = await confirmed(request, session, "The drift fix")
    if isinstance(form, Response):
        return form
    consent = DeleteConsent(allow_delete=form.ticked("allow_delete"))
    try:
        access = await access_for(ctx, session, None)
        fleet = await run_in_threadpool(ctx.design.fleet)
        answer = await services_day2.fix_drift(ctx, access, fleet, consent, org_only=True,
                                               ownership=design_owner(ctx, take=form.ticked("take_ownership")))
    except (*ACTION_ERRORS, Busy) as exc:
        status, message = failure(exc) if isinstance(exc, ACTION_ERRORS) else (409, str(exc))
        return _page(request, status, error=f"The drift was not fixed: {message}")
    if answer["fix"] is None:
        return _page(request, report=answer, objects=[])
    run_id = str(answer["fix"]["run_id"])
    await audit(ctx, request, session, "fix drift" + (" (with deletes)" if consent.allow_delete else ""),
                run_id=run_id)
    return RedirectResponse(f"/ui/deployments/{run_id}", status_code=303)
