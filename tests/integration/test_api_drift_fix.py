"""POST /drift/fix takes the same consent as `mistctl drift --fix`: removals only with allow_delete."""

from __future__ import annotations

from typing import Any

from tests.integration.test_api_fleet import _deploy, small_fleet
from tests.integration.test_api_support import Harness, service
from tests.support.twin import twin_client

ADDED = "added by hand (not in the fleet)"


async def _add_by_hand(svc: Harness) -> dict[str, str]:
    """A WLAN in the managed template, and one in a template of one's own (outside: never touched)."""
    wifi = next(t["id"] for t in svc.twin.objects("templates") if t["name"] == "store-wifi")
    base = f"/api/v1/orgs/{svc.org_id}"
    async with twin_client(svc.twin_app) as twin:
        own = (await twin.post(f"{base}/templates", json={"name": "own-template"})).json()["id"]
        hand = (await twin.post(f"{base}/wlans", json={"ssid": "Hand-WLAN", "template_id": wifi})).json()["id"]
        mine = (await twin.post(f"{base}/wlans", json={"ssid": "Own-WLAN", "template_id": own})).json()["id"]
    return {"hand": hand, "own": mine}


def _wlan_ids(svc: Harness) -> set[str]:
    return {str(w["id"]) for w in svc.twin.objects("wlans")}


async def test_drift_fix_removes_what_was_added_by_hand_only_with_allow_delete() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        assert (await _deploy(svc, {"fleet": fleet}))["run"]["status"] == "completed"
        ids = await _add_by_hand(svc)

        bad = await svc.client.post("/drift/fix", json={"fleet": fleet, "release_devices": True}, headers=svc.key)
        assert bad.status_code == 422 and "allow_delete" in bad.text

        kept = await svc.client.post("/drift/fix", json={"fleet": fleet}, headers=svc.key)
        assert kept.status_code == 200, kept.text
        body: dict[str, Any] = kept.json()
        hand = [d for d in body["differences"] if d["what"] == ADDED]
        assert [(d["kind"], d["key"], d["container"]) for d in hand] == [
            ("wlans", "store-wifi/Hand-WLAN", "WLAN template store-wifi")]
        assert body["fix"]["deleted"] == [] and "--allow-delete" in body["fix"]["kept"]["wlans store-wifi/Hand-WLAN"]
        assert {ids["hand"], ids["own"]} <= _wlan_ids(svc)

        done = await svc.client.post("/drift/fix", json={"fleet": fleet, "allow_delete": True}, headers=svc.key)
        assert done.status_code == 200, done.text
        fix = done.json()["fix"]
        assert fix["ok"] and fix["deleted"] == ["wlans store-wifi/Hand-WLAN"] and fix["writes"] == 1
        assert ids["hand"] not in _wlan_ids(svc) and ids["own"] in _wlan_ids(svc)
        audit = await svc.store.list_audit(run_id=fix["run_id"])
        assert [(a.method, a.kind, a.name) for a in audit] == [("DELETE", "wlans", "store-wifi/Hand-WLAN")]
        run = await svc.store.get_run(fix["run_id"])
        assert run is not None and run.kind == "drift-fix" and run.status == "completed"

        again = (await svc.client.post("/drift", json={"fleet": fleet}, headers=svc.key)).json()
        assert again["drift"] is False and again["differences"] == []
        design = (await svc.client.get("/drift", headers=svc.key)).json()  # the design has no sites: not
        assert design["drift"] is False and design["differences"] == []  # "not in the fleet", nor members
