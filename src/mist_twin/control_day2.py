"""Day 2 control endpoints under `/__twin/` (no auth, never counted): steer SLEs and mark firmware bad.

GET/PUT/DELETE /__twin/sle/{site_id}   a site's SLE values; PUT `{metric: value}` overrides some
                                        (either spelling: `switch_health` or `switch-health`);
                                        `"no_data": true` makes it a site without SLE data (Day 0)
PUT /__twin/sle-interval               `{"seconds": 2}`: summaries of windows up to 6 h use this
                                        interval instead of 10 minutes (tests over HTTP)
DELETE /__twin/sle                     clear every override
GET /__twin/firmware                   the marks, the running upgrades and the upgrade time
PUT/DELETE /__twin/firmware/{version}  `{"effect": "degrade"|"fail"|"none", "sle_drop": 0.3,
                                        "models": [...]}`: devices running a degrading version lower
                                        their site's SLEs; an upgrade to a failing one ends `failed`;
                                        `models` publishes the version for those models
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import firmware, sle
from mist_twin.access import json_body, twin_of
from mist_twin.errors import bad_request, not_found
from mist_twin.jsonresp import JSONResponse
from mist_twin.state import TwinState

router = APIRouter(prefix="/__twin")


def _site_values(twin: TwinState, site_id: str) -> dict[str, Any]:
    if twin.store.get("sites", site_id) is None:
        raise not_found("site", site_id)
    view = sle.SiteView(twin, firmware.sle_drops(twin))
    return {"site_id": site_id, "values": view.values(site_id), "overrides": sle.overrides_of(twin, site_id),
            "no_data": not sle.has_data(twin, site_id)}


def _overrides(body: Any) -> tuple[dict[str, float], bool | None]:
    """(`{metric: value}` under stored names, the `no_data` flag if sent), or a 400 naming the bad entry."""
    if not isinstance(body, dict) or not body:
        raise bad_request('body: must be an object of metric values, such as {"coverage": 0.7}')
    body = dict(body)
    no_data = body.pop("no_data", None)
    if no_data is not None and not isinstance(no_data, bool):
        raise bad_request("no_data: must be true or false")
    found: dict[str, float] = {}
    for name, value in body.items():
        metric = sle.BY_NAME.get(name)
        if metric is None:
            raise bad_request(f"{name}: not an SLE metric (known: {', '.join(sorted(sle.BY_NAME))})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise bad_request(f"{name}: must be a number from 0 to 1")
        found[metric.key] = float(value)
    return found, no_data


@router.get("/sle/{site_id}")
async def get_sle(request: Request) -> Response:
    """A site's current SLE values (after overrides and firmware drops) and its overrides."""
    return JSONResponse(_site_values(twin_of(request), request.path_params["site_id"]))


@router.put("/sle/{site_id}")
async def put_sle(request: Request) -> Response:
    """Override some of a site's SLE values (merged with earlier overrides)."""
    twin = twin_of(request)
    site_id = request.path_params["site_id"]
    _site_values(twin, site_id)  # 404 for an unknown site
    wanted, no_data = _overrides(await json_body(request))
    sle.set_overrides(twin, site_id, wanted, no_data)
    return JSONResponse(_site_values(twin, site_id))


@router.delete("/sle/{site_id}")
async def clear_site_sle(request: Request) -> Response:
    """Forget a site's overrides: its values are the seeded ones again."""
    twin = twin_of(request)
    twin.store.delete(sle.OVERRIDES, request.path_params["site_id"])
    return JSONResponse(_site_values(twin, request.path_params["site_id"]))


@router.delete("/sle")
async def clear_sle(request: Request) -> Response:
    """Forget every site's overrides."""
    twin = twin_of(request)
    with twin.store.batch():
        for row in twin.store.all(sle.OVERRIDES):
            twin.store.delete(sle.OVERRIDES, row["site_id"])
    return JSONResponse({"cleared": True})


@router.put("/sle-interval")
async def put_sle_interval(request: Request) -> Response:
    """Summaries of windows up to 6 h use `seconds` as their interval (instead of 10 minutes)."""
    twin = twin_of(request)
    body = await json_body(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 600:
        raise bad_request('seconds: must be a whole number from 1 to 600, such as {"seconds": 2}')
    twin.store.put(sle.SETTINGS, "interval", {"key": "interval", "seconds": seconds})
    return JSONResponse({"seconds": seconds})


@router.get("/firmware")
async def get_firmware(request: Request) -> Response:
    """The version marks, the device upgrades scheduled or running, and the upgrade time."""
    twin = twin_of(request)
    return JSONResponse(
        {
            "upgrade_seconds": twin.knobs.upgrade_seconds,
            "marks": twin.store.all(firmware.MARKS),
            "jobs": twin.store.all(firmware.JOBS),
        }
    )


@router.put("/firmware/{version}")
async def put_firmware(request: Request) -> Response:
    """Mark a version: `degrade` (with `sle_drop`), `fail`, or `none`; `models` publishes it."""
    twin = twin_of(request)
    return JSONResponse(firmware.set_mark(twin, request.path_params["version"], await json_body(request)))


@router.delete("/firmware/{version}")
async def clear_firmware(request: Request) -> Response:
    """Forget a version's mark."""
    twin = twin_of(request)
    twin.store.delete(firmware.MARKS, request.path_params["version"])
    return JSONResponse({"version": request.path_params["version"], "effect": "none"})
