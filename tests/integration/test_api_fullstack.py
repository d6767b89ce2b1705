"""POST /orchestrator/deploy-full-stack against the twin in-process: the example as written, twice,
idempotence (the second call creates nothing in the twin), failure and resume, validation, site locks."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest

from mistctl.api.jobs import site_lock
from mistctl.mist.budget import token_fingerprint
from mistctl.mist.budget_redis import RedisCallBudget
from mistctl.store.errors import StoreUnavailable
from mistctl.store.factory import open_store
from mistctl.store.memory import MemoryStore
from tests.integration.test_api_support import full_stack_body, service

ROUTE = "/orchestrator/deploy-full-stack"
DONE = {"site_id": "1-5", "status": "completed", "current_step": 13, "total_steps": 13,
        "message": "13-Step Workflow Executed Successfully for Branch-NYC-001"}


async def test_the_example_works_twice_and_the_second_call_creates_nothing() -> None:
    async with service() as svc:
        body = full_stack_body(svc)
        first = await svc.client.post(ROUTE, json=body, headers=svc.key)
        assert first.status_code == 200, first.text
        assert first.json() == DONE
        sites = svc.twin.objects("sites")
        assert [s["name"] for s in sites] == ["Branch-NYC-001"]
        on_site = {d["serial"] for d in svc.twin.inventory() if d.get("site_id") == sites[0]["id"]}
        assert on_site == set(body["device_serials"])
        assert {w["ssid"] for w in svc.twin.objects("wlans")} == {"Store-Corp", "Store-Guest", "Store-IoT"}
        state_before, writes_before = svc.twin.dump(("sites", "wlans", "networks", "psks")), svc.writes()

        second = await svc.client.post(ROUTE, json=body, headers=svc.key)

        assert second.json() == DONE
        assert svc.writes() == writes_before  # reads only: nothing created, updated or assigned
        assert svc.twin.dump(("sites", "wlans", "networks", "psks")) == state_before


async def test_the_run_and_the_site_are_recorded_for_status() -> None:
    async with service() as svc:
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
        run_id = answer.headers["X-Mistctl-Run"]
        run = await svc.store.get_run(run_id)
        assert run is not None and run.status == "completed" and run.kind == "deploy-site"
        assert run.requested_by.startswith("key:") and len(run.requested_by) == 12
        state = await svc.store.get_site_state(svc.org_id, "Branch-NYC-001")
        assert state is not None and state.status == "done" and state.zone == "1" and state.number == 5
        view = (await svc.client.get(f"/deployments/{run_id}", headers=svc.key)).json()
        assert view["run"]["status"] == "completed"
        assert [s["name"] for s in view["sites"]] == ["Branch-NYC-001"]
        assert {s["name"] for s in view["steps"]} >= {"sites", "devices", "wlans", "psks"}
        site = (await svc.client.get("/sites/Branch-NYC-001", headers=svc.key)).json()
        assert site["status"] == "done" and site["last_run_id"] == run_id


async def test_a_device_not_in_the_inventory_fails_step_2_and_the_next_call_resumes() -> None:
    async with service() as svc:
        good = svc.serials(1)
        failed = await svc.client.post(ROUTE, json=full_stack_body(svc, device_serials=[*good, "NOPE12345"]),
                                       headers=svc.key)
        answer = failed.json()
        assert failed.status_code == 200
        assert answer["status"] == "failed" and answer["current_step"] == 2
        assert "NOPE12345" in answer["message"] and "inventory" in answer["message"]
        state = await svc.store.get_site_state(svc.org_id, "Branch-NYC-001")
        assert state is not None and state.status == "failed" and state.failed_step == 2
        assert len(svc.twin.objects("sites")) == 1  # the rest of the site was converged

        body = full_stack_body(svc, device_serials=good)
        resumed = await svc.client.post(ROUTE, json=body, headers=svc.key)

        assert resumed.json()["status"] == "completed"
        assert len(svc.twin.objects("sites")) == 1
        state = await svc.store.get_site_state(svc.org_id, "Branch-NYC-001")
        assert state is not None and state.status == "done"


async def test_a_conflict_in_the_live_org_fails_before_writing_and_resumes_once_fixed() -> None:
    async with service() as svc:
        twin = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.twin_app), base_url="http://twin",
                                 headers={"Authorization": f"Token {svc.twin.token}"})
        async with twin:
            path = f"/api/v1/orgs/{svc.org_id}/sitegroups"
            ids = [(await twin.post(path, json={"name": "retail-stores"})).json()["id"] for _ in range(2)]
            failed = (await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)).json()
            assert failed["status"] == "failed" and failed["current_step"] == 1
            assert "retail-stores" in failed["message"] and "conflict" in failed["message"]
            assert svc.twin.objects("sites") == []  # nothing was written
            await twin.delete(f"{path}/{ids[1]}")

        resumed = (await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)).json()

        assert resumed == DONE
        assert [g["id"] for g in svc.twin.objects("sitegroups") if g["name"] == "retail-stores"] == ids[:1]


async def test_a_zone_the_design_lacks_or_a_number_past_capacity_is_422_with_the_reasons() -> None:
    async with service() as svc:
        bad_zone = await svc.client.post(ROUTE, json=full_stack_body(svc, zone_id=9), headers=svc.key)
        too_far = await svc.client.post(ROUTE, json=full_stack_body(svc, site_id=5000), headers=svc.key)
        assert bad_zone.status_code == 422
        assert "zone 9 is not defined" in bad_zone.json()["detail"]
        assert any("zone 9" in p["message"] for p in bad_zone.json()["problems"])
        assert too_far.status_code == 422 and "5000" in too_far.json()["detail"]
        assert svc.twin.objects("sites") == [] and await svc.store.list_runs() == []


async def test_malformed_bodies_are_422_naming_the_field() -> None:
    async with service() as svc:
        missing = await svc.client.post(ROUTE, json={"zone_id": 1, "site_id": 5}, headers=svc.key)
        typo = await svc.client.post(ROUTE, json=full_stack_body(svc, device_serial=["x"]), headers=svc.key)
        as_json = {**svc.key, "content-type": "application/json"}
        not_json = await svc.client.post(ROUTE, content=b"{nope", headers=as_json)
        assert missing.status_code == 422 and "site_name" in missing.text
        assert typo.status_code == 422 and "device_serial" in typo.text
        assert not_json.status_code == 422 and not_json.json()["detail"]


async def test_a_site_held_by_another_run_answers_409_naming_the_run() -> None:
    async with service() as svc:
        await svc.store.acquire_lock(site_lock(svc.org_id, "Branch-NYC-001"), "run-elsewhere", 60)
        busy = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
        assert busy.status_code == 409
        assert busy.json()["site"] == "Branch-NYC-001" and "being deployed" in busy.json()["detail"]
        assert svc.twin.objects("sites") == []


async def test_two_requests_for_one_site_at_once_never_run_together() -> None:
    async with service(latency_ms=5) as svc:
        body = full_stack_body(svc)
        await svc.client.post("/org/self", json={}, headers=svc.key)  # warm the token cache first
        calls = (svc.client.post(ROUTE, json=body, headers=svc.key) for _ in range(2))
        one, two = await asyncio.gather(*calls)
        ok, busy = sorted((one, two), key=lambda r: r.status_code)
        assert (ok.status_code, busy.status_code) == (200, 409)
        assert busy.json()["run_id"] == ok.headers["X-Mistctl-Run"]
        assert ok.json() == DONE
        assert len(svc.twin.objects("sites")) == 1


async def test_a_store_failure_mid_workflow_is_503_and_the_run_does_not_stay_pending() -> None:
    class FlakyStore(MemoryStore):
        async def get_steps(self, *args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("sqlite:///state.db is locked")

    store = FlakyStore()
    async with service(store=store) as svc:
        answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
        assert answer.status_code == 503 and "state store" in answer.json()["detail"]
        [run] = await store.list_runs()
        assert run.status == "failed" and "StoreUnavailable" in (run.error or "")
        assert await store.acquire_lock(site_lock(svc.org_id, "Branch-NYC-001"), "next", 1)  # released


@pytest.mark.redis
async def test_on_a_redis_store_the_example_works_and_the_budget_is_shared(redis_url: str) -> None:
    async with open_store(f"{redis_url}?prefix=api-{uuid4().hex[:8]}:") as store:
        async with service(store=store) as svc:
            assert isinstance(svc.ctx.budget, RedisCallBudget)
            for _ in range(2):
                answer = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
                assert answer.json() == DONE
            runs = await store.list_runs()
            assert [r.status for r in runs] == ["completed", "completed"]
            [state] = await svc.ctx.client(svc.ctx.server_tokens).budget_states()  # its admin's budget
            first = await svc.ctx.budget.state(token_fingerprint(svc.twin.token))  # GET /self, owner unknown
            assert state.used + first.used == svc.twin.counters.snapshot()["total"]
