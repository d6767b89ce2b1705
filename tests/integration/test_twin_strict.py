"""The twin refuses what Mist refuses: unknown fields at any depth, ambiguous site-group names.

It also invents nothing Mist does not: no `country_code`/`timezone` on a site that did not send them,
no `site_id: null` on an unassigned inventory item. And the plan reports two live objects sharing a
managed name as a conflict, so mistctl never sends the site Mist would refuse.
"""

from __future__ import annotations

from typing import Any

import pytest

from mist_twin.quirks import Quirks
from mistctl.workflow import deploy
from tests.support.engine import engine, example_fleet_for
from tests.support.twin import twin_app, twin_client


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("sites", {"name": "Lyon", "colour": "red"}, "invalid field: colour"),
        ("sites", {"name": "Lyon", "latlng": {"lat": 45.7, "lng": 4.8, "alt": 170}}, "invalid field: latlng.alt"),
        (
            "wlans",
            {"ssid": "corp", "auth": {"type": "psk", "psk": "averylongsecret", "pks": "x"}},
            "invalid field: auth.pks",
        ),
        (
            "networktemplates",
            {"name": "sw", "networks": {"corp": {"vlan_id": 10, "vlanid": 10}}},
            "invalid field: networks.corp.vlanid",
        ),
        ("deviceprofiles", {"name": "hub", "type": "gateway", "hub": True}, "invalid field: hub"),
        (
            "psks",
            {"name": "a", "passphrase": "correct-horse-1", "ssid": "corp", "secret": "x"},
            "invalid field: secret",
        ),
    ],
)
async def test_an_unknown_field_is_refused_with_its_path_and_nothing_is_written(
    path: str, body: dict[str, Any], detail: str
) -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app) as client:
        answer = await client.post(f"/api/v1/orgs/{twin.org_id}/{path}", json=body)
    assert answer.status_code == 400
    assert answer.json() == {"detail": detail}
    assert twin.objects(path) == []
    assert "correct-horse-1" not in answer.text and "averylongsecret" not in answer.text


async def test_an_unknown_field_in_a_put_is_refused_and_the_object_is_unchanged() -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Lyon"})).json()
        top = await client.put(f"/api/v1/sites/{site['id']}", json={"notes": "x", "note": "y"})
        setting = await client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": {"a": "1"}, "var": {}})
        nested = await client.put(
            f"/api/v1/sites/{site['id']}/setting", json={"auto_upgrade": {"enabled": True, "dayofweek": "mon"}}
        )
        maps = await client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": {"any_name": "1"}})
    assert (top.status_code, top.json()) == (400, {"detail": "invalid field: note"})
    assert (setting.status_code, setting.json()) == (400, {"detail": "invalid field: var"})
    assert (nested.status_code, nested.json()) == (400, {"detail": "invalid field: auto_upgrade.dayofweek"})
    assert maps.status_code == 200, "vars is a map: any variable name is allowed"
    stored = twin.objects("sites")[0]
    assert "notes" in stored and stored["notes"] == "" and "note" not in stored
    assert twin.objects("site_settings")[0]["vars"] == {"any_name": "1"}


async def test_a_site_gets_no_invented_country_code_or_timezone() -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app) as client:
        bare = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Lyon"})).json()
        sent = {"name": "Paris", "country_code": "FR", "timezone": "Europe/Paris"}
        full = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json=sent)).json()
        fetched = (await client.get(f"/api/v1/sites/{bare['id']}")).json()
    assert "country_code" not in bare and "timezone" not in bare
    assert "country_code" not in fetched and "timezone" not in fetched
    assert (full["country_code"], full["timezone"]) == ("FR", "Europe/Paris")


async def test_an_unassigned_inventory_item_has_no_site_id() -> None:
    app = twin_app(inventory_count=2)
    twin = app.state.twin
    org = twin.org_id
    macs = [d["mac"] for d in twin.inventory()]
    async with twin_client(app) as client:
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "Lyon"})).json()
        fresh = (await client.get(f"/api/v1/orgs/{org}/inventory")).json()
        await client.put(f"/api/v1/orgs/{org}/inventory", json={"op": "assign", "site_id": site["id"], "macs": macs})
        await client.put(f"/api/v1/orgs/{org}/inventory", json={"op": "unassign", "macs": macs[:1]})
        after = {d["mac"]: d for d in (await client.get(f"/api/v1/orgs/{org}/inventory")).json()}
        await client.delete(f"/api/v1/sites/{site['id']}")
        orphaned = (await client.get(f"/api/v1/orgs/{org}/inventory")).json()
    assert fresh and all("site_id" not in d for d in fresh)
    assert "site_id" not in after[macs[0]] and after[macs[1]]["site_id"] == site["id"]
    assert all("site_id" not in d for d in orphaned)


async def test_two_site_groups_may_share_a_name_but_a_site_bound_to_either_is_refused() -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}"
    async with twin_client(app) as client:
        first = (await client.post(f"{base}/sitegroups", json={"name": "EMEA"})).json()
        second = await client.post(f"{base}/sitegroups", json={"name": "EMEA"})
        other = (await client.post(f"{base}/sitegroups", json={"name": "APAC"})).json()
        refused = await client.post(f"{base}/sites", json={"name": "Lyon", "sitegroup_ids": [first["id"]]})
        unbound = (await client.post(f"{base}/sites", json={"name": "Lyon", "sitegroup_ids": [other["id"]]})).json()
        rebind = await client.put(f"/api/v1/sites/{unbound['id']}", json={"sitegroup_ids": [second.json()["id"]]})
    assert second.status_code == 200, "Mist accepts a second site group with the same name"
    assert (refused.status_code, refused.json()) == (400, {"detail": "SiteGroup name 'EMEA' is already used"})
    assert (rebind.status_code, rebind.json()) == (400, {"detail": "SiteGroup name 'EMEA' is already used"})
    assert [s["name"] for s in twin.objects("sites")] == ["Lyon"]
    assert twin.objects("sites")[0]["sitegroup_ids"] == [other["id"]]


async def test_the_plan_reports_duplicate_live_names_as_a_conflict_before_any_site_is_sent() -> None:
    app = twin_app(seed=5)
    fleet = example_fleet_for(app.state.twin, sites=1)
    group = fleet.sites[0].site_groups[0] if fleet.sites[0].site_groups else None
    assert group is not None, "the example's first site is in a site group"
    async with engine(app) as svc:
        for _ in range(2):
            await svc.mist.create_org(svc.org_id, "sitegroups", {"name": group})
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
    conflicts = [p for p in planned.plan.fatal_problems if p.kind == "site_groups"]
    assert [p.key for p in conflicts] == [group]
    assert "holds 2" in conflicts[0].message and "or rename one" in conflicts[0].message
    with pytest.raises(deploy.PlanRefused, match=group):
        deploy.check_problems(planned.plan)
    assert app.state.twin.objects("sites") == []


async def test_quirks_are_set_and_read_on_a_running_twin_and_reset_with_it() -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app) as client:
        changed = await client.put("/__twin/quirks", json={"vars_merge": True})
        wrong = await client.put("/__twin/quirks", json={"vars_mrege": True})
        read = (await client.get("/__twin/quirks")).json()
        await client.post("/__twin/reset")
    assert changed.json()["vars_merge"] is True and read == {**Quirks().model_dump(), "vars_merge": True}
    assert wrong.status_code == 400 and "vars_mrege" in wrong.json()["detail"]
    assert twin.quirks == Quirks()
