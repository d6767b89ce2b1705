"""Twin-only: `GET/PUT /__twin/quirks`, the switches that make the twin differ from modelled Mist."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin.access import json_body, twin_of
from mist_twin.control import updated
from mist_twin.errors import bad_request
from mist_twin.jsonresp import JSONResponse

router = APIRouter(prefix="/__twin")


@router.get("/quirks")
async def get_quirks(request: Request) -> Response:
    """The quirks in force (all false: the twin behaves as modelled)."""
    return JSONResponse(twin_of(request).quirks.model_dump())


@router.put("/quirks")
async def put_quirks(request: Request) -> Response:
    """Turn some quirks on or off (the fields sent only)."""
    twin = twin_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("body: must be an object of quirks")
    twin.quirks.apply(updated(twin.quirks, body))
    return JSONResponse(twin.quirks.model_dump())
