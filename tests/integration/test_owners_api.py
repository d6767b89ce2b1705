"""The service's per-step routes answer another owner's object as a failure naming it, and take it over with
`take_ownership` (in-process: the twin and the service over ASGI)."""

from __future__ import annotations

from typing import Any

import yaml

from mistctl.designs import default_design_text
from tests.integration.test_api_support import service

DESK = "east desks"


def _east() -> dict[str, Any]:
    fleet: dict[str, Any] = {"name": "east", **yaml.safe_load(default_design_text()), "sites": []}
    template = next(t for t in fleet["org"]["switch_templates"] if t["name"] == "store-access")
    template["port_usages"]["desk"]["description"] = DESK
    return fleet


def _desk(svc: Any) -> str:
    found = {t["name"]: t for t in svc.twin.objects("networktemplates")}["store-access"]
    return str(found["port_usages"]["desk"]["description"])


async def test_a_step_route_refuses_another_owners_template_until_take_ownership() -> None:
    async with service() as svc:
        accepted = await svc.client.post("/deployments", json={"fleet": _east()}, headers=svc.key)
        assert accepted.status_code == 202, accepted.text
        await svc.ctx.deployments.wait(accepted.json()["id"])
        assert _desk(svc) == DESK
        before = svc.writes()
        refused = await svc.client.post("/wired/templates", headers=svc.key)
        assert refused.status_code == 200 and refused.json()["status"] == "failed", refused.text
        assert "switch template store-access is owned by fleet 'east'" in refused.json()["message"]
        assert svc.writes() == before and _desk(svc) == DESK  # nothing written
        taken = await svc.client.post("/wired/templates", json={"take_ownership": True}, headers=svc.key)
        assert taken.status_code == 200 and taken.json()["status"] == "completed", taken.text
        assert [o["action"] for o in taken.json()["objects"] if o["name"] == "store-access"] == ["updated"]
        refs = await svc.ctx.store.get_objects(svc.twin.org_id, "switch_templates")
    assert _desk(svc) == "{{store_code}} desks" and refs["store-access"].owner == "design:default"
