"""Site settings: `GET/PUT /sites/{site_id}/setting` (the site's `vars` live here).

PUT merges the top-level fields sent: `{"vars": {...}}` replaces the whole `vars` map and leaves
every other setting as it was (the `vars_merge` quirk merges the map instead).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin.access import json_body, site_access
from mist_twin.crud import SERVER_FIELDS, without_server_fields
from mist_twin.errors import bad_request
from mist_twin.jsonresp import JSONResponse
from mist_twin.state import SITE_SETTINGS
from mist_twin.validation import check_request

router = APIRouter()
_FIXED = SERVER_FIELDS | {"site_id"}


@router.get("/api/v1/sites/{site_id}/setting", name="getSiteSetting")
async def get_setting(request: Request) -> Response:
    """The site's setting."""
    twin, site = site_access(request)
    return JSONResponse(twin.store.get(SITE_SETTINGS, site["id"]))


@router.put("/api/v1/sites/{site_id}/setting", name="updateSiteSettings")
async def put_setting(request: Request) -> Response:
    """Merge the fields sent into the site's setting."""
    twin, site = site_access(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("body: must be of type object")
    current = twin.store.get(SITE_SETTINGS, site["id"]) or {}
    sent = {k: v for k, v in body.items() if k not in _FIXED}
    if twin.quirks.vars_merge and isinstance(sent.get("vars"), dict):
        sent["vars"] = {**(current.get("vars") or {}), **sent["vars"]}
    merged = {**current, **sent, "modified_time": twin.now()}
    check_request("updateSiteSettings", without_server_fields(merged, _FIXED))
    twin.store.put(SITE_SETTINGS, site["id"], merged)
    return JSONResponse(merged)
