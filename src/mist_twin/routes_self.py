"""`GET /self`, `GET /self/usage` and `GET /orgs/{org_id}`: who the token is and what it may do."""

from __future__ import annotations

import math

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin.access import caller, org_access, twin_of
from mist_twin.jsonresp import JSONResponse

router = APIRouter()


@router.get("/api/v1/self", name="getSelf")
async def get_self(request: Request) -> Response:
    """Who the token is: a user token answers its admin (`email`, names); an org token only its `name`."""
    twin = twin_of(request)
    principal = caller(request, twin)
    org_name = twin.org["name"] if principal.org_id == twin.org_id else "Another Org"
    privilege = {"scope": "org", "org_id": principal.org_id, "role": principal.role, "name": org_name}
    common = {"privileges": [privilege], "tags": [], "session_expiry": 1440}
    if principal.user is None:  # spec `admin`: `name` "for Org API Token only"
        return JSONResponse({"name": principal.name, **common})
    admin = {
        "email": principal.user,
        "first_name": "Twin",
        "last_name": "Admin",
        **common,
        "via_sso": False,
        "enable_two_factor": False,
        "two_factor_verified": False,
    }
    return JSONResponse(admin)


@router.get("/api/v1/self/usage", name="getSelfApiUsage")
async def get_usage(request: Request) -> Response:
    """The count of the calling token's budget (its admin's, for a user token) in the current window,
    this call included."""
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
