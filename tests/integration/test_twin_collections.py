"""The twin's collections: CRUD for each, partial PUT, pagination, non-unique names, cross-object effects."""

from __future__ import annotations

from typing import Any

import pytest

from mist_twin.rules import RULES
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

#: A valid create body per org collection (sites are tested on their own paths below).
CREATE: dict[str, dict[str, Any]] = {
    "sitegroups": {"name": "branches"},
    "services": {"name": "crm", "type": "custom", "addresses": ["10.1.0.0/16"]},
    "networks": {"name": "corp", "subnet": "10.10.0.0/24"},
    "deviceprofiles": {"name": "hub-a", "type": "gateway"},
    "gatewaytemplates": {"name": "branch-gw"},
    "networktemplates": {"name": "branch-sw"},
    "templates": {"name": "branch-wlans"},
    "rftemplates": {"name": "branch-rf"},
    "wlans": {"ssid": "corp"},
    "wxtags": {"name": "guests", "type": "match", "match": "wlan_id", "op": "in", "values": ["x"]},
    "wxrules": {"order": 1, "src_wxtags": [], "dst_allow_wxtags": [], "dst_deny_wxtags": []},
    "psks": {"name": "alice", "passphrase": "correct-horse-1", "ssid": "corp"},
}
#: A field of each collection's schema that a PUT changes (Mist refuses a field its schema lacks).
EDIT: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(CREATE, ("name", "edited")),
    "wlans": ("ssid", "edited"),
    "wxrules": ("order", 7),
}


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


def test_every_org_collection_has_a_body_here() -> None:
    assert set(CREATE) == {rule.collection for rule in RULES} - {"sites"}


@pytest.mark.parametrize("collection", sorted(CREATE))
async def test_crud_round_trip(collection: str, answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock)
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/{collection}"
    async with twin_client(app, checker=answers) as client:
        created = await client.post(base, json={**CREATE[collection], "id": "client-chosen", "org_id": "x"})
        assert created.status_code == 200
        obj = created.json()
        assert obj["id"] != "client-chosen" and obj["org_id"] == twin.org_id
        assert obj["created_time"] == obj["modified_time"] == int(clock.now)
        assert [o["id"] for o in twin.objects(collection)] == [obj["id"]]

        clock.advance(60)
        edited, value = EDIT[collection]
        changed = await client.put(f"{base}/{obj['id']}", json={edited: value})
        assert changed.status_code == 200
        stored = twin.objects(collection)[0]
        assert stored[edited] == value and stored["modified_time"] == int(clock.now)
        fetched = (await client.get(f"{base}/{obj['id']}")).json()
        unchanged = {k: v for k, v in fetched.items() if k not in (edited, "modified_time")}
        assert unchanged == {k: v for k, v in obj.items() if k not in (edited, "modified_time")}, (
            "PUT changes only the fields sent"
        )

        deleted = await client.delete(f"{base}/{obj['id']}")
        assert deleted.status_code == 200 and deleted.content == b""
        assert twin.objects(collection) == []
        assert (await client.get(f"{base}/{obj['id']}")).status_code == 404


