"""The console's pages. Routes only read the request, call a view-model function and render a template.

    /ui                          the fleet: counts per state, a page of sites, the last deployments
    /ui/sites/{name}             one site: addresses, variables, bindings, devices, steps, audit, SLEs
    /ui/ipam  (/ui/ipam.svg)     the address plan as a picture
    /ui/deployments/{id}         a deployment, live (its /live fragment and /events stream)
    /ui/deployments/{id}/rollback  its "Roll back": the plan, a confirmation, the rollback (rollback_page.py)
    /ui/plan                     validate and plan a pasted or uploaded fleet (no writes)
    /ui/map, /ui/assurance, /ui/rollouts, /ui/psks, /ui/audit: fleet-wide pages (`routes_pages`)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from mistctl.api.deps import Ctx
from mistctl.api.views import event_stream
from mistctl.domain.errors import FleetInvalid
from mistctl.store.models import Run
from mistctl.web import routes_pages
from mistctl.web.access import SessionDep
from mistctl.web.deploy_page import deployment_page
from mistctl.web.fleet_view import FleetQuery, all_sites, fleet_page
from mistctl.web.ipam_plans import PlanGroup, plan_groups
from mistctl.web.ipam_svg import render_ipam_svg
from mistctl.web.plan_keep import restore
from mistctl.web.plan_page import PlanOutcome, decode, plan_posted, source_name
from mistctl.web.render import SECURITY_HEADERS, page
from mistctl.web.session import csrf_ok
from mistctl.web.site_page import design_fleet, site_page
from mistctl.web.upgrade_page import UPGRADE_KINDS, upgrade_page
from mistctl.workflow.runlock import shown_status

router = APIRouter(include_in_schema=False)
router.include_router(routes_pages.router)
RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]
OptStr = Annotated[str | None, Query(max_length=200)]


def _zone_names(ctx: Ctx) -> dict[str, str]:
    return {str(z.id): z.name for z in design_fleet(ctx.design).zones}


@router.get("/ui")
async def fleet(request: Request, ctx: Ctx, _session: SessionDep, status: OptStr = None, zone: OptStr = None,
                q: OptStr = None, page_no: Annotated[str | None, Query(alias="page", max_length=9)] = None
                ) -> Response:
    """Every site with its state, by page; filter by state or zone, search by name."""
    query = FleetQuery.parse(status, zone, q, page_no)
    view = await fleet_page(ctx.store, ctx.default_org_id, query)
    return page(request, "fleet.html", nav="fleet", view=view, zones=_zone_names(ctx))


@router.get("/ui/sites/{name:path}")
async def site(request: Request, ctx: Ctx, _session: SessionDep, name: str) -> Response:
    """One site; its devices and bindings are read from Mist (two calls)."""
    state = await ctx.store.get_site_state(ctx.default_org_id, name) if 0 < len(name) <= 128 else None
    if state is None:
        return page(request, "message.html", status=404, title="No such site",
                    message=f"Nothing is recorded for a site named '{name}': deploy it first, "
                            "or find it on the fleet page.")
    return page(request, "site.html", nav="fleet", view=await site_page(ctx, state))


async def _plans(ctx: Ctx) -> list[PlanGroup]:
    groups = plan_groups(design_fleet(ctx.design), await all_sites(ctx.store, ctx.default_org_id))
    if not groups:  # a plan-less fleet (an imported org with irregular addressing)
        raise HTTPException(404, "no recorded site has an ip_plan and the design has none: sites keep their "
                                 "own addresses")
    return groups


@router.get("/ui/ipam")
async def ipam(request: Request, ctx: Ctx, _session: SessionDep) -> Response:
    """Each IP plan of the recorded sites: its zones and blocks coloured by use, capacity left per zone."""
    groups = await _plans(ctx)
    pictures = {g.key: render_ipam_svg(g.model, key="" if i == 0 else f"-{g.key}")
                for i, g in enumerate(groups) if g.model is not None}
    return page(request, "ipam.html", nav="ipam", groups=groups, pictures=pictures)


@router.get("/ui/ipam.svg")
async def ipam_svg(ctx: Ctx, _session: SessionDep,
                   plan: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """One plan's picture (`?plan=` as the page links it; the first plan without) as a standalone SVG."""
    groups = await _plans(ctx)
    group = next((g for g in groups if g.key == plan), None) if plan else groups[0]
    if group is None or group.model is None:
        raise HTTPException(404, f"no IP plan '{plan}': the IP plan page links each plan's picture")
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return Response(str(render_ipam_svg(group.model, standalone=True)), media_type="image/svg+xml",
                    headers=headers)


