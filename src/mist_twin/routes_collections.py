"""The generic routes: list, create, get, update and delete for every collection in `rules.RULES`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mist_twin import crud
from mist_twin.access import item_access, json_body, org_access
from mist_twin.jsonresp import JSONResponse
from mist_twin.rules import RULES

Endpoint = Callable[[Request], Awaitable[Response]]


def _lister(rule: crud.Rule) -> Endpoint:
    async def list_objects(request: Request) -> Response:
        twin = org_access(request)
        page, headers = crud.listing(twin, rule, request.query_params)
        return JSONResponse(page, headers=headers)

    return list_objects


def _creator(rule: crud.Rule) -> Endpoint:
    async def create_object(request: Request) -> Response:
        twin = org_access(request)
        upsert = request.query_params.get("upsert", "").lower() in ("true", "1")
        obj = crud.create(twin, rule, await json_body(request), upsert=upsert)
        return JSONResponse(crud.shown(twin, rule, [obj])[0])

    return create_object


def _getter(rule: crud.Rule) -> Endpoint:
    async def get_object(request: Request) -> Response:
        twin, obj = item_access(request, rule)
        return JSONResponse(crud.shown(twin, rule, [obj])[0])

    return get_object


def _updater(rule: crud.Rule) -> Endpoint:
    async def update_object(request: Request) -> Response:
        twin, obj = item_access(request, rule)
        new = crud.update(twin, rule, obj, await json_body(request))
        return JSONResponse(crud.shown(twin, rule, [new])[0])

    return update_object


def _deleter(rule: crud.Rule) -> Endpoint:
    async def delete_object(request: Request) -> Response:
        twin, obj = item_access(request, rule)
        crud.delete(twin, rule, obj)
        return Response(status_code=200)

    return delete_object


def collection_paths(rule: crud.Rule) -> tuple[str, str]:
    """The collection path and the item path of a rule, with the spec's parameter names."""
    base = f"/api/v1/orgs/{{org_id}}/{rule.collection}"
    root = base if rule.item_under_org else f"/api/v1/{rule.collection}"
    return base, f"{root}/{{{rule.id_param}}}"


def build_router() -> APIRouter:
    """One router with the five routes of every collection."""
    router = APIRouter()
    for rule in RULES:
        base, item = collection_paths(rule)
        router.add_api_route(base, _lister(rule), methods=["GET"], name=rule.ops.list)
        router.add_api_route(base, _creator(rule), methods=["POST"], name=rule.ops.create)
        router.add_api_route(item, _getter(rule), methods=["GET"], name=rule.ops.get)
        router.add_api_route(item, _updater(rule), methods=["PUT"], name=rule.ops.update)
        router.add_api_route(item, _deleter(rule), methods=["DELETE"], name=rule.ops.delete)
    return router
