"""POST /deployments/{id}/rollback: a dry run (the plan, no write), the rollback in the background, a second
one refused (409, already rolled back), conflicts left alone unless `force`, and the audit names the key."""

from __future__ import annotations

from typing import Any

import httpx

from mist_twin.state import TwinState
from tests.e2e.rollback_support import org_by_key
from tests.integration.test_api_fleet import _deploy, small_fleet
from tests.integration.test_api_support import Harness, service
from tests.support.twin import FakeClock

COLLECTIONS = ("sitegroups", "services", "networks", "deviceprofiles", "gatewaytemplates", "networktemplates",
               "templates", "rftemplates", "wlans", "wxtags", "wxrules", "psks", "sites", "inventory")


def snapshot(twin: TwinState) -> dict[str, Any]:
    return org_by_key({c: twin.objects(c) for c in COLLECTIONS})


def changed(fleet: dict[str, Any]) -> dict[str, Any]:
    """A new site and WLAN, the RF template changed, a label and the policy using it gone."""
    org = dict(fleet["org"])
    org["wlans"] = [*org["wlans"], {"ssid": "Store-Staff", "template": "store-wifi", "auth": {"type": "open"}}]
    org["rf_templates"] = [{**org["rf_templates"][0], "band_5": {"bandwidth": 40, "power_min": 10, "power_max": 15}}]
    org["labels"] = [lb for lb in org["labels"] if lb["name"] != "store-internal"]
    org["wlan_policies"] = [p for p in org["wlan_policies"] if p["order"] != 2]
    return {**fleet, "org": org, "sites": [*fleet["sites"], {"name": "Store-9", "zone": 1, "number": 9}]}


async def _applied(svc: Harness) -> tuple[str, dict[str, Any]]:
    fleet = small_fleet(svc)
    assert (await _deploy(svc, {"fleet": fleet}))["run"]["status"] == "completed"
    before = snapshot(svc.twin)
    view = await _deploy(svc, {"fleet": changed(fleet), "allow_delete": True})
    assert view["run"]["status"] == "completed", view["run"]
    assert snapshot(svc.twin) != before
    return str(view["run"]["id"]), before


async def _rollback(svc: Harness, run_id: str, **body: Any) -> httpx.Response:
    return await svc.client.post(f"/deployments/{run_id}/rollback", json=body, headers=svc.key)


async def test_a_dry_run_then_a_rollback_gives_the_org_back_and_a_second_is_409() -> None:
    async with service() as svc:
        run_id, before = await _applied(svc)
        writes = svc.writes()
        plan = await _rollback(svc, run_id, dry_run=True)
        assert plan.status_code == 200, plan.text
        undo = {(u["action"], u["kind"], u["key"]) for u in plan.json()["undo"]}
        assert undo == {("recreate", "labels", "store-internal"), ("recreate", "wlan_policies", "store-wifi/2"),
                        ("restore", "rf_templates", "store-rf"), ("delete", "wlans", "store-wifi/Store-Staff"),
                        ("delete", "sites", "Store-9")}
        assert svc.writes() == writes  # a dry run writes nothing

        accepted = await _rollback(svc, run_id)
        assert accepted.status_code == 202, accepted.text
        rollback_id = accepted.json()["id"]
        await svc.ctx.deployments.wait(rollback_id)
        run = (await svc.client.get(f"/deployments/{rollback_id}", headers=svc.key)).json()["run"]
        assert run["status"] == "completed" and run["kind"] == "rollback", run
        assert snapshot(svc.twin) == before

        again = await _rollback(svc, run_id)
        assert again.status_code == 409 and f"already rolled back by run {rollback_id}" in again.text
        audit = await svc.store.list_audit(run_id=rollback_id)
        asked = [e for e in audit if e.kind == "rollback"]
        assert asked and asked[0].name == run_id and asked[0].actor.startswith("key:")
        assert all(e.actor == asked[0].actor for e in audit)

        missing = await _rollback(svc, "f" * 32)
        assert missing.status_code == 404


async def test_an_object_changed_since_the_run_is_a_conflict_left_alone_unless_forced() -> None:
    clock = FakeClock()
    async with service(clock=clock) as svc:
        run_id, _before = await _applied(svc)
        clock.advance(5)
        staff = next(w for w in svc.twin.objects("wlans") if w["ssid"] == "Store-Staff")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.twin_app), base_url="http://twin",
                                     headers={"Authorization": f"Token {svc.twin.token}"}) as mist:
            put = await mist.put(f"/api/v1/orgs/{svc.org_id}/wlans/{staff['id']}", json={"hide_ssid": True})
            assert put.status_code == 200, put.text
        plan = (await _rollback(svc, run_id, dry_run=True)).json()
        assert plan["conflicts"] == {"wlans store-wifi/Store-Staff": "changed since the run"}
        assert "wlans" not in {u["kind"] for u in plan["undo"]}

        accepted = await _rollback(svc, run_id)
        await svc.ctx.deployments.wait(accepted.json()["id"])
        assert "Store-Staff" in {w["ssid"] for w in svc.twin.objects("wlans")}  # left alone
        assert "Store-9" not in {s["name"] for s in svc.twin.objects("sites")}  # the rest was undone
        run = (await svc.client.get(f"/deployments/{accepted.json()['id']}", headers=svc.key)).json()["run"]
        assert run["status"] == "partial" and "changed since the run" in run["error"]

        only_conflicts = await _rollback(svc, run_id)
        assert only_conflicts.status_code == 409 and "force" in only_conflicts.text
        forced = await _rollback(svc, run_id, force=True)
        assert forced.status_code == 202, forced.text
        await svc.ctx.deployments.wait(forced.json()["id"])
        assert "Store-Staff" not in {w["ssid"] for w in svc.twin.objects("wlans")}


async def test_a_rollback_under_server_errors_and_lost_answers_ends_exact_without_duplicates() -> None:
    async with service() as svc:
        run_id, before = await _applied(svc)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.twin_app), base_url="http://twin",
                                     headers={"Authorization": f"Token {svc.twin.token}"}) as twin:
            knobs = (await twin.get("/__twin/faults")).json()
            faulty = await twin.put("/__twin/faults", json={**knobs, "fault_rate": 0.2, "drop_rate": 0.5, "seed": 5})
            assert faulty.status_code == 200, faulty.text
            statuses = []
            for _ in range(8):
                answer = await _rollback(svc, run_id)
                if answer.status_code == 202:
                    await svc.ctx.deployments.wait(answer.json()["id"])
                    view = await svc.client.get(f"/deployments/{answer.json()['id']}", headers=svc.key)
                    statuses.append(view.json()["run"]["status"])
                elif answer.status_code == 409 and "already" in answer.text:
                    break
            await twin.put("/__twin/faults", json=knobs)
            counters = (await twin.get("/__twin/counters")).json()
        assert counters["dropped"] > 0 and statuses, (counters, statuses)  # answers were lost, then looked up
        assert snapshot(svc.twin) == before  # a duplicate would show in the lists
        last = await _rollback(svc, run_id)
        assert last.status_code == 409 and "nothing to do" in last.text
