"""POST /deployments takes the same consent as `mistctl apply`: deletes only with allow_delete."""

from __future__ import annotations

from typing import Any

from tests.integration.test_api_fleet import _deploy, small_fleet
from tests.integration.test_api_support import service


def _without_store_2_and_a_wlan(fleet: dict[str, Any]) -> dict[str, Any]:
    smaller = {**fleet, "sites": [s for s in fleet["sites"] if s["name"] != "Store-2"]}
    smaller["org"] = {**fleet["org"], "wlans": [w for w in fleet["org"]["wlans"] if w["ssid"] == "Store-IoT"]}
    return smaller


async def test_deployments_delete_only_with_allow_delete_and_a_bad_consent_is_422() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        assert (await _deploy(svc, {"fleet": fleet}))["run"]["status"] == "completed"
        smaller = _without_store_2_and_a_wlan(fleet)
        plan = (await svc.client.post("/plans", json={"fleet": smaller}, headers=svc.key)).json()
        assert plan["summary"]["delete"] == 3
        assert {(c["kind"], c["action"]) for c in plan["changes"]} == {("sites", "delete"), ("wlans", "delete")}
        wlans = len(svc.twin.objects("wlans"))

        bad = await svc.client.post("/deployments", json={"fleet": smaller, "release_devices": True},
                                    headers=svc.key)
        assert bad.status_code == 422 and "allow_delete" in bad.text

        kept = await _deploy(svc, {"fleet": smaller})
        assert kept["run"]["status"] == "completed"
        assert "Store-2" in {s["name"] for s in svc.twin.objects("sites")} and len(svc.twin.objects("wlans")) == wlans

        done = await _deploy(svc, {"fleet": smaller, "allow_delete": True})
        assert done["run"]["status"] == "completed", done["run"]
        assert [s["name"] for s in svc.twin.objects("sites")] == ["Store-1"]
        assert len(svc.twin.objects("wlans")) == wlans - 2
        state = await svc.store.get_site_state(svc.org_id, "Store-2")
        assert state is not None and state.status == "decommissioned"
        again = (await svc.client.post("/plans", json={"fleet": smaller}, headers=svc.key)).json()
        assert again["changes"] == []
