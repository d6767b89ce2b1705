"""The console's fleet-wide pages (a router of their own, included by `web.routes`):

    /ui/map          the sites on a world map, coloured by state or SLE (?colour=sle)
    /ui/assurance    SLE per site and metric, worst first, each site's trend
    /ui/rollouts     firmware upgrade runs with their waves and gates
    /ui/psks         org PSKs with their rotation state and grace left (never a passphrase)
    /ui/audit        every write to Mist, filtered by run, kind, site and key, searchable
    /ui/ipam/address which site and segment (VLAN) of the IP plan an address belongs to

Every page reads the state store only: none calls Mist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from mistctl.api.deps import Ctx
from mistctl.store.models import utcnow
from mistctl.web.access import SessionDep
from mistctl.web.assurance_view import assurance_page
from mistctl.web.audit_view import AuditQuery, audit_page
from mistctl.web.fleet_view import all_sites
from mistctl.web.ipam_find import find_address
from mistctl.web.map_view import colouring_of, map_view
from mistctl.web.render import page
from mistctl.web.rollouts_view import psk_rows, rollouts
from mistctl.web.site_page import design_fleet

router = APIRouter(include_in_schema=False)
OptStr = Annotated[str | None, Query(max_length=200)]
PageNo = Annotated[str | None, Query(alias="page", max_length=9)]


@router.get("/ui/map")
async def world_map(request: Request, ctx: Ctx, _session: SessionDep, colour: OptStr = None) -> Response:
    """The sites with coordinates on the world outlines; those without listed beside."""
    view = map_view(await all_sites(ctx.store, ctx.default_org_id), colouring_of(colour))
    return page(request, "map.html", nav="map", view=view)


@router.get("/ui/assurance")
async def assurance(request: Request, ctx: Ctx, _session: SessionDep, page_no: PageNo = None) -> Response:
    """Each site's SLE values, worst first, with the trend of its recorded checks."""
    number = int(page_no) if page_no and page_no.isdigit() else 1
    view = await assurance_page(ctx.store, ctx.default_org_id, number)
    return page(request, "assurance.html", nav="assurance", view=view)


@router.get("/ui/rollouts")
async def rollout_list(request: Request, ctx: Ctx, _session: SessionDep) -> Response:
    """The upgrade runs, newest first, each with its waves and gates."""
    rows, truncated = await rollouts(ctx.store, ctx.default_org_id)
    return page(request, "rollouts.html", nav="rollouts", rows=rows, truncated=truncated)


@router.get("/ui/psks")
async def psks(request: Request, ctx: Ctx, _session: SessionDep) -> Response:
    """The org's PSKs as mistctl recorded them: rotated when, grace left."""
    rows = await psk_rows(ctx.store, ctx.default_org_id, utcnow())
    return page(request, "psks.html", nav="psks", rows=rows, org_id=ctx.default_org_id)


@router.get("/ui/audit")
async def audit(request: Request, ctx: Ctx, _session: SessionDep, run: OptStr = None, kind: OptStr = None,
                site: OptStr = None, key: OptStr = None, q: OptStr = None, page_no: PageNo = None) -> Response:
    """The audit log, newest first, filtered and paged."""
    view = await audit_page(ctx.store, AuditQuery.parse(run, kind, site, key, q, page_no))
    return page(request, "audit.html", nav="audit", view=view)


@router.get("/ui/ipam/address")
async def ipam_address(request: Request, ctx: Ctx, _session: SessionDep, ip: OptStr = None) -> Response:
    """An address looked up in the design's IP plan: its zone, site number, segment and recorded sites."""
    fleet = design_fleet(ctx.design)
    if fleet.ip_plan is None:
        return page(request, "message.html", status=404, title="No IP plan",
                    message="The fleet has no ip_plan: its sites keep their own addresses.")
    found = None
    if ip and ip.strip():
        sites = await all_sites(ctx.store, ctx.default_org_id)
        found = find_address(fleet.ip_plan, {int(z.id): z.name for z in fleet.zones}, sites, ip)
    return page(request, "ipam_address.html", nav="ipam", found=found, ip=ip or "")
