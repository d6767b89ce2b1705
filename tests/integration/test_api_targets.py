"""`POST /plans` and `POST /deployments` with `sites` and `kinds`: only the target, 422 on an unknown one."""

from __future__ import annotations

import yaml

from tests.integration.test_api_fleet import _deploy, small_fleet
from tests.integration.test_api_support import service


async def test_a_targeted_plan_and_deployment_cover_only_the_target() -> None:
    async with service() as svc:
        fleet = small_fleet(svc, sites=3)
        answer = await svc.client.post("/plans", json={"fleet": fleet, "kinds": ["wlan"]}, headers=svc.key)
        assert answer.status_code == 200, answer.text
        plan = answer.json()
        assert plan["target"]["kinds"] == ["wlans"] and plan["target"]["site_names"] == []
        assert {c["kind"] for c in plan["changes"]} == {"wlans", "wlan_templates", "site_groups"}
        assert svc.writes() == {}
        view = await _deploy(svc, {"fleet": fleet, "sites": ["Store-[12]"], "kinds": ["site", "wlan"]})
        assert view["run"]["status"] == "completed", view
        assert sorted(s["name"] for s in svc.twin.objects("sites")) == ["Store-1", "Store-2"]
        assert len(svc.twin.objects("wlans")) == 3 and svc.twin.objects("psks") == []
        assert svc.twin.objects("wxtags") == []  # labels: no selected object uses them


async def test_an_unknown_site_or_kind_is_422_naming_it_and_nothing_is_written() -> None:
    async with service() as svc:
        fleet = small_fleet(svc)
        for body, named in (({"sites": ["Store-9*"]}, "Store-9*"), ({"kinds": ["wlna"]}, "did you mean wlans")):
            for route in ("/plans", "/deployments"):
                answer = await svc.client.post(route, json={"fleet": fleet, **body}, headers=svc.key)
                assert answer.status_code == 422 and named in answer.text, answer.text
        both = {"fleet": fleet, "kinds": ["wlan"], "allow_delete": True}
        answer = await svc.client.post("/deployments", json=both, headers=svc.key)
        assert answer.status_code == 422 and "never deletes" in answer.text
        assert svc.writes() == {} and await svc.store.list_runs() == []


async def test_a_target_rides_on_a_yaml_body_or_a_form() -> None:
    async with service() as svc:
        text = yaml.safe_dump(small_fleet(svc, sites=3))
        answer = await svc.client.post("/plans?kinds=wlan&kinds=psk", content=text,
                                       headers={**svc.key, "content-type": "application/yaml"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["target"]["kinds"] == ["wlans", "psks"]
        form = await svc.client.post("/plans", files={"fleet": ("fleet.yaml", text)},
                                     data={"sites": ["Store-1", "Store-3"], "kinds": "site"}, headers=svc.key)
        assert form.status_code == 200, form.text
        assert form.json()["target"]["site_names"] == ["Store-1", "Store-3"]
        assert {c["kind"] for c in form.json()["changes"]} >= {"sites", "site_vars"}
        assert "devices" not in {c["kind"] for c in form.json()["changes"]}
        assert svc.writes() == {}
