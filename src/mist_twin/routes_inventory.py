"""Inventory routes: list, claim (by claim code or activation code), assign/unassign, search."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import inventory
from mist_twin.access import json_body, org_access
from mist_twin.crud import paginate
from mist_twin.jsonresp import JSONResponse
from mist_twin.validation import check_request

router = APIRouter()
_SEARCH_KEYS = ("mac", "serial", "model", "sku", "type", "name", "org_id", "site_id", "version")


@router.get("/api/v1/orgs/{org_id}/inventory", name="getOrgInventory")
async def list_inventory(request: Request) -> Response:
    """The org's devices, filtered and paginated."""
    twin = org_access(request)
    page, headers = paginate(inventory.listed(twin, request.query_params), request.query_params)
    return JSONResponse(page, headers=headers)


@router.post("/api/v1/orgs/{org_id}/inventory", name="addOrgInventory")
async def add_inventory(request: Request) -> Response:
    """Claim devices by claim code: a bare JSON array of codes."""
    twin = org_access(request)
    codes = await json_body(request)
    check_request("addOrgInventory", codes)
    answer, failed = inventory.claim_codes(twin, codes)
    return JSONResponse(answer, status_code=400 if failed else 200)


@router.put("/api/v1/orgs/{org_id}/inventory", name="updateOrgInventoryAssignment")
async def change_inventory(request: Request) -> Response:
    """Assign devices to a site, unassign them, or delete them from the org."""
    twin = org_access(request)
    body = await json_body(request)
    check_request("updateOrgInventoryAssignment", body)
    answer = inventory.change(twin, body)
    # Mist answers 400 with the per-MAC lists when a MAC could not be changed (the others were).
    return JSONResponse(answer, status_code=400 if answer["error"] else 200)


@router.get("/api/v1/orgs/{org_id}/inventory/search", name="searchOrgInventory")
async def search_inventory(request: Request) -> Response:
    """Inventory search: the same filters, answered as `{results, limit, page, total}`."""
    twin = org_access(request)
    records = inventory.listed(twin, request.query_params)
    page, headers = paginate(records, request.query_params)
    results = [{key: record[key] for key in _SEARCH_KEYS if record.get(key) is not None} for record in page]
    body = {"results": results, "limit": int(headers["X-Page-Limit"]), "page": int(headers["X-Page-Page"]),
            "total": len(records)}  # fmt: skip
    return JSONResponse(body)


@router.post("/api/v1/orgs/{org_id}/claim", name="claimOrgLicense")
async def claim(request: Request) -> Response:
    """Claim an activation code: every pool device ordered under it joins the inventory."""
    twin = org_access(request)
    body = await json_body(request)
    check_request("claimOrgLicense", body)
    return JSONResponse(inventory.claim_activation(twin, body["code"], body.get("type", "all")))
