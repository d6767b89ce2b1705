"""The Day 2 routes of the service against the twin: health, rollouts (202 + run), PSK rotation, drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mistctl.designs import default_design_text
from mistctl.store.sqlite import SqliteStore
from tests.integration.test_api_support import Harness, service

GOOD = "0.14.29850"


def fleet_with_aps(svc: Harness) -> dict[str, Any]:
    """The default design with two stores; the first holds the twin inventory's APs, the second a switch."""
    fleet = yaml.safe_load(default_design_text())
    inventory = svc.twin.inventory()
    aps = [d["serial"] for d in inventory if d["type"] == "ap"]
    switch = next(d["serial"] for d in inventory if d["type"] == "switch")
    fleet["sites"] = [{"name": "Store-1", "zone": 1, "number": 1, "devices": [{"serial": s} for s in aps]},
                      {"name": "Store-2", "zone": 1, "number": 2, "devices": [{"serial": switch}]}]
    return dict(fleet)


async def deploy(svc: Harness, fleet: dict[str, Any]) -> None:
    accepted = await svc.client.post("/deployments", json={"fleet": fleet}, headers=svc.key)
    assert accepted.status_code == 202, accepted.text
    await svc.ctx.deployments.wait(accepted.json()["id"])
    run = await svc.store.get_run(accepted.json()["id"])
    assert run is not None and run.status == "completed", run


def site_id(svc: Harness, name: str) -> str:
    return next(s["id"] for s in svc.twin.objects("sites") if s["name"] == name)


async def test_health_names_a_degraded_site_and_details_one() -> None:
    async with service() as svc:
        await deploy(svc, fleet_with_aps(svc))
        async with svc_twin(svc) as twin:
            await twin.put(f"/__twin/sle/{site_id(svc, 'Store-1')}", json={"coverage": 0.4})
        answer = await svc.client.get("/assurance/health", headers=svc.key)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["ok"] is False and body["failed"] == ["Store-1"] and body["calls"] == 4
        one = (await svc.client.get("/assurance/health", params={"site": "Store-2"}, headers=svc.key)).json()
        assert one["ok"] and [s["name"] for s in one["sites"]] == ["Store-2"] and one["sites"][0]["detail"]
        state = await svc.store.get_site_state(svc.org_id, "Store-1")
        assert state is not None and state.status == "sle_failed"
        bad = await svc.client.get("/assurance/health", params={"metrics": "vibes"}, headers=svc.key)
        assert bad.status_code == 422 and "vibes" in bad.json()["detail"]


async def test_upgrade_dry_run_then_a_background_rollout_with_its_report() -> None:
    async with service(upgrade_seconds=0) as svc:
        fleet = fleet_with_aps(svc)
        await deploy(svc, fleet)
        async with svc_twin(svc) as twin:  # the soak lasts one SLE interval at least: make it a second
            assert (await twin.put("/__twin/sle-interval", json={"seconds": 1})).status_code == 200
        body = {"fleet": fleet, "version": GOOD, "device_type": "ap", "soak": "0s", "waves": "1,100%"}
        before = {d["mac"]: d.get("version") for d in svc.twin.inventory() if d["type"] == "ap"}
        dry = await svc.client.post("/lifecycle/upgrade", json={**body, "dry_run": True}, headers=svc.key)
        assert dry.status_code == 200 and dry.json()["status"] == "dry-run"
        assert [w["devices"] for w in dry.json()["waves"]] == [1, 2]
        accepted = await svc.client.post("/lifecycle/upgrade", json=body, headers=svc.key)
        assert accepted.status_code == 202, accepted.text
        run_id = accepted.json()["id"]
        await svc.ctx.deployments.wait(run_id)
        report = (await svc.client.get(f"/lifecycle/upgrade/{run_id}", headers=svc.key)).json()
        assert report["status"] == "completed", report
        assert report["report"]["soak_seconds"] == 1
        assert {d["now"] for d in report["report"]["devices"]} == {GOOD}
        assert {d.get("version") for d in svc.twin.inventory() if d["type"] == "ap"} == {GOOD}
        bad = await svc.client.post("/lifecycle/upgrade", json={**body, "waves": "1,lots"}, headers=svc.key)
        assert bad.status_code == 422 and "lots" in bad.json()["detail"]
        unnamed = await svc.client.post("/lifecycle/upgrade", json={**body, "version": None}, headers=svc.key)
        assert unnamed.status_code == 422 and "exact firmware version" in unnamed.json()["detail"]
        both = await svc.client.post("/lifecycle/upgrade", json={**body, "rollback_of": run_id}, headers=svc.key)
        assert both.status_code == 422 and "leave out --version" in both.json()["detail"]
        back = await svc.client.post("/lifecycle/upgrade", json={**body, "version": None, "rollback_of": run_id},
                                     headers=svc.key)
        assert back.status_code == 202, back.text
        await svc.ctx.deployments.wait(back.json()["id"])
        undone = (await svc.client.get(f"/lifecycle/upgrade/{back.json()['id']}", headers=svc.key)).json()
        assert undone["status"] == "completed" and undone["report"]["rollback_of"] == run_id, undone
        assert {d["mac"]: d.get("version") for d in svc.twin.inventory() if d["type"] == "ap"} == before
        missing = await svc.client.get("/lifecycle/upgrade/nope", headers=svc.key)
        assert missing.status_code == 404


async def test_psk_rotation_answers_the_passphrase_once_and_stores_none(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "state.db") as store, service(store=store) as svc:
        await deploy(svc, fleet_with_aps(svc))
        answer = await svc.client.post("/psk/rotate", json={"names": ["shelf-labels"], "grace": "1h"},
                                       headers=svc.key)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        new = answer.json()["rotated"][0]["passphrase"]
        psk = next(p for p in svc.twin.objects("psks") if p["name"] == "shelf-labels")
        assert psk["passphrase"] == new and psk["old_passphrase"] == "labels-example-pass-02"
        early = (await svc.client.post("/psk/finish", json={"all": True}, headers=svc.key)).json()
        assert "shelf-labels" in early["refused"] and early["finished"] == []
        forced = (await svc.client.post("/psk/finish", json={"all": True, "force": True}, headers=svc.key)).json()
        assert forced["finished"] == ["shelf-labels"]
        runs = (await svc.client.get("/deployments", headers=svc.key)).text
        assert new not in runs
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert new.encode() not in raw


async def test_drift_against_the_design_and_against_a_fleet() -> None:
    async with service() as svc:
        fleet = fleet_with_aps(svc)
        await deploy(svc, fleet)
        clean = (await svc.client.get("/drift", headers=svc.key)).json()
        assert clean["drift"] is False and clean["differences"] == [], clean
        wlan = next(w for w in svc.twin.objects("wlans") if w["ssid"] == "Store-IoT")
        async with svc_twin(svc) as twin:
            path = f"/api/v1/orgs/{svc.org_id}/wlans/{wlan['id']}"
            assert (await twin.put(path, json={"hide_ssid": False})).status_code == 200
        drifted = (await svc.client.get("/drift", headers=svc.key)).json()
        assert [(d["kind"], d["field"]) for d in drifted["differences"]] == [("wlans", "hide_ssid")]
        full = (await svc.client.post("/drift", json={"fleet": fleet}, headers=svc.key)).json()
        assert full["drift"] and full["settings_read"] == 2 and full["compared_with"] == "fleet"


def svc_twin(svc: Harness) -> Any:
    """A client on the twin itself (its control routes, and writes behind the service's back)."""
    from tests.support.twin import twin_client

    return twin_client(svc.twin_app)
