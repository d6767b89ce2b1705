"""`GET /self`, `GET /self/usage` and `GET /orgs/{org_id}`: who the token is and what it may do."""

from __future__ import annotations

import math

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mist_twin.access import caller, org_access, twin_of

router = APIRouter()


@router.get("/api/v1/self", name="getSelf")
async def get_self(request: Request) -> Response:
    """The admin behind the token, with its privilege on the org."""
    twin = twin_of(request)
    principal = caller(request, twin)
    org_name = twin.org["name"] if principal.org_id == twin.org_id else "Another Org"
    privilege = {"scope": "org", "org_id": principal.org_id, "role": principal.role, "name": org_name}
    admin = {
        "email": "twin-admin@example.com",
        "first_name": "Twin",
        "last_name": "Admin",
        "name": principal.name,
        "privileges": [privilege],
        "tags": [],
        "via_sso": False,
        "enable_two_factor": False,
        "two_factor_verified": False,
        "session_expiry": 1440,
    }
    return JSONResponse(admin)


@router.get("/api/v1/self/usage", name="getSelfApiUsage")
async def get_usage(request: Request) -> Response:
    """The calling token's count in the current rate-limit window (this call included)."""
    twin = twin_of(request)
    principal = caller(request, twin)
    usage = twin.rate.usage(principal.token)
    body = {"request_limit": usage.request_limit, "requests": usage.requests}
    return JSONResponse({**body, "seconds": math.ceil(usage.seconds)})


@router.get("/api/v1/orgs/{org_id}", name="getOrg")
async def get_org(request: Request) -> Response:
    """The org."""
    twin = org_access(request)
    return JSONResponse(twin.org)
