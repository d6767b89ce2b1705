"""The plan's reads start sooner: the token owners' ``GET /self`` is sent while the plan's local work runs
(`Services.owners_asked`), and the inventory is listed in the same round trip as the org's kinds. The calls
are the ones a plan always sent: one ``GET /self``, one list per kind, one inventory list."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mistctl.bootstrap import open_services
from mistctl.config import Settings
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import example_fleet_for
from tests.support.twin import twin_app


class InFlight(httpx.AsyncBaseTransport):
    """The twin in-process, each answer held a moment: records every request with the paths in flight
    when it started."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.flying: set[str] = set()
        self.started: list[tuple[str, frozenset[str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = f"{request.method} {request.url.path.removeprefix('/api/v1')}"
        self.started.append((path, frozenset(self.flying)))
        self.flying.add(path)
        try:
            await asyncio.sleep(0.02)  # a round trip: what was sent together is in flight together
            return await self.inner.handle_async_request(request)
        finally:
            self.flying.discard(path)


def _settings(app: object) -> Settings:
    twin = app.state.twin  # type: ignore[attr-defined]
    return Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                    mistctl_state="memory://")


async def test_get_self_goes_out_first_and_the_inventory_with_the_kinds() -> None:
    app = twin_app()
    wire = InFlight(app)
    fleet = example_fleet_for(app.state.twin, sites=4)
    async with app.router.lifespan_context(app), open_services(
            settings=_settings(app), transport=wire, store=MemoryStore(), concurrency=16) as svc:
        async with svc.owners_asked():
            await asyncio.sleep(0.005)  # the caller's own work: GET /self is already on its way
            sent_meanwhile = [path for path, _ in wire.started]
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, concurrency=16)
        assert not planned.plan.is_empty()
    assert sent_meanwhile == ["GET /self"]
    paths = [path for path, _ in wire.started]
    assert paths.count("GET /self") == 1  # the plan's first call did not ask again
    org = f"/orgs/{app.state.twin.org_id}"
    lists = {path for path in paths if path.startswith(f"GET {org}/")}
    assert len(paths) == 1 + len(lists) and len(lists) > 10  # GET /self and one list each, nothing else
    inventory = next(flying for path, flying in wire.started if path == f"GET {org}/inventory")
    assert inventory | {f"GET {org}/inventory"} == lists  # one round trip: every kind's list in flight with it


async def test_leaving_with_an_error_sends_nothing_and_a_later_call_still_asks() -> None:
    app = twin_app()
    wire = InFlight(app)
    async with app.router.lifespan_context(app), open_services(
            settings=_settings(app), transport=wire, store=MemoryStore()) as svc:
        with pytest.raises(RuntimeError, match="bad fleet"):
            async with svc.owners_asked():
                raise RuntimeError("bad fleet")  # before the loop ran the lookup: it is cancelled unsent
        assert wire.started == []
        await svc.mist.list_sites(svc.org_id)
    assert [path for path, _ in wire.started] == ["GET /self", f"GET /orgs/{app.state.twin.org_id}/sites"]
