"""The org-level writes go in rounds (`domain/org_rounds.py`): an object is written only after every object it
names has been answered, the kinds of one round are in flight together, and the claims go beside them.
Checked on what the twin was sent, with the time each call started and ended."""

from __future__ import annotations

import asyncio
import json
from itertools import count

import httpx

from mistctl.bootstrap import open_services
from mistctl.config import Settings
from mistctl.domain import kinds as K
from mistctl.domain.org_rounds import ORG_ROUNDS
from mistctl.domain.refs import REFS
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import assert_twin_matches, example_fleet_for
from tests.support.twin import twin_app

ROUND_OF = {kind.collection: n for n, kinds in enumerate(ORG_ROUNDS) for kind in kinds}


class TimedTransport(httpx.AsyncBaseTransport):
    """The twin in process, each call held 20 ms; every POST logged with when it started and ended (a tick)."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.tick = count()
        self.posts: list[tuple[str, str, int, int]] = []  # (collection, name, started, ended)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = next(self.tick)
        await asyncio.sleep(0.02)
        response = await self.inner.handle_async_request(request)
        parts = request.url.path.split("/")  # /api/v1/orgs/{org}/{collection}
        if request.method == "POST" and len(parts) == 6:
            body = json.loads(request.content) if request.content else {}
            name = str(body.get("name") or body.get("ssid") or "") if isinstance(body, dict) else ""
            self.posts.append((parts[5], name, started, next(self.tick)))
        return response


def test_the_rounds_put_every_kind_after_the_kinds_it_names() -> None:
    for ref in REFS:
        if {ref.kind_key, ref.target_kind_key} <= ROUND_OF_KEY.keys() and ref.kind_key != ref.target_kind_key:
            assert ROUND_OF_KEY[ref.target_kind_key] < ROUND_OF_KEY[ref.kind_key], ref
    in_rounds = [k for kinds in ORG_ROUNDS for k in kinds]
    assert in_rounds == sorted(K.ORG_KINDS, key=lambda k: (ROUND_OF_KEY[k.key], k.step))
    assert len(ORG_ROUNDS) == 4


ROUND_OF_KEY = {kind.key: n for n, kinds in enumerate(ORG_ROUNDS) for kind in kinds}


async def test_org_writes_go_in_rounds_with_the_claims_beside_them() -> None:
    app = twin_app(inventory_count=10)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=2)
    store = MemoryStore()
    transport = TimedTransport(app)
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state="memory://")
    async with open_services(settings=settings, transport=transport, store=store, concurrency=64) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, concurrency=64)
        run = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                            concurrency=64)
    assert result.ok, result
    assert_twin_matches(twin, fleet)

    org = [p for p in transport.posts if p[0] in ROUND_OF]
    by_round: dict[int, list[tuple[str, str, int, int]]] = {}
    for post in org:
        by_round.setdefault(ROUND_OF[post[0]], []).append(post)
    assert sorted(by_round) == [0, 1, 2, 3], sorted(by_round)  # the example fleet has every kind
    for n in range(1, 4):
        last_end = max(p[3] for p in by_round[n - 1])
        assert all(p[2] > last_end for p in by_round[n]), f"round {n} started before round {n - 1} ended"
    for posts in by_round.values():  # a round's writes were all in flight at once
        assert max(p[2] for p in posts) < min(p[3] for p in posts), posts
    assert len({p[0] for p in by_round[0]}) == len(ORG_ROUNDS[0])  # five kinds in one round trip
    claims = [p for p in transport.posts if p[0] == "inventory"]
    assert claims, transport.posts
    assert min(p[2] for p in claims) < min(p[3] for p in by_round[0])  # made while round 1 was in flight

    events = [e for _, e in await store.events_since(run.id) if e.get("type") == "step"]
    assert [e["kind"] for e in events] == [k.key for kinds in ORG_ROUNDS for k in kinds], events
    # each kind says its own time (the metrics' step histogram reads it): at least its one 20 ms write
    assert all(0.02 <= e["seconds"] < 5 for e in events), events


class RefusingNetworks(TimedTransport):
    """The twin, except that creating the network named `refused` answers 400 while `refuse` is set."""

    refuse = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse and request.method == "POST" and request.url.path.endswith("/networks"):
            if json.loads(request.content).get("name") == "refused":
                return httpx.Response(400, json={"detail": "refused for the test"})
        return await super().handle_async_request(request)


async def test_a_failed_org_write_stops_before_the_sites_but_not_the_claims_and_a_rerun_ends_it() -> None:
    app = twin_app(inventory_count=10)
    twin = app.state.twin
    base = example_fleet_for(twin, sites=2)
    networks = [*base.org.networks, {"name": "refused", "subnet": "192.0.2.0/24", "vlan_id": 999}]
    fleet = base.model_copy(update={"org": base.org.model_copy(update={"networks": networks})})
    transport = RefusingNetworks(app)
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state="memory://")
    codes = {d.claim_code for s in fleet.sites for d in s.devices}
    async with open_services(settings=settings, transport=transport, store=MemoryStore()) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        run = await svc.new_run("apply", planned.plan)
        first = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run)
        assert list(first.org_failed) == ["networks:refused"]
        assert twin.objects("sites") == []  # the run stopped before the sites
        # the round after the failed one still ran (its names resolve): as the steps one after another did
        assert [t["name"] for t in twin.objects("gatewaytemplates")] == ["store-spoke"]
        held = {d["magic"] for d in twin.inventory()}
        assert codes <= held and not any(d.get("site_id") for d in twin.inventory())  # claimed, not assigned

        transport.refuse = False
        transport.posts.clear()
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        run = await svc.new_run("apply", planned.plan)
        second = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run)
    assert second.ok, second
    assert_twin_matches(twin, fleet)
    assert not [p for p in transport.posts if p[0] == "inventory"]  # the codes were held: no claim again
    assert sorted(p[1] for p in transport.posts if p[0] in ROUND_OF) == ["refused"]  # only what was missing
