"""The service's default design and `examples/fleet.yaml` own the same org objects, so neither undoes the other.

A site deployed by the service, then the example fleet planned: every org object is unchanged. The example
fleet applied, then another site deployed by the service: no org object is written (only the site's own).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mistctl.domain.kinds import ORG_KINDS
from tests.integration.test_api_support import Harness, service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEPLOY = "/orchestrator/deploy-full-stack"
SITE_WRITES = ("/sites", "/inventory", "/setting", "/claim")  # a site's own objects, not the org's


def _example_files() -> list[tuple[str, tuple[str, bytes]]]:
    return [("fleet", ("fleet.yaml", (EXAMPLES / "fleet.yaml").read_bytes())),
            ("files", ("sites.csv", (EXAMPLES / "sites.csv").read_bytes()))]


async def _deploy_site(svc: Harness, name: str, number: int) -> None:
    answer = await svc.client.post(DEPLOY, json={"site_name": name, "zone_id": 1, "site_id": number},
                                   headers=svc.key)
    assert answer.status_code == 200 and answer.json()["status"] == "completed", answer.text


def _org_writes(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    grown = {route: n - before.get(route, 0) for route, n in after.items() if n > before.get(route, 0)}
    return {route: n for route, n in grown.items() if not any(part in route for part in SITE_WRITES)}


async def test_a_service_site_leaves_the_example_fleets_org_objects_unchanged() -> None:
    async with service() as svc:
        await _deploy_site(svc, "Branch-NYC-001", 20)
        plan = await svc.client.post("/plans", files=_example_files(), headers=svc.key)
        assert plan.status_code == 200, plan.text
        by_kind: dict[str, dict[str, int]] = plan.json()["by_kind"]
    for kind in ORG_KINDS:
        counts = by_kind[kind.key]
        assert counts["create"] == counts["update"] == counts["delete"] == 0, (kind.key, counts)
        assert counts["unchanged"] > 0, kind.key  # the service wrote it, the fleet finds it as it wants it


async def test_the_example_fleet_applied_then_a_service_site_writes_no_org_object() -> None:
    async with service() as svc:
        accepted = await svc.client.post("/deployments", files=_example_files(), headers=svc.key)
        assert accepted.status_code == 202, accepted.text
        await svc.ctx.deployments.wait(accepted.json()["id"])
        view: dict[str, Any] = (await svc.client.get(f"/deployments/{accepted.json()['id']}",
                                                     headers=svc.key)).json()
        assert view["run"]["status"] == "completed", view["run"]
        before = svc.writes()
        await _deploy_site(svc, "Branch-NYC-001", 20)
        after = svc.writes()
        templates = [t for t in svc.twin.objects("networktemplates") if t["name"] == "store-access"]
    assert _org_writes(before, after) == {}, after
    assert sum(after.values()) > sum(before.values())  # the service did write: its site
    assert templates[0]["port_usages"]["desk"]["description"] == "{{store_code}} desks"
