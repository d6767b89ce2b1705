"""Error answers and lost answers from the twin reach the caller as the right typed exceptions."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import (
    BadRequest,
    Forbidden,
    ManualClock,
    MistClient,
    MistTransportError,
    NotFound,
    OutcomeUnknown,
    ServerError,
    SystemClock,
    Unauthorized,
    build_http_client,
)
from tests.support.twin import running_twin, twin_app, twin_transport


@dataclass
class Rig:
    client: MistClient
    control: httpx.AsyncClient
    org: str
    http: httpx.AsyncClient

    def as_token(self, token: str) -> MistClient:
        return MistClient(self.http, token, clock=ManualClock(), rng=random.Random(2))

    async def faults(self, **knobs: float) -> None:
        assert (await self.control.put("/__twin/faults", json=knobs)).status_code == 200

    async def held(self, collection: str) -> list[dict]:
        return (await self.control.get("/__twin/state")).json()[collection]


@asynccontextmanager
async def in_process() -> AsyncIterator[Rig]:
    clock = ManualClock()
    app = twin_app(clock=clock.now, device_count=0)
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(transport=twin_transport(app), base_url="http://twin") as control,
    ):
        client = MistClient(http, app.state.twin.token, clock=clock, rng=random.Random(1))
        yield Rig(client, control, app.state.twin.org_id, http)


async def test_a_dropped_answer_on_post_is_outcome_unknown_and_the_object_exists():
    async with in_process() as rig:
        await rig.faults(drop_rate=1.0)
        with pytest.raises(OutcomeUnknown, match="look the object up"):
            await rig.client.create_sitegroup(rig.org, {"name": "east"})
        await rig.faults(drop_rate=0.0)
        found = [g["name"] for g in await rig.client.list_sitegroups(rig.org)]
    assert found == ["east"]
    assert rig.client.calls.by_method["POST"] == 1


async def test_a_dropped_answer_on_put_is_retried_and_the_update_holds():
    async with in_process() as rig:
        group = await rig.client.create_sitegroup(rig.org, {"name": "east"})
        await rig.faults(drop_rate=1.0)
        with pytest.raises(MistTransportError) as info:
            await rig.client.update_sitegroup(rig.org, group["id"], {"name": "west"})
        held = await rig.held("sitegroups")
    assert type(info.value) is MistTransportError
    assert rig.client.calls.by_method["PUT"] == 4
    assert [g["name"] for g in held] == ["west"]


async def test_injected_5xx_are_retried_on_get_and_outcome_unknown_on_post():
    async with in_process() as rig:
        await rig.faults(fault_rate=1.0)
        with pytest.raises(ServerError):
            await rig.client.list_sites(rig.org)
        with pytest.raises(OutcomeUnknown) as info:
            await rig.client.create_site(rig.org, {"name": "s"})
        await rig.faults(fault_rate=0.0)
        held = await rig.held("sites")
    assert info.value.status in (500, 502, 503)
    assert held == []  # the twin fails before performing: nothing was created
    assert rig.client.calls.by_outcome["server_error"] == 4 + 1


async def test_some_5xx_among_successes_are_absorbed_by_retries():
    async with in_process() as rig:
        await rig.faults(fault_rate=0.3, seed=4)
        for _ in range(10):
            assert await rig.client.list_networks(rig.org) == []
    assert rig.client.calls.by_outcome["server_error"] > 0


async def test_status_errors_map_to_typed_exceptions():
    async with in_process() as rig:
        reader = (await rig.control.post("/__twin/tokens", json={"role": "read"})).json()["token"]
        stranger = (await rig.control.post("/__twin/tokens", json={"org": False})).json()["token"]
        with pytest.raises(Unauthorized) as unauthorized:
            await rig.as_token("not-a-token").get_self()
        with pytest.raises(Forbidden):
            await rig.as_token(reader).create_sitegroup(rig.org, {"name": "x"})
        assert await rig.as_token(reader).list_sitegroups(rig.org) == []
        with pytest.raises(Forbidden):
            await rig.as_token(stranger).get_organization(rig.org)
        with pytest.raises(NotFound) as missing:
            await rig.client.get_site("00000000-0000-0000-0000-000000000000")
        with pytest.raises(BadRequest) as bad:
            await rig.client.create_wxtag(rig.org, {"name": "no type"})
        with pytest.raises(BadRequest) as bad_claim:
            await rig.client.claim_inventory(rig.org, ["NOSUCHCODE00001"])
    assert unauthorized.value.status == 401 and unauthorized.value.detail
    assert missing.value.path == "/api/v1/sites/00000000-0000-0000-0000-000000000000"
    assert "type" in bad.value.detail
    assert bad_claim.value.body["error"] == ["NOSUCHCODE00001"]


@pytest.mark.slow
async def test_over_http_a_dropped_post_is_outcome_unknown_and_a_bad_token_unauthorized():
    with running_twin(TwinConfig(drop_rate=1.0, device_count=0)) as (base_url, org_id, token):
        async with build_http_client(base_url) as http:
            client = MistClient(http, token, clock=SystemClock())
            with pytest.raises(OutcomeUnknown):
                await client.create_sitegroup(org_id, {"name": "east"})
            assert [g["name"] for g in await client.list_sitegroups(org_id)] == ["east"]
            with pytest.raises(Unauthorized):
                await MistClient(http, "wrong-token", clock=SystemClock()).get_self()