async def test_put_with_a_wrong_type_is_refused_and_changes_nothing(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Lyon"})).json()
        answer = await client.put(f"/api/v1/sites/{site['id']}", json={"name": 12, "notes": "x"})
        assert answer.status_code == 400 and "name" in answer.json()["detail"]
        assert twin.objects("sites")[0]["name"] == "Lyon" and twin.objects("sites")[0]["notes"] == ""


async def test_put_site_without_name_is_accepted(answers: ContractChecker) -> None:
    """The spec marks `name` required on PUT /sites/{id}; Mist updates only the fields sent."""
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Lyon"})).json()
        answer = await client.put(f"/api/v1/sites/{site['id']}", json={"address": "1 rue X"})
        assert answer.status_code == 200
    stored = twin.objects("sites")[0]
    assert stored == {**site, "address": "1 rue X", "modified_time": stored["modified_time"]}


async def test_missing_required_field_names_the_field(answers: ContractChecker) -> None:
    app = twin_app()
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        wlan = await client.post(f"/api/v1/orgs/{org}/wlans", json={"enabled": True})
        rule = await client.post(f"/api/v1/orgs/{org}/wxrules", json={"order": 1, "src_wxtags": []})
        nested = await client.post(
            f"/api/v1/orgs/{org}/templates", json={"name": "t", "applies": {"site_ids": "x"}}
        )
        psk = await client.post(
            f"/api/v1/orgs/{org}/psks", json={"name": "a", "passphrase": 12345678, "ssid": "s"}
        )
    assert wlan.json() == {"detail": "ssid: this field is required"}
    assert rule.status_code == 400 and "wxtags: this field is required" in rule.json()["detail"]
    assert nested.json() == {"detail": "applies.site_ids: must be of type array"}
    assert psk.json() == {"detail": "passphrase: must be of type string"} and "12345678" not in psk.text
    assert app.state.twin.objects("wlans") == [] and app.state.twin.objects("psks") == []


async def test_names_are_not_unique(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        for _ in range(2):
            assert (
                await client.post(f"/api/v1/orgs/{twin.org_id}/sitegroups", json={"name": "dup"})
            ).status_code == 200
    groups = twin.objects("sitegroups")
    assert [g["name"] for g in groups] == ["dup", "dup"] and groups[0]["id"] != groups[1]["id"]


async def test_pagination_headers_and_pages(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/sitegroups"
    async with twin_client(app, checker=answers) as client:
        for n in range(7):
            await client.post(base, json={"name": f"g{n}"})
        first = await client.get(base, params={"limit": 3})
        third = await client.get(base, params={"limit": 3, "page": 3})
        beyond = await client.get(base, params={"limit": 3, "page": 4})
        default = await client.get(base)
        capped = await client.get(base, params={"limit": 5000})
        bad = await client.get(base, params={"limit": "ten"})
    assert [g["name"] for g in first.json()] == ["g0", "g1", "g2"]
    assert (first.headers["X-Page-Limit"], first.headers["X-Page-Page"], first.headers["X-Page-Total"]) == (
        "3",
        "1",
        "7",
    )
    assert [g["name"] for g in third.json()] == ["g6"] and third.headers["X-Page-Page"] == "3"
    assert beyond.json() == [] and beyond.headers["X-Page-Total"] == "7"
    assert default.headers["X-Page-Limit"] == "100" and len(default.json()) == 7
    assert capped.headers["X-Page-Limit"] == "1000"
    assert bad.status_code == 400 and "limit" in bad.json()["detail"]


async def test_site_binds_groups_and_templates_and_group_lists_its_sites(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    org = twin.org_id
    async with twin_client(app, checker=answers) as client:
        group = (await client.post(f"/api/v1/orgs/{org}/sitegroups", json={"name": "north"})).json()
        rf = (await client.post(f"/api/v1/orgs/{org}/rftemplates", json={"name": "rf"})).json()
        body = {"name": "Lille", "sitegroup_ids": [group["id"]], "rftemplate_id": rf["id"]}
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json=body)).json()
        listed = (await client.get(f"/api/v1/orgs/{org}/sitegroups/{group['id']}")).json()
        assert listed["site_ids"] == [site["id"]]
        await client.put(f"/api/v1/sites/{site['id']}", json={"rftemplate_id": None})
        assert twin.objects("sites")[0]["rftemplate_id"] is None
        await client.delete(f"/api/v1/orgs/{org}/sitegroups/{group['id']}")
    assert twin.objects("sites")[0]["sitegroup_ids"] == []


async def test_site_setting_put_merges_top_level_fields(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{twin.org_id}/sites", json={"name": "Nice"})).json()
        url = f"/api/v1/sites/{site['id']}/setting"
        assert (await client.get(url)).json()["vars"] == {}
        await client.put(url, json={"vars": {"SITE_NUM": "12", "WAN_IP": "192.0.2.1"}})
        await client.put(url, json={"auto_upgrade": {"enabled": False}})
        await client.put(url, json={"vars": {"SITE_NUM": "13"}})
        setting = (await client.get(url)).json()
        bad = await client.put(url, json={"vars": {"SITE_NUM": 13}})
    assert setting["vars"] == {"SITE_NUM": "13"}, "vars is one top-level field: replaced whole"
    assert setting["auto_upgrade"] == {"enabled": False} and setting["site_id"] == site["id"]
    assert bad.status_code == 400 and bad.json()["detail"] == "vars.SITE_NUM: must be of type string"
    assert twin.objects("site_settings")[0]["vars"] == {"SITE_NUM": "13"}


async def test_deleting_a_site_drops_its_setting_and_unassigns_its_devices(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=2)
    twin = app.state.twin
    org = twin.org_id
    macs = [d["mac"] for d in twin.inventory()]
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "Metz"})).json()
        await client.put(
            f"/api/v1/orgs/{org}/inventory", json={"op": "assign", "site_id": site["id"], "macs": macs}
        )
        assert {d["site_id"] for d in twin.inventory()} == {site["id"]}
        await client.delete(f"/api/v1/sites/{site['id']}")
    assert twin.objects("sites") == [] and twin.objects("site_settings") == []
    assert not any("site_id" in d for d in twin.inventory())  # unassigned: no site_id at all


async def test_list_filters(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    base = f"/api/v1/orgs/{twin.org_id}/deviceprofiles"
    async with twin_client(app, checker=answers) as client:
        await client.post(base, json={"name": "hub", "type": "gateway"})
        await client.post(base, json={"name": "ap-profile", "type": "ap"})
        gateways = (await client.get(base, params={"type": "gateway"})).json()
    assert [p["name"] for p in gateways] == ["hub"]
