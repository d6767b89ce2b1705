"""SLE routes: one site's metric list and metric summaries, and every site's SLEs in one org call."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import sle, timeparse
from mist_twin.access import org_access, site_access
from mist_twin.crud import DEFAULT_LIMIT, MAX_LIMIT, query_int
from mist_twin.errors import bad_request, not_found
from mist_twin.firmware import sle_drops
from mist_twin.jsonresp import JSONResponse
from mist_twin.state import TwinState
from mist_twin.store import Obj

router = APIRouter()
_SITE_SLE = "/api/v1/sites/{site_id}/sle/{scope}/{scope_id}"
_SCOPES = ("ap", "client", "gateway", "site", "switch")


def _site_scope(request: Request) -> tuple[TwinState, Obj]:
    """The twin and the site, once the path's scope is the site itself (the scope the twin serves)."""
    twin, site = site_access(request)
    scope, scope_id = request.path_params["scope"], request.path_params["scope_id"]
    if scope not in _SCOPES:
        raise bad_request(f"scope: must be one of {', '.join(_SCOPES)}")
    if scope != "site":
        raise bad_request(f"scope: the twin serves scope site only, not {scope}")
    if scope_id != site["id"]:
        raise not_found("site", scope_id)
    return twin, site


@router.get(f"{_SITE_SLE}/metrics", name="listSiteSlesMetrics")
async def list_metrics(request: Request) -> Response:
    """The SLE metrics the site supports and has enabled."""
    _site_scope(request)
    return JSONResponse(sle.metrics_answer())


@router.get(f"{_SITE_SLE}/metric/{{metric}}/summary", name="getSiteSleSummary")
async def get_summary(request: Request) -> Response:
    """One metric's summary over the window asked (default: the last day)."""
    twin, site = _site_scope(request)
    name = request.path_params["metric"]
    metric = sle.BY_NAME.get(name)
    if metric is None or metric.site_name is None:
        raise not_found("SLE metric", name)
    window = timeparse.window(request.query_params, twin.clock())
    view = sle.SiteView(twin, sle_drops(twin))
    return JSONResponse(sle.summary(view, site["id"], metric, window))


@router.get("/api/v1/orgs/{org_id}/insights/sites-sle", name="getOrgSitesSle")
async def org_sites_sle(request: Request) -> Response:
    """Every site's SLE values of one family (`sle=wifi|wired|wan`), paged in the body like Mist."""
    twin = org_access(request)
    query = request.query_params
    family = query.get("sle") or "wifi"
    if family not in sle.FAMILIES:
        raise bad_request(f"sle: must be one of {', '.join(sle.FAMILIES)}")
    window = timeparse.window(query, twin.clock())
    limit = min(query_int(query, "limit", DEFAULT_LIMIT, 0) or DEFAULT_LIMIT, MAX_LIMIT)
    page = query_int(query, "page", 1, 1)
    sites = [s for s in twin.store.all("sites") if sle.has_data(twin, s["id"])]  # no data: no line
    view = sle.SiteView(twin, sle_drops(twin))
    rows = [sle.insights_row(view, s["id"], family) for s in sites[(page - 1) * limit : page * limit]]
    body = {
        "start": int(window.start),
        "end": int(window.end),
        "interval": timeparse.interval(query, 3600),
        "limit": limit,
        "page": page,
        "total": len(sites),
        "results": rows,
    }
    return JSONResponse(body)
