"""Fault injection in-process (5xx rate, dropped answers as transport errors, latency), counters, control."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import twin_app, twin_client


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def test_fault_rate_answers_5xx_before_performing(answers: ContractChecker) -> None:
    app = twin_app(fault_rate=0.5, seed=11)
    twin = app.state.twin
    statuses = []
    async with twin_client(app, checker=answers) as client:
        for n in range(60):
            answer = await client.post(f"/api/v1/orgs/{twin.org_id}/sitegroups", json={"name": f"g{n}"})
            statuses.append(answer.status_code)
    faults = [s for s in statuses if s >= 500]
    assert set(faults) <= {500, 502, 503} and 15 < len(faults) < 45
    assert len(twin.objects("sitegroups")) == statuses.count(200), "a 5xx performed nothing"
    assert twin.faults.injected == len(faults)


async def test_faults_are_reproducible_with_a_seed(answers: ContractChecker) -> None:
    async def run() -> list[int]:
        app = twin_app(fault_rate=0.3, seed=5)
        async with twin_client(app, checker=answers) as client:
            return [(await client.get("/api/v1/self")).status_code for _ in range(30)]

    assert await run() == await run()


async def test_dropped_answer_is_a_transport_error_after_the_write(answers: ContractChecker) -> None:
    app = twin_app(drop_rate=1.0)
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.post(f"/api/v1/orgs/{twin.org_id}/sitegroups", json={"name": "lost answer"})
        read = await client.get(f"/api/v1/orgs/{twin.org_id}/sitegroups")  # reads are never dropped
    assert isinstance(caught.value, httpx.RemoteProtocolError)
    assert [g["name"] for g in twin.objects("sitegroups")] == ["lost answer"], "the write was performed"
    assert read.status_code == 200
    assert twin.counters.snapshot()["dropped"] == 1


async def test_drop_rate_share_and_knobs_change_at_runtime(answers: ContractChecker) -> None:
    app = twin_app(seed=4)
    twin = app.state.twin
    dropped = 0
    async with twin_client(app, checker=answers) as client:
        knobs = await client.put("/__twin/faults", json={"drop_rate": 0.25, "latency_ms": 1})
        bad = await client.put("/__twin/faults", json={"drop_rate": 2})
        for n in range(40):
            try:
                await client.post(
                    f"/api/v1/orgs/{twin.org_id}/wxtags", json={"name": f"t{n}", "type": "client"}
                )
            except httpx.RemoteProtocolError:
                dropped += 1
        current = (await client.get("/__twin/faults")).json()
    assert knobs.status_code == 200 and knobs.json()["drop_rate"] == 0.25
    assert bad.status_code == 400 and bad.json()["detail"].startswith("drop_rate:")
    assert current["latency_ms"] == 1 and 3 < dropped < 20
    assert len(twin.objects("wxtags")) == 40


async def test_latency_is_applied(answers: ContractChecker) -> None:
    """The delay is drawn from the knobs: no timing assertion, the draws are checked instead."""
    app = twin_app(latency_ms=2, jitter_ms=4, seed=1)
    delays = [app.state.twin.faults.delay() for _ in range(50)]
    assert all(0.002 <= d <= 0.006 for d in delays) and len(set(delays)) > 1
    async with twin_client(app, checker=answers) as client:
        assert (await client.get("/api/v1/self")).status_code == 200


async def test_counters_by_route_template_and_status(answers: ContractChecker) -> None:
    app = twin_app(rate_limit=3)
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "a"})).json()
        await client.get(f"/api/v1/sites/{site['id']}")
        await client.get("/api/v1/sites/00000000-0000-0000-0000-000000000000")
        await client.get(f"/api/v1/sites/{site['id']}")  # the 4th call: 429
        counters = (await client.get("/__twin/counters")).json()
    assert counters["by_route"] == {"POST /api/v1/orgs/{org_id}/sites": 1, "GET /api/v1/sites/{site_id}": 3}
    assert counters["by_status"] == {"200": 2, "404": 1, "429": 1}
    assert counters["total"] == 4 and counters["rate_limited"] == 1


async def test_reset_keeps_org_and_token_and_forgets_the_rest(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=2, device_count=3, fault_rate=0)
    twin = app.state.twin
    org, token = twin.org_id, twin.token
    extra = twin.add_token("read").token
    async with twin_client(app, checker=answers) as client:
        await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "a"})
        await client.post(f"/api/v1/orgs/{org}/inventory", json=[twin.devices()[2]["claim_code"]])
        await client.put("/__twin/faults", json={"latency_ms": 5})
        answer = await client.post("/__twin/reset")
        after = await client.get("/api/v1/self", headers={"Authorization": f"Token {extra}"})
        state = (await client.get("/__twin/state")).json()
    assert answer.json() == {"reset": True, "org_id": org} and twin.token == token
    assert after.status_code == 401, "extra tokens are forgotten"
    assert state["sites"] == [] and len(state["inventory"]) == 2 and state["org"]["id"] == org
    assert [d["claimed"] for d in twin.devices()] == [True, True, False, False, False]
    assert twin.knobs.latency_ms == 0
    assert twin.counters.snapshot()["by_status"] == {"401": 1}, "counters restart at the reset"


async def test_control_tokens_endpoint(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        made = (await client.post("/__twin/tokens", json={"role": "read"})).json()
        outsider = (await client.post("/__twin/tokens", json={"role": "admin", "org": False})).json()
        bad = await client.post("/__twin/tokens", json={"role": "owner"})
        read = await client.get(
            f"/api/v1/orgs/{twin.org_id}", headers={"Authorization": f"Token {made['token']}"}
        )
        other = await client.get(
            f"/api/v1/orgs/{twin.org_id}", headers={"Authorization": f"Token {outsider['token']}"}
        )
    assert made["role"] == "read" and made["org_id"] == twin.org_id and outsider["org_id"] != twin.org_id
    assert bad.status_code == 400 and read.status_code == 200 and other.status_code == 403
