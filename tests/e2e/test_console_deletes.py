"""The console's plan page shows the deletes a fleet implies, and a decommissioned site keeps its page."""

from __future__ import annotations

import re

import yaml

from tests.e2e.test_console_pages import console, deploy, fleet_of


async def test_the_plan_page_shows_deletes_and_a_decommissioned_site_stays_visible() -> None:
    async with console() as ui:
        fleet = fleet_of(ui.svc, 2)
        await deploy(ui.svc, fleet)
        smaller = {**fleet, "sites": fleet["sites"][:1]}
        await ui.login()
        csrf = await ui.csrf()
        page = await ui.post("/ui/plan", data={"csrf": csrf, "fleet": yaml.safe_dump(smaller)})
        assert page.status_code == 200
        found = re.search(r'c-delete"><span class="n">(\d+)', page.text)
        assert found is not None and found.group(1) == "1"
        assert "a-delete" in page.text and "Store-002" in page.text and "--allow-delete" in page.text
        assert [s["name"] for s in ui.svc.twin.objects("sites")] == ["Store-001", "Store-002"]  # plan: no write

        accepted = await ui.svc.client.post("/deployments", json={"fleet": smaller, "allow_delete": True},
                                            headers=ui.svc.key)
        await ui.svc.ctx.deployments.wait(accepted.json()["id"])
        assert [s["name"] for s in ui.svc.twin.objects("sites")] == ["Store-001"]
        site = await ui.get("/ui/sites/Store-002")
        assert site.status_code == 200 and "decommissioned" in site.text


async def test_the_plan_page_names_the_owner_and_another_owners_template_as_a_conflict() -> None:
    async with console() as ui:
        east = {"name": "east", **fleet_of(ui.svc, 1)}
        await deploy(ui.svc, east)
        west = {**east, "name": "west", "sites": []}
        template = next(t for t in west["org"]["switch_templates"] if t["name"] == "store-access")
        template["port_usages"]["desk"]["description"] = "west desks"
        await ui.login()
        page = await ui.post("/ui/plan", data={"csrf": await ui.csrf(), "fleet": yaml.safe_dump(west)})
        assert page.status_code == 200
        assert "written as owner <code>fleet:west</code>" in page.text
        assert "switch template store-access is owned by fleet &#39;east&#39;; pass --take-ownership" in page.text
        desk = {t["name"]: t for t in ui.svc.twin.objects("networktemplates")}["store-access"]
        assert desk["port_usages"]["desk"]["description"] == "{{store_code}} desks"  # a plan writes nothing
