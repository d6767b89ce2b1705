"""The twin's indexed router picks the route Starlette's linear search picks (mist_twin/router.py)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Match, Mount, Route

from mist_twin.app import create_app
from mist_twin.config import TwinConfig
from mist_twin.router import IndexedRouter, _Index

TOKEN = "router-token-0123456789abcdef"
ORG = "00000000-0000-0000-0000-0000000000aa"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def linear(routes: list[BaseRoute], method: str, path: str) -> tuple[int | None, Match]:
    """What Starlette's Router does: the first full match, else the first partial one."""
    partial: int | None = None
    for position, route in enumerate(routes):
        match, _ = route.matches(_scope(method, path))
        if match is Match.FULL:
            return position, match
        if match is Match.PARTIAL and partial is None:
            partial = position
    return partial, Match.PARTIAL if partial is not None else Match.NONE


def indexed(index: _Index, routes: list[BaseRoute], method: str, path: str) -> tuple[int | None, Match]:
    partial: int | None = None
    for position in index.candidates(path):
        match, _ = routes[position].matches(_scope(method, path))
        if match is Match.FULL:
            return position, match
        if match is Match.PARTIAL and partial is None:
            partial = position
    return partial, Match.PARTIAL if partial is not None else Match.NONE


def sample_paths(routes: list[BaseRoute]) -> list[str]:
    """Every route's path with its parameters filled, and near misses of each."""
    paths = {"/", "", "/api", "/api/v1/", "/nowhere", "/api/v1/orgs//sites", "/api/v1/sites/x/setting/"}
    for route in routes:
        assert isinstance(route, Route)
        for value in ("x", "psks", "delete", "setting", "00000000-0000-0000-0000-000000000001"):
            filled = re.sub(r"\{[^}]+\}", value, route.path)
            paths |= {filled, filled + "/", filled.rsplit("/", 1)[0], filled + "/extra", filled.replace("/v1/", "/v2/")}
        paths.add(re.sub(r"\{[^}]+\}", "", route.path))  # an empty segment where a parameter goes
    return sorted(paths)


def test_every_path_and_method_gets_starlettes_route() -> None:
    app = create_app(TwinConfig(token=TOKEN, org_id=ORG))
    routes = app.router.routes
    index = _Index(routes)
    paths = sample_paths(routes)
    assert len(routes) > 90 and len(paths) > 1000
    for path in paths:
        for method in METHODS:
            assert indexed(index, routes, method, path) == linear(routes, method, path), (method, path)


def test_a_path_parameter_route_and_a_mount_are_tried_for_every_call() -> None:
    async def endpoint(request: Any) -> Any:
        del request

    routes: list[BaseRoute] = [
        Route("/files/{rest:path}", endpoint),
        Route("/a/{x}", endpoint, methods=["GET"]),
        Mount("/m", routes=[Route("/inner", endpoint)]),
        Route("/a/b", endpoint, methods=["POST"]),
    ]
    index = _Index(routes)
    assert index.always == [0, 2]
    for path in ("/files/x/y/z", "/a/b", "/a/c", "/m/inner", "/m", "/a", "/a/b/c", "/files/"):
        for method in ("GET", "POST"):
            assert indexed(index, routes, method, path) == linear(routes, method, path), (method, path)


def test_routes_added_after_the_first_call_are_found() -> None:
    async def endpoint(request: Any) -> Any:
        del request
        from starlette.responses import PlainTextResponse

        return PlainTextResponse("late")

    router = IndexedRouter()
    router.routes.append(Route("/early", endpoint))

    async def call(path: str) -> int:
        transport = httpx.ASGITransport(app=router)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
            return (await client.get(path)).status_code

    assert asyncio.run(call("/late")) == 404
    router.routes.append(Route("/late", endpoint))
    assert asyncio.run(call("/late")) == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/nowhere", 404, {"detail": "Not Found"}),
        ("PATCH", "/api/v1/self", 405, {"detail": "Method Not Allowed"}),
        ("DELETE", f"/api/v1/orgs/{ORG}/sitegroups", 405, {"detail": "Method Not Allowed"}),
    ],
)
def test_unrouted_calls_get_fastapis_json_answers(method: str, path: str, status: int, body: Any) -> None:
    app = create_app(TwinConfig(token=TOKEN, org_id=ORG))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Token {TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://twin", headers=headers) as client:
            return await client.request(method, path)

    answer = asyncio.run(call())
    assert answer.status_code == status and answer.json() == body
    if status == 405:
        assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD"}
    counted = app.state.twin.counters.snapshot()
    assert counted["total"] == (1 if path.startswith("/api/") else 0)


def test_a_trailing_slash_still_redirects() -> None:
    app = create_app(TwinConfig(token=TOKEN, org_id=ORG))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Token {TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://twin", headers=headers) as client:
            return await client.get("/api/v1/self/")

    answer = asyncio.run(call())
    assert answer.status_code == 307 and answer.headers["location"] == "http://twin/api/v1/self"
