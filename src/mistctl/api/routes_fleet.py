"""The fleet routes: plans, deployments (background runs), their events, and recorded sites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from starlette.responses import JSONResponse, StreamingResponse

from mistctl.api.auth import Caller, authorize, identity_of, may_see
from mistctl.api.context import AppContext
from mistctl.api.deps import CallerDep, Ctx
from mistctl.api.errors import ApiError
from mistctl.api.fleet_body import openapi_body, read_fleet_request
from mistctl.api.schemas import (
    BUSY,
    ERRORS,
    DeploymentAccepted,
    DeploymentRequest,
    DeploymentView,
    OrgId,
    PlanRequest,
    RollbackRequest,
    RunView,
    SiteView,
)
from mistctl.api.services_fleet import (
    cancel_deployment,
    enqueue_deployment,
    ownership_of,
    parse_fleet_body,
    plan_document,
)
from mistctl.api.services_rollback import rollback_plan_document, start_rollback
from mistctl.api.views import deployment_view, event_stream, run_view, site_view
from mistctl.domain.targets import select, target_for
from mistctl.store.models import Run, RunStatus
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.runlock import shown_status

router = APIRouter(responses=ERRORS)
RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$", description="The run id")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such run (or not one of your orgs)"}}


@router.post("/plans", tags=["fleet"], summary="Plan a fleet against the live org (writes nothing)",
             openapi_extra=openapi_body(PlanRequest))
async def make_plan(ctx: Ctx, caller: CallerDep, request: Request) -> dict[str, object]:
    """What `POST /deployments` would change, with API calls and ETA; as `mistctl plan --json`.

    The body: JSON, the fleet file as it is (`application/yaml`), or multipart with its CSV files."""
    req = await read_fleet_request(request, PlanRequest)
    fleet = await parse_fleet_body(req.fleet, req.files)
    target = select(fleet, req.sites or [], req.kinds or [])
    access = await authorize(ctx, caller, req.org_id or fleet.org_id)
    return await plan_document(ctx, access, fleet, ownership_of(fleet, req), target)


@router.post("/deployments", tags=["fleet"], status_code=202, response_model=DeploymentAccepted,
             responses=BUSY, summary="Apply a fleet (or a saved plan) in the background",
             openapi_extra=openapi_body(DeploymentRequest))
async def start_deployment(ctx: Ctx, caller: CallerDep, request: Request) -> DeploymentAccepted:
    """202 with the run id; follow it at GET /deployments/{id} or its events. 409 when a site is busy.

    The body: JSON, the fleet file as it is (`application/yaml`), or multipart with its CSV files."""
    req = await read_fleet_request(request, DeploymentRequest)
    fleet = await parse_fleet_body(req.fleet, req.files)
    target = target_for(fleet, req.plan, req.sites or [], req.kinds or [])
    access = await authorize(ctx, caller, req.org_id or fleet.org_id)
    consent = DeleteConsent(allow_delete=req.allow_delete, release_devices=req.release_devices,
                            unclaim=req.unclaim)
    run = await enqueue_deployment(ctx, access, fleet, saved=req.plan, concurrency=req.concurrency, consent=consent,
                                   ownership=ownership_of(fleet, req), target=target)
    links = {"self": f"/deployments/{run.id}", "events": f"/deployments/{run.id}/events"}
    return DeploymentAccepted(id=run.id, status=run.status, org_id=run.org_id, links=links)


@router.get("/deployments", tags=["fleet"], response_model=list[RunView],
            summary="Runs, newest first (the CLI's and the service's)")
async def list_deployments(ctx: Ctx, caller: CallerDep,
                           status: Annotated[RunStatus | None, Query(description="Only this status")] = None,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[RunView]:
    """Every run recorded in the state store; a Mist-token caller sees the runs of its orgs only."""
    me = await identity_of(ctx, caller)
    runs = await shown_status(ctx.store, await ctx.store.list_runs(limit=limit, status=status))
    return [run_view(r) for r in runs if may_see(me, r.org_id)]


@router.get("/deployments/{run_id}", tags=["fleet"], response_model=DeploymentView, responses=NOT_FOUND,
            summary="A run's status and progress per step and site")
async def get_deployment(ctx: Ctx, caller: CallerDep, run_id: RunId) -> DeploymentView:
    """The run, its step records counted by step, and the sites it last touched."""
    return await deployment_view(ctx.store, await _visible_run(ctx, caller, run_id))


@router.post("/deployments/{run_id}/cancel", tags=["fleet"], status_code=202, response_model=RunView,
             responses={**NOT_FOUND, 409: {"description": "The run has already ended"}},
             summary="Ask a run to stop (sites not started yet are skipped)")
async def cancel_run(ctx: Ctx, caller: CallerDep, run_id: RunId) -> RunView:
    """202 with the run; it ends `cancelled` once the sites being deployed finish (any replica may ask)."""
    run = await _visible_run(ctx, caller, run_id)
    await authorize(ctx, caller, run.org_id)
    return run_view(await cancel_deployment(ctx, run))


@router.post("/deployments/{run_id}/rollback", tags=["fleet"], status_code=202, response_model=None,
             responses={**NOT_FOUND, 200: {"description": "The rollback plan (`dry_run`)"},
                        409: {"description": "Nothing to roll back (already rolled back, or only conflicts)"},
                        422: {"description": "The run recorded nothing to roll back"}},
             summary="Undo a run: delete what it created, restore what it updated, recreate what it deleted")
async def rollback_deployment(ctx: Ctx, caller: CallerDep, run_id: RunId, request: Request,
                              body: Annotated[RollbackRequest | None, Body()] = None) -> Any:
    """`dry_run`: 200 with the plan (no write). Else 202 with the rollback's run id, run in the background
    under the org lock (follow it at GET /deployments/{id}); 409 when there is nothing to do.

    Objects changed since the run are conflicts, left alone unless `force`; PSK passphrases are not rolled back.
    """
    body = body or RollbackRequest()
    target = await _visible_run(ctx, caller, run_id)
    access = await authorize(ctx, caller, target.org_id)
    if body.dry_run:
        return JSONResponse(await rollback_plan_document(ctx, access, target, force=body.force))
    run = await start_rollback(ctx, access, target, force=body.force, path=request.url.path)
    links = {"self": f"/deployments/{run.id}", "events": f"/deployments/{run.id}/events"}
    return DeploymentAccepted(id=run.id, status=run.status, org_id=run.org_id, links=links)


@router.get("/deployments/{run_id}/events", tags=["fleet"], responses=NOT_FOUND,
            response_class=StreamingResponse, summary="A run's events as server-sent events")
async def deployment_events(ctx: Ctx, caller: CallerDep, run_id: RunId,
                            last_event_id: Annotated[int | None, Header(ge=0)] = None) -> StreamingResponse:
    """`step`, `site_done`, `site_failed`, `org_failed` events as they happen (and `waiting`, "waiting for the
    rate budget" with `resets_at`, while the Mist call budget is spent); `end` once the run finished.

    Reconnect with `Last-Event-ID` to continue after the last event seen.
    """
    await _visible_run(ctx, caller, run_id)
    stream = event_stream(ctx.store, run_id, after=last_event_id or 0)
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/sites/{name}", tags=["fleet"], response_model=SiteView, responses=NOT_FOUND,
            summary="A site's recorded state and step history")
async def get_site(ctx: Ctx, caller: CallerDep, name: Annotated[str, Path(min_length=1, max_length=128)],
                   org_id: Annotated[OrgId | None, Query()] = None) -> SiteView:
    """What the state store recorded for the site (no Mist calls)."""
    me = await identity_of(ctx, caller)
    view = await site_view(ctx.store, org_id, name)
    if view is None or not may_see(me, view.org_id):
        raise ApiError(404, f"no recorded state for site {name!r}: deploy it first "
                            "(POST /orchestrator/deploy-full-stack or POST /deployments)")
    return view


async def _visible_run(ctx: AppContext, caller: Caller, run_id: str) -> Run:
    run = await ctx.store.get_run(run_id)
    if run is None or not may_see(await identity_of(ctx, caller), run.org_id):
        raise ApiError(404, f"no run {run_id!r}: GET /deployments lists the recent ones")
    return (await shown_status(ctx.store, [run]))[0]  # `interrupted` when its process is gone