async def console_run(ctx: Ctx, run_id: str) -> Run | None:
    """The run, when it is one of the console's org (every org without a default org)."""
    run = await ctx.store.get_run(run_id)
    if run is None or (ctx.default_org_id is not None and run.org_id != ctx.default_org_id):
        return None
    return (await shown_status(ctx.store, [run]))[0]  # `interrupted` when its process is gone


async def _deployment(request: Request, ctx: Ctx, run_id: str, template: str) -> Response:
    run = await console_run(ctx, run_id)
    if run is None:
        return page(request, "message.html", status=404, title="No such deployment",
                    message=f"There is no deployment '{run_id}': the fleet page lists the recent ones.")
    if run.kind in UPGRADE_KINDS:  # a rollout: waves, devices and gates rather than sites and steps
        return page(request, "upgrade.html", nav="fleet", view=await upgrade_page(ctx, run))
    return page(request, template, nav="fleet", view=await deployment_page(ctx, run))


@router.get("/ui/deployments/{run_id}")
async def deployment(request: Request, ctx: Ctx, _session: SessionDep, run_id: RunId) -> Response:
    """A deployment, updated live while it runs; its final report once it ended."""
    return await _deployment(request, ctx, run_id, "deployment.html")


@router.get("/ui/deployments/{run_id}/live")
async def deployment_live(request: Request, ctx: Ctx, _session: SessionDep, run_id: RunId) -> Response:
    """The live part of the deployment page alone (the page's script swaps it in on each event)."""
    return await _deployment(request, ctx, run_id, "_deployment_live.html")


@router.get("/ui/deployments/{run_id}/events")
async def deployment_events(ctx: Ctx, _session: SessionDep, run_id: RunId) -> Response:
    """The run's events as server-sent events (as `GET /deployments/{id}/events`, with the session)."""
    if await console_run(ctx, run_id) is None:
        return Response("no such deployment", status_code=404, media_type="text/plain")
    return StreamingResponse(event_stream(ctx.store, run_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/ui/plan")
async def plan_form(request: Request, _session: SessionDep) -> Response:
    """The form: paste or upload a fleet file."""
    return page(request, "plan.html", nav="plan", outcome=None)


async def _upload(value: object) -> bytes | None:
    if isinstance(value, UploadFile) and value.filename:
        return await value.read()
    return None


@router.post("/ui/plan")
async def plan(request: Request, ctx: Ctx, session: SessionDep) -> Response:
    """Validate the posted fleet and show its problems, or its plan against the live org."""
    async with request.form(max_files=2, max_fields=8) as form:
        token, text, sealed = form.get("csrf"), form.get("fleet"), form.get("kept")
        fleet_file, csv_file = await _upload(form.get("fleet_file")), await _upload(form.get("sites_csv"))
        filename = getattr(form.get("fleet_file"), "filename", None) if fleet_file else None
    if not csrf_ok(session, token if isinstance(token, str) else None):
        return page(request, "message.html", status=403, title="Form expired",
                    message="The form was stale: reload the plan page and submit the fleet again.")
    source = source_name(filename)
    pasted = None if fleet_file else str(text or "")
    try:
        body = decode(fleet_file, source) if fleet_file else restore(ctx, session, pasted or "", str(sealed or ""),
                                                                     source)
        pasted = None if fleet_file else body  # kept after an error: the text with its secrets put back
        csv_text = decode(csv_file, "sites CSV") if csv_file else None
    except FleetInvalid as exc:
        outcome = PlanOutcome(source, issues=exc.issues)
    else:
        outcome = await plan_posted(ctx, session, body, source, csv_text)
    outcome.keep_pasted(ctx, session, pasted)
    return page(request, "plan.html", nav="plan", status=422 if outcome.issues else 200, outcome=outcome)
