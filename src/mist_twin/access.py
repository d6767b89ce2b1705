"""Per-request helpers for handlers: the twin, the caller's access to the org, the JSON body."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mist_twin import crud
from mist_twin.auth import Principal, authenticate
from mist_twin.rules import SITES
from mist_twin.state import TwinState
from mist_twin.store import Obj
from mist_twin.validation import parse_json


def twin_of(request: Request) -> TwinState:
    """The twin behind this app."""
    twin: TwinState = request.app.state.twin
    return twin


def caller(request: Request, twin: TwinState) -> Principal:
    """The authenticated caller (401 otherwise)."""
    return authenticate(request.headers.get("authorization"), twin.tokens)


def org_access(request: Request) -> TwinState:
    """The twin, once the caller may perform this method on the `{org_id}` of the path."""
    twin = twin_of(request)
    caller(request, twin).require(request.path_params["org_id"], request.method)
    return twin


def item_access(request: Request, rule: crud.Rule) -> tuple[TwinState, Obj]:
    """The twin and the object of the path, once the caller may act on the object's org."""
    twin = twin_of(request)
    principal = caller(request, twin)
    if rule.item_under_org:
        principal.require(request.path_params["org_id"], request.method)
    obj = crud.fetch(twin, rule, request.path_params[rule.id_param])
    principal.require(obj["org_id"], request.method)
    return twin, obj


def site_access(request: Request) -> tuple[TwinState, Obj]:
    """The twin and the `{site_id}` site of the path (404 unknown, 403 not the caller's org)."""
    return item_access(request, SITES)


async def json_body(request: Request) -> Any:
    """The parsed JSON body (Mist's 400 on a parse error)."""
    return parse_json(await request.body())
