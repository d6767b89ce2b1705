"""A site's devices: their config objects and their stats (running version, `fwupdate` progress)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin.access import json_body, site_access
from mist_twin.crud import paginate
from mist_twin.devices import DEVICE_TYPES
from mist_twin.errors import bad_request, not_found
from mist_twin.firmware import JOBS, LAST, fwupdate
from mist_twin.jsonresp import JSONResponse
from mist_twin.state import INVENTORY, TwinState
from mist_twin.store import Obj
from mist_twin.validation import check_request

router = APIRouter()
_ID_PREFIX = "00000000-0000-0000-1000-"
_CONFIG_KEYS = (
    "id",
    "mac",
    "serial",
    "model",
    "type",
    "name",
    "site_id",
    "org_id",
    "created_time",
    "modified_time",
)


def site_device(request: Request) -> tuple[TwinState, Obj, Obj]:
    """The twin, the site and the inventory record of the path's `{device_id}` (404 unless at the site)."""
    twin, site = site_access(request)
    device_id = request.path_params["device_id"]
    record = twin.store.get(INVENTORY, device_id.removeprefix(_ID_PREFIX).lower())
    if record is None or record.get("site_id") != site["id"] or record["id"] != device_id:
        raise not_found("device", device_id)
    return twin, site, record


def _at_site(twin: TwinState, site: Obj, request: Request) -> list[Obj]:
    kind = request.query_params.get("type") or "ap"  # Mist's default type is ap
    if kind != "all" and kind not in DEVICE_TYPES:
        raise bad_request(f"type: must be one of all, {', '.join(DEVICE_TYPES)}")
    return [
        record
        for record in twin.store.all(INVENTORY)
        if record.get("site_id") == site["id"] and kind in ("all", record["type"])
    ]


def stats(twin: TwinState, record: Obj) -> Obj:
    """A device's stats as Mist shows them (the fields the twin knows)."""
    now = twin.now()
    digest = hashlib.sha256(record["mac"].encode()).digest()
    last = twin.store.get(LAST, record["mac"])
    up_since = max(record["created_time"], int(last["end"]) if last and "end" in last else 0)
    answer: Obj = {
        "id": record["id"],
        "mac": record["mac"],
        "serial": record["serial"],
        "model": record["model"],
        "type": record["type"],
        "name": record["name"] or record["mac"],
        "version": record.get("version"),
        "site_id": record["site_id"],
        "org_id": record["org_id"],
        "hw_rev": record.get("hw_rev") or "",
        "status": "upgrading" if twin.store.get(JOBS, record["mac"]) else "connected",
        "ip": f"10.{digest[0]}.{digest[1]}.{max(2, digest[2] % 254)}",
        "uptime": max(0, now - up_since),
        "last_seen": now,
    }
    update = fwupdate(twin, record["mac"])
    if update is not None:
        answer["fwupdate"] = update
    return answer


@router.get("/api/v1/sites/{site_id}/devices", name="listSiteDevices")
async def list_devices(request: Request) -> Response:
    """The site's devices (`type` default ap, or all), filtered by `name`, paginated."""
    twin, site = site_access(request)
    name = request.query_params.get("name")
    records = [r for r in _at_site(twin, site, request) if not name or r["name"] == name]
    page, headers = paginate(records, request.query_params)
    return JSONResponse([{key: record.get(key) for key in _CONFIG_KEYS} for record in page], headers=headers)


@router.put("/api/v1/sites/{site_id}/devices/{device_id}", name="updateSiteDevice")
async def update_device(request: Request) -> Response:
    """Update a device's config at its site: the twin keeps `name` (the body's `type` must be the device's)."""
    twin, _site, record = site_device(request)
    body = await json_body(request)
    check_request("updateSiteDevice", body)  # the spec's mist_device: a oneOf picked by `type`
    if body.get("type") != record["type"]:
        raise bad_request(f"type: device {record['mac']} is a {record['type']}, not a {body.get('type')}")
    changed: Obj = {"modified_time": twin.now()}
    if "name" in body:
        changed["name"] = str(body["name"] or "")
    record = {**record, **changed}
    twin.store.put(INVENTORY, record["mac"], record)
    return JSONResponse({key: record.get(key) for key in _CONFIG_KEYS})


@router.get("/api/v1/sites/{site_id}/stats/devices", name="listSiteDevicesStats")
async def list_device_stats(request: Request) -> Response:
    """Every device's stats at the site (`type` default ap, or all), paginated."""
    twin, site = site_access(request)
    records = _at_site(twin, site, request)
    if request.query_params.get("status") == "disconnected":
        records = []  # twin devices are always connected
    page, headers = paginate(records, request.query_params)
    return JSONResponse([stats(twin, record) for record in page], headers=headers)


@router.get("/api/v1/sites/{site_id}/stats/devices/{device_id}", name="getSiteDeviceStats")
async def get_device_stats(request: Request) -> Response:
    """One device's stats: running `version`, and `fwupdate` once it has been upgraded."""
    twin, _site, record = site_device(request)
    return JSONResponse(stats(twin, record))
