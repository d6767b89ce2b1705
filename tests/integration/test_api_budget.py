"""When the service's Mist call budget is spent: a request answers 503 with Retry-After and the reset time
instead of sleeping (and frees its locks), /readyz sends no Mist call, and a background deployment waits
for the reset with "waiting for the rate budget" in its events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from mistctl.api.app import create_app
from mistctl.api.jobs import org_lock, site_lock
from mistctl.mist import ManualClock
from mistctl.store.memory import MemoryStore
from tests.integration.test_api_support import Harness, full_stack_body, settings_for
from tests.support.twin import twin_app, twin_transport

ROUTE = "/orchestrator/deploy-full-stack"


@asynccontextmanager
async def spent_service(clock: ManualClock, **settings: Any) -> AsyncIterator[Harness]:
    """The service with a tiny call budget (3 calls an hour, as the service believes) and a manual clock."""
    twin = twin_app(inventory_count=5)
    store = MemoryStore()
    values = {"mist_rate_limit": 3, "mistctl_budget_wait": 5.0, **settings}
    app = create_app(settings_for(twin, **values), transport=twin_transport(twin), store=store, clock=clock)
    async with twin.router.lifespan_context(twin), app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Harness(app, client, twin, store)


async def test_a_request_answers_503_with_retry_after_and_frees_its_locks() -> None:
    clock = ManualClock(1_700_000_000.0)  # 2800 s before the top of the hour
    async with spent_service(clock) as svc:
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
        sent = svc.twin.counters.snapshot()["total"]
        free_org = await svc.store.acquire_lock(org_lock(svc.org_id), "next", 1)
        free_site = await svc.store.acquire_lock(site_lock(svc.org_id, "Branch-NYC-001"), "next", 1)
    body = answer.json()
    assert answer.status_code == 503, body
    assert answer.headers["Retry-After"] == "2800" and body["retry_after"] == 2800
    assert body["budget_resets_at"] == "2023-11-14T23:00:00+00:00"
    assert "call budget is spent" in body["detail"] and "POST /deployments" in body["detail"]
    assert clock.sleeps == [], "the request did not wait for a reset 2800 s away"
    assert sent == 3, "no call past the budget"
    assert free_org and free_site


async def test_a_request_waits_for_a_reset_within_the_bound() -> None:
    clock = ManualClock(1_700_002_797.0)  # 3 s before the top of the hour: within the 5 s bound
    async with spent_service(clock, mist_rate_limit=40) as svc:  # the ~46 calls need two windows
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
    assert answer.status_code == 200 and answer.json()["status"] == "completed"
    assert clock.sleeps and max(clock.sleeps) <= 5.0 + 1.0


async def test_readyz_sends_no_mist_call_and_says_the_budget_is_spent() -> None:
    clock = ManualClock(1_700_000_000.0)
    async with spent_service(clock, mist_rate_limit=1) as svc:
        svc.ctx.metrics.last_ok_call = float("-inf")
        await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)  # spends the one call
        svc.ctx.metrics.last_ok_call = float("-inf")
        before = svc.twin.counters.snapshot()["total"]
        first = await svc.client.get("/readyz", headers=svc.key)
        if svc.ctx._check is not None:
            await svc.ctx._check
        second = await svc.client.get("/readyz", headers=svc.key)
        after = svc.twin.counters.snapshot()["total"]
    assert first.status_code == 200 and second.status_code == 200
    assert after == before, "readiness never spends a Mist call past the budget"
    assert second.json()["mist"].startswith("ok (the API call budget is spent; it resets in")


async def test_a_background_deployment_waits_for_the_reset_and_says_so() -> None:
    clock = ManualClock(1_700_000_000.0)
    async with spent_service(clock, mist_rate_limit=20) as svc:
        fleet = svc.ctx.design.fleet([]).model_dump(mode="json")
        fleet["sites"] = [{"name": "Store-BG-001", "zone": 1, "number": 1}]
        accepted = await svc.client.post("/deployments", json={"fleet": fleet}, headers=svc.key)
        run_id = accepted.json()["id"]
        await svc.ctx.deployments.wait(run_id)
        run = await svc.store.get_run(run_id, include_plan=False)
        events = [e for _seq, e in await svc.store.events_since(run_id)]
    waits = [e for e in events if e.get("type") == "waiting"]
    assert accepted.status_code == 202, accepted.text
    assert run is not None and run.status == "completed", run
    assert waits and waits[0]["message"].startswith("waiting for the rate budget (it resets at 2023-11-14T23:00:00")
    assert waits[0]["resets_at"] == "2023-11-14T23:00:00+00:00"
    assert clock.slept >= 2800
