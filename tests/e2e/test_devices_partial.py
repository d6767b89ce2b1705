"""Devices Mist takes only in part, end to end over HTTP: one MAC refused at assign, an order not shipped yet.

The twin is served over HTTP (`python -m mist_twin`); mistctl's engine and its service reach it with a real
HTTP client, as they reach Mist.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from mist_twin.config import TwinConfig
from mistctl.api.app import create_app
from mistctl.bootstrap import Services, open_services
from mistctl.config import Settings
from mistctl.domain.fleet import DeviceRef
from mistctl.fleetio import load_fleet
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import EXAMPLE
from tests.support.twin import running_twin

KEY = "svc-key-devices-0123456789abcdef0123"
APS = [{"claim_code": f"PARTAP000000{n:03d}", "mac": f"5c5b35c000{n:02x}", "serial": f"A1799000{n:03d}",
        "model": "AP45", "type": "ap"} for n in range(3)]
#: An order: one device shipped, two not yet (Mist answers those in `inventory_pending`).
ORDER = [{"claim_code": f"ORDERD000000{n:03d}", "mac": f"5c5b35c100{n:02x}", "serial": f"A1798000{n:03d}",
          "model": "AP45", "type": "ap", "activation_code": "ACPARTIAL01", "shipped": n == 0} for n in range(3)]


@pytest.fixture()
def twin(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    (tmp_path / "devices.json").write_text(json.dumps([*APS, *ORDER]))
    with running_twin(TwinConfig(devices_file=tmp_path / "devices.json", device_count=0)) as found:
        yield found


def _settings(url: str, org_id: str, token: str) -> Settings:
    return Settings.model_validate({"mist_host": url, "mist_apitoken": SecretStr(token), "mist_org_id": org_id,
                                    "mistctl_state": "memory://", "mistctl_api_keys": SecretStr(KEY),
                                    "mistctl_design": None})


async def _services(url: str, org_id: str, token: str) -> AsyncIterator[Services]:
    async with open_services(settings=_settings(url, org_id, token), store=MemoryStore()) as svc:
        yield svc


def _admin(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=10)


async def test_one_refused_mac_fails_its_site_by_name_and_the_others_are_assigned(
        twin: tuple[str, str, str]) -> None:
    url, org_id, token = twin
    fleet = load_fleet(EXAMPLE)
    site = fleet.sites[0].model_copy(update={"devices": [DeviceRef(claim_code=d["claim_code"]) for d in APS]})
    fleet = fleet.model_copy(update={"sites": [site], "org_id": None})
    async with _admin(url, token) as mist:
        claimed = await mist.post(f"/api/v1/orgs/{org_id}/inventory", json=[d["claim_code"] for d in APS])
        assert claimed.status_code == 200
        async for svc in _services(url, org_id, token):
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, org_id)
            devices = next(c for c in planned.plan.changes if c.kind == "devices")
            assert devices.body["macs"] == [d["mac"] for d in APS]
            # between plan and apply, someone deletes one device from the org: Mist refuses that MAC (400)
            gone = await mist.put(f"/api/v1/orgs/{org_id}/inventory", json={"op": "delete", "macs": [APS[1]["mac"]]})
            assert gone.status_code == 200
            run = await svc.new_run("apply", planned.plan)
            result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run)
        inventory = (await mist.get(f"/api/v1/orgs/{org_id}/inventory")).json()
        counters = (await mist.get("/__twin/counters")).json()
    assert list(result.sites_failed) == [site.name]
    step, error = result.sites_failed[site.name]
    assert step == 2 and APS[1]["mac"] in error and APS[0]["mac"] not in error
    site_ids = {d["mac"]: d.get("site_id") for d in inventory}
    assert site_ids[APS[0]["mac"]] and site_ids[APS[0]["mac"]] == site_ids[APS[2]["mac"]], "the others assigned"
    assert APS[1]["mac"] not in site_ids
    assert counters["by_status"].get("400", 0) >= 1


async def test_an_order_not_shipped_is_pending_then_assigned_once_shipped(twin: tuple[str, str, str]) -> None:
    url, org_id, token = twin
    app = create_app(_settings(url, org_id, token), store=MemoryStore())
    body = {"site_name": "Store-Z", "activation_code": "acpartial01"}
    headers = {"Authorization": f"Bearer {KEY}"}
    async with _admin(url, token) as mist, app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://svc") as service:
        site = (await mist.post(f"/api/v1/orgs/{org_id}/sites", json={"name": "Store-Z"})).json()
        first = (await service.post("/inventory/ztp", json=body, headers=headers)).json()
        run = (await service.get(f"/deployments/{first['run_id']}", headers=headers)).json()
        shipped = await mist.post("/__twin/devices/ship", json={"macs": [ORDER[1]["mac"], ORDER[2]["mac"]]})
        assert shipped.status_code == 200
        second = (await service.post("/inventory/ztp", json=body, headers=headers)).json()
        inventory = (await mist.get(f"/api/v1/orgs/{org_id}/inventory")).json()
    assert first["status"] == "pending" and first["errors"] == []
    assert first["assigned"] == [ORDER[0]["mac"]]
    assert sorted(first["pending"]) == sorted([ORDER[1]["mac"], ORDER[2]["mac"]])
    assert "not shipped yet" in first["message"]
    assert run["run"]["status"] == "partial", "neither done nor failed"
    assert second["status"] == "completed" and second["pending"] == []
    assert sorted(second["assigned"]) == sorted([ORDER[1]["mac"], ORDER[2]["mac"]])
    assert second["already_assigned"] == [ORDER[0]["mac"]]
    assert {d["mac"] for d in inventory if d.get("site_id") == site["id"]} == {d["mac"] for d in ORDER}

