"""Twin-only control endpoints under `/__twin/`: never under `/api/v1`, never counted, no auth.

POST /__twin/reset, GET/PUT /__twin/faults, GET/POST /__twin/devices, GET /__twin/counters,
POST /__twin/tokens, GET /__twin/state (and GET/PUT /__twin/quirks in control_quirks.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from mist_twin.access import json_body, twin_of
from mist_twin.auth import ROLES
from mist_twin.devices import normalise_device
from mist_twin.errors import bad_request
from mist_twin.jsonresp import JSONResponse
from mist_twin.rules import COLLECTIONS

M = TypeVar("M", bound=BaseModel)

router = APIRouter(prefix="/__twin")


class TokenRequest(BaseModel):
    """`POST /__twin/tokens`: a role, on the org or on no org (`org: false`), optionally the token;
    with `user` (an email) a user token of that admin (sharing its rate budget), else an org token."""

    model_config = ConfigDict(extra="forbid")
    role: str = "admin"
    org: bool = True
    token: str | None = None
    user: str | None = None


def invalid(exc: ValidationError) -> Exception:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return bad_request(f"{field}: {first['msg']}")


def updated(current: M, changes: dict[str, Any]) -> M:
    """`current` with the fields of `changes` set, validated (a 400 naming the first bad field)."""
    try:
        return type(current).model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        raise invalid(exc) from None


@router.post("/reset")
async def reset(request: Request) -> Response:
    """Back to a fresh org (same org id and admin token)."""
    twin = twin_of(request)
    twin.reset()
    return JSONResponse({"reset": True, "org_id": twin.org_id})


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    """The live fault and rate-limit knobs."""
    return JSONResponse(twin_of(request).knobs.model_dump())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    """Change some knobs (fields sent only); `seed` restarts the fault dice."""
    twin = twin_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("body: must be an object of knobs")
    seed = body.pop("seed", None)
    twin.knobs.apply(updated(twin.knobs, body))
    if isinstance(seed, int):
        twin.faults.reseed(seed)
    return JSONResponse(twin.knobs.model_dump())


@router.get("/devices")
async def get_devices(request: Request) -> Response:
    """The device pool, claimed or not."""
    return JSONResponse(twin_of(request).devices())


@router.post("/devices")
async def add_devices(request: Request) -> Response:
    """Add devices to the pool: one object or a list (claim_code, mac, serial, model, type)."""
    twin = twin_of(request)
    body: Any = await json_body(request)
    raw = body if isinstance(body, list) else [body]
    try:
        devices = [normalise_device(item, f"device {n}") for n, item in enumerate(raw)]
        twin.add_pool_devices(devices)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return JSONResponse(devices)


@router.post("/devices/ship")
async def ship_devices(request: Request) -> Response:
    """Ship ordered devices (`{"macs": [...]}`): their activation code now claims them."""
    body: Any = await json_body(request)
    macs = body.get("macs") if isinstance(body, dict) else None
    if not isinstance(macs, list) or not all(isinstance(m, str) for m in macs):
        raise bad_request("body: expected {\"macs\": [\"5c5b35000001\", ...]}")
    return JSONResponse({"shipped": twin_of(request).ship([m.lower() for m in macs])})


@router.get("/counters")
async def get_counters(request: Request) -> Response:
    """Calls by route template and by status, the 429s and the dropped answers."""
    twin = twin_of(request)
    return JSONResponse({**twin.counters.snapshot(), "faults_injected": twin.faults.injected})


@router.post("/tokens")
async def add_token(request: Request) -> Response:
    """A new API token with a role (admin, write, read) on the org, or on another org (`org: false`);
    a user token of `user` (shares that admin's rate budget), else an org token (a budget of its own)."""
    twin = twin_of(request)
    try:
        wanted = TokenRequest.model_validate(await json_body(request))
    except ValidationError as exc:
        raise invalid(exc) from None
    if wanted.role not in ROLES:
        raise bad_request(f"role: must be one of {', '.join(ROLES)}")
    principal = twin.add_token(wanted.role, on_org=wanted.org, token=wanted.token, user=wanted.user)
    return JSONResponse({"token": principal.token, "role": principal.role, "org_id": principal.org_id,
                         "user": principal.user})


@router.get("/state")
async def get_state(request: Request) -> Response:
    """The org's objects by collection, with the inventory and site settings (for tests)."""
    return JSONResponse(twin_of(request).dump(COLLECTIONS))
