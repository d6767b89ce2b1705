"""A single-site request for a place (zone and number, hence an address block) another site of the org holds
is a 409 naming the holder, before any call to Mist; the holder itself, or a free number, deploys (with the
devices named by serial assigned to the site)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mistctl.designs import default_design_text
from tests.integration.test_api_support import Harness, full_stack_body, service

SITES_CSV = (Path(__file__).resolve().parents[2] / "examples" / "sites.csv").read_text()
ROUTE = "/orchestrator/deploy-full-stack"


async def _deploy_csv_stores(svc: Harness) -> None:
    fleet = {**yaml.safe_load(default_design_text()), "sites": [{"csv": "sites.csv"}]}
    accepted = await svc.client.post("/deployments", json={"fleet": fleet, "files": {"sites.csv": SITES_CSV},
                                                           "org_id": svc.org_id}, headers=svc.key)
    assert accepted.status_code == 202, accepted.text
    await svc.ctx.deployments.wait(accepted.json()["id"])


def _site(svc: Harness, name: str) -> dict[str, Any] | None:
    return next((s for s in svc.twin.objects("sites") if s["name"] == name), None)


async def test_a_place_held_by_another_site_is_a_409_naming_it_and_nothing_is_sent() -> None:
    async with service() as svc:
        await _deploy_csv_stores(svc)  # Store-PIT-005 holds zone 1 number 5 (10.0.16.0/22)
        before = svc.writes()
        held = await svc.client.post(ROUTE, json=full_stack_body(svc), headers=svc.key)
        site_route = await svc.client.post("/sites", json={"site_name": "Branch-NYC-001", "zone_id": 1,
                                                           "site_id": 5, "org_id": svc.org_id}, headers=svc.key)
        after = svc.writes()
        assert held.status_code == 409, held.text
        body = held.json()
        assert body["holder"] == "Store-PIT-005" and body["site"] == "Branch-NYC-001"
        assert "10.0.16.0/22" in body["detail"] and "Store-PIT-005" in body["detail"]
        assert site_route.status_code == 409 and site_route.json()["holder"] == "Store-PIT-005"
        assert after == before and _site(svc, "Branch-NYC-001") is None
        assert await svc.store.get_site_state(svc.org_id, "Branch-NYC-001") is None


async def test_the_holder_itself_and_a_free_number_deploy_with_their_devices() -> None:
    async with service() as svc:
        await _deploy_csv_stores(svc)
        again = await svc.client.post(ROUTE, json=full_stack_body(svc, site_name="Store-PIT-005", device_serials=[]),
                                      headers=svc.key)
        serials = svc.serials(2)
        free = await svc.client.post(ROUTE, json=full_stack_body(svc, site_id=20, device_serials=serials),
                                     headers=svc.key)
        site = _site(svc, "Branch-NYC-001")
        placed = {d["serial"]: d.get("site_id") for d in svc.twin.objects("inventory") if d["serial"] in serials}
    assert again.status_code == 200 and again.json()["status"] == "completed", again.text
    assert free.status_code == 200 and free.json() == {
        "site_id": "1-20", "status": "completed", "current_step": 13, "total_steps": 13,
        "message": "13-Step Workflow Executed Successfully for Branch-NYC-001"}
    assert site is not None and placed == dict.fromkeys(serials, site["id"])


async def test_a_place_another_request_is_deploying_is_a_409_until_it_ends() -> None:
    async with service() as svc:
        taken = await svc.ctx.locks.take_sites(svc.org_id, ["zone 1 number 20"], "other-run")
        busy = await svc.client.post(ROUTE, json=full_stack_body(svc, site_id=20), headers=svc.key)
        await svc.ctx.locks.release(taken, "other-run")
        free = await svc.client.post(ROUTE, json=full_stack_body(svc, site_id=20), headers=svc.key)
    assert busy.status_code == 409 and busy.json()["site"] == "zone 1 number 20", busy.text
    assert busy.json()["run_id"] == "other-run"
    assert free.status_code == 200 and free.json()["status"] == "completed", free.text
