"""Firmware routes: available versions, upgrading one device or a site's devices, upgrade status."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import upgrades
from mist_twin.access import json_body, site_access
from mist_twin.devices import DEVICE_TYPES, MODELS
from mist_twin.errors import bad_request, not_found
from mist_twin.firmware import UPGRADES, available
from mist_twin.jsonresp import JSONResponse
from mist_twin.routes_site_devices import site_device
from mist_twin.state import TwinState
from mist_twin.store import Obj
from mist_twin.validation import check_request

router = APIRouter()
_UPGRADES = "/api/v1/sites/{site_id}/devices/upgrade"
_STATUSES = (
    "cancelled",
    "completed",
    "created",
    "downloaded",
    "downloading",
    "failed",
    "queued",
    "upgrading",
)


@router.get("/api/v1/sites/{site_id}/devices/versions", name="listSiteAvailableDeviceVersions")
async def list_versions(request: Request) -> Response:
    """Versions per model for one device type (default ap): the twin's models and the site's own."""
    twin, site = site_access(request)
    kind = request.query_params.get("type") or "ap"
    if kind not in DEVICE_TYPES:
        raise bad_request(f"type: must be one of {', '.join(DEVICE_TYPES)}")
    models = [model for k, model, _prefix, _version in MODELS if k == kind]
    for record in twin.store.all("inventory"):
        if record.get("site_id") == site["id"] and record["type"] == kind and record["model"] not in models:
            models.append(record["model"])
    wanted = request.query_params.get("model")
    answer = [
        {"model": model, "version": version, "tag": tag}
        for model in models
        if not wanted or model == wanted
        for version, tag in available(twin, model, kind)
    ]
    return JSONResponse(answer)


@router.post("/api/v1/sites/{site_id}/devices/{device_id}/upgrade", name="upgradeDevice")
async def upgrade_device(request: Request) -> Response:
    """Upgrade one device of the site (`{version}`); it takes `upgrade_seconds` on the twin's clock."""
    twin, _site, record = site_device(request)
    body = await json_body(request)
    check_request("upgradeDevice", body)
    return JSONResponse(upgrades.upgrade_device(twin, record, body))


@router.post("/api/v1/sites/{site_id}/ssr/{device_id}/upgrade", name="upgradeSsr")
async def upgrade_ssr(request: Request) -> Response:
    """Upgrade one SSR gateway (`{version, channel?}`): it reboots into the version unless reboot_at is -1."""
    twin, _site, record = site_device(request)
    body = await json_body(request)
    check_request("upgradeSsr", body)
    return JSONResponse(upgrades.upgrade_ssr(twin, record, body))


@router.post(_UPGRADES, name="upgradeSiteDevices")
async def upgrade_site(request: Request) -> Response:
    """Upgrade a site's devices in phases (strategy big_bang, canary, rrm or serial)."""
    twin, site = site_access(request)
    body = await json_body(request)
    check_request("upgradeSiteDevices", body)
    upgrade = upgrades.create_site_upgrade(twin, site, body)
    return JSONResponse({"upgrade_id": upgrade["id"]})


@router.get(_UPGRADES, name="listSiteDeviceUpgrades")
async def list_upgrades(request: Request) -> Response:
    """The site's upgrades, oldest first, optionally of one `status`."""
    twin, site = site_access(request)
    wanted = request.query_params.get("status")
    if wanted and wanted not in _STATUSES:
        raise bad_request(f"status: must be one of {', '.join(_STATUSES)}")
    items = [
        upgrades.view(twin, upgrade, as_counts=True)
        for upgrade in twin.store.all(UPGRADES)
        if upgrade["site_id"] == site["id"]
    ]
    return JSONResponse([item for item in items if not wanted or item["status"] == wanted])


def _upgrade(request: Request) -> tuple[TwinState, Obj]:
    twin, site = site_access(request)
    upgrade_id = request.path_params["upgrade_id"]
    upgrade = twin.store.get(UPGRADES, upgrade_id)
    if upgrade is None or upgrade["site_id"] != site["id"]:
        raise not_found("upgrade", upgrade_id)
    return twin, upgrade


@router.get(f"{_UPGRADES}/{{upgrade_id}}", name="getSiteDeviceUpgrade")
async def get_upgrade(request: Request) -> Response:
    """One upgrade: status, phases and the MACs in each state."""
    twin, upgrade = _upgrade(request)
    return JSONResponse(upgrades.view(twin, upgrade))


@router.post(f"{_UPGRADES}/{{upgrade_id}}/cancel", name="cancelSiteDeviceUpgrade")
async def cancel_upgrade(request: Request) -> Response:
    """Cancel the devices not started yet (those upgrading finish)."""
    twin, upgrade = _upgrade(request)
    upgrades.cancel(twin, upgrade)
    return Response(status_code=200)
