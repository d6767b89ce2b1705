"""Actions beyond CRUD: device profile assign/unassign, and the PSK bulk, list-delete and rotation calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import crud
from mist_twin.access import item_access, json_body, org_access
from mist_twin.inventory import normalise_mac
from mist_twin.jsonresp import JSONResponse
from mist_twin.rules import DEVICEPROFILES, PSKS
from mist_twin.state import INVENTORY, TwinState
from mist_twin.store import Obj
from mist_twin.validation import check_request

router = APIRouter()
_PROFILE = "/api/v1/orgs/{org_id}/deviceprofiles/{deviceprofile_id}"


def _set_profile(twin: TwinState, macs: list[str], profile: Obj, assign: bool) -> list[str]:
    """Bind (or unbind) the profile on the org's devices of the profile's type; returns the MACs done."""
    done = []
    with twin.store.batch():
        for mac in macs:
            record = twin.store.get(INVENTORY, normalise_mac(mac))
            if record is None or record["type"] != profile.get("type"):
                continue
            if not assign and record.get("deviceprofile_id") != profile["id"]:
                continue
            changed = {"deviceprofile_id": profile["id"] if assign else None, "modified_time": twin.now()}
            twin.store.put(INVENTORY, record["mac"], {**record, **changed})
            done.append(mac)
    return done


@router.post(f"{_PROFILE}/assign", name="assignOrgDeviceProfile")
async def assign_profile(request: Request) -> Response:
    """Assign a device profile (a hub profile for gateways) to devices by MAC."""
    twin, profile = item_access(request, DEVICEPROFILES)
    body = await json_body(request)
    check_request("assignOrgDeviceProfile", body)
    return JSONResponse({"success": _set_profile(twin, body["macs"], profile, assign=True)})


@router.post(f"{_PROFILE}/unassign", name="unassignOrgDeviceProfile")
async def unassign_profile(request: Request) -> Response:
    """Remove a device profile from devices by MAC."""
    twin, profile = item_access(request, DEVICEPROFILES)
    body = await json_body(request)
    check_request("unassignOrgDeviceProfile", body)
    return JSONResponse({"success": _set_profile(twin, body["macs"], profile, assign=False)})


@router.put("/api/v1/orgs/{org_id}/psks", name="updateOrgMultiplePsks")
async def put_psks(request: Request) -> Response:
    """Bulk PSKs: each item updates the PSK with its `id` (or its `name`), or creates one."""
    twin = org_access(request)
    items: Any = await json_body(request)
    check_request("updateOrgMultiplePsks", items)
    existing = twin.store.all(PSKS.collection)
    by_id = {psk["id"]: psk for psk in existing}
    by_name = {psk["name"]: psk for psk in existing}
    answer = []
    with twin.store.batch():
        for item in items:
            current = by_id.get(item.get("id")) or by_name.get(item["name"])
            saved = crud.update(twin, PSKS, current, item) if current else crud.create(twin, PSKS, item)
            answer.append(saved)
    return JSONResponse(answer)


@router.post("/api/v1/orgs/{org_id}/psks/delete", name="deleteOrgPskList")
async def delete_psks(request: Request) -> Response:
    """Delete the PSKs listed in `psk_ids` (unknown ids are ignored)."""
    twin = org_access(request)
    body = await json_body(request)
    check_request("deleteOrgPskList", body)
    with twin.store.batch():
        for psk_id in body.get("psk_ids") or ():
            psk = twin.store.get(PSKS.collection, psk_id)
            if psk is not None:
                crud.delete(twin, PSKS, psk)
    return Response(status_code=200)


@router.post("/api/v1/orgs/{org_id}/psks/{psk_id}/delete_old_passphrase", name="deleteOrgPskOldPassphrase")
async def delete_old_passphrase(request: Request) -> Response:
    """End a rotation: forget the PSK's previous passphrase."""
    twin, psk = item_access(request, PSKS)
    new = {k: v for k, v in psk.items() if k != "old_passphrase"}
    new["modified_time"] = twin.now()
    twin.store.put(PSKS.collection, new["id"], new)
    return JSONResponse(new)
