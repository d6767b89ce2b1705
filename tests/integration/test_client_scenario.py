"""The client performs every operation mistctl uses against the twin, in-process (ASGI) and over HTTP.

`exercise_all` is the scenario; it asserts on what the twin holds afterwards (through the twin's
`/__twin/state` control endpoint, not through the client under test). The contract test reuses it.
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import InMemoryCallBudget, ManualClock, MistClient, NotFound, SystemClock, build_http_client
from tests.support.twin import running_twin, twin_app, twin_transport

DEVICES = (
    {
        "claim_code": "GW0CLAIM0CODE01",
        "mac": "5c5b35aa0001",
        "serial": "CW480000000001",
        "model": "SRX320",
        "type": "gateway",
    },
    {
        "claim_code": "AP0CLAIM0CODE02",
        "mac": "5c5b35aa0002",
        "serial": "A170000000002",
        "model": "AP45",
        "type": "ap",
    },
    {
        "claim_code": "SW0CLAIM0CODE03",
        "mac": "5c5b35aa0003",
        "serial": "FC400000000003",
        "model": "EX4100-F-12P",
        "type": "switch",
        "activation_code": "ACORDER00001",
    },
)


async def twin_state(control: httpx.AsyncClient) -> dict[str, Any]:
    """What the twin holds, read on its control endpoint."""
    return (await control.get("/__twin/state")).json()


async def _org_objects(client: MistClient, org: str) -> dict[str, str]:
    """Create one object of every org kind; returns their ids by collection."""
    ids = {
        "sitegroups": (await client.create_sitegroup(org, {"name": "east"}))["id"],
        "services": (
            await client.create_service(org, {"name": "crm", "type": "custom", "addresses": ["10.9.0.0/16"]})
        )["id"],
        "networks": (
            await client.create_network(org, {"name": "corp", "subnet": "10.1.0.0/16", "vlan_id": 10})
        )["id"],
        "deviceprofiles": (await client.create_deviceprofile(org, {"name": "hub-1", "type": "gateway"}))[
            "id"
        ],
        "gatewaytemplates": (await client.create_gatewaytemplate(org, {"name": "branch-gw"}))["id"],
        "networktemplates": (await client.create_networktemplate(org, {"name": "branch-sw"}))["id"],
        "templates": (await client.create_template(org, {"name": "branch-wlans"}))["id"],
        "rftemplates": (await client.create_rftemplate(org, {"name": "branch-rf"}))["id"],
    }
    ids["wlans"] = (await client.create_wlan(org, {"ssid": "corp", "template_id": ids["templates"]}))["id"]
    tag = {"name": "printers", "type": "subnet", "subnet": "10.1.50.0/24"}
    ids["wxtags"] = (await client.create_wxtag(org, tag))["id"]
    rule = {
        "order": 1,
        "src_wxtags": [ids["wxtags"]],
        "dst_allow_wxtags": [],
        "dst_deny_wxtags": [],
        "template_id": ids["templates"],
        "action": "allow",
    }
    ids["wxrules"] = (await client.create_wxrule(org, rule))["id"]
    return ids


async def _update_and_read_back(client: MistClient, org: str, ids: dict[str, str]) -> None:
    updates = {
        "sitegroups": client.update_sitegroup,
        "services": client.update_service,
        "networks": client.update_network,
        "deviceprofiles": client.update_deviceprofile,
        "gatewaytemplates": client.update_gatewaytemplate,
        "networktemplates": client.update_networktemplate,
        "templates": client.update_template,
        "rftemplates": client.update_rftemplate,
        "wxtags": client.update_wxtag,
    }
    for collection, update in updates.items():
        body = {"name": f"{collection}-renamed"}
        if collection in ("deviceprofiles", "wxtags"):  # the spec's oneOf/required need the type too
            body["type"] = "gateway" if collection == "deviceprofiles" else "subnet"
        updated = await update(org, ids[collection], body)
        assert updated["name"] == f"{collection}-renamed"
    assert (await client.update_wlan(org, ids["wlans"], {"ssid": "corp", "hide_ssid": True}))["hide_ssid"]
    assert (await client.update_wxrule(org, ids["wxrules"], {"order": 2}))["order"] == 2
    gets = [
        client.get_sitegroup,
        client.get_service,
        client.get_network,
        client.get_deviceprofile,
        client.get_gatewaytemplate,
        client.get_networktemplate,
        client.get_template,
        client.get_rftemplate,
        client.get_wlan,
        client.get_wxtag,
        client.get_wxrule,
    ]
    for get, collection in zip(gets, ids, strict=True):
        assert (await get(org, ids[collection]))["id"] == ids[collection]
    lists = [
        client.list_sitegroups,
        client.list_services,
        client.list_networks,
        client.list_deviceprofiles,
        client.list_gatewaytemplates,
        client.list_networktemplates,
        client.list_templates,
        client.list_rftemplates,
        client.list_wlans,
        client.list_wxtags,
        client.list_wxrules,
    ]
    for list_, collection in zip(lists, ids, strict=True):
        assert [o["id"] for o in await list_(org)] == [ids[collection]]


async def _site_and_devices(
    client: MistClient, org: str, ids: dict[str, str], control: httpx.AsyncClient
) -> str:
    site = await client.create_site(
        org,
        {
            "name": "store-001",
            "country_code": "US",
            "timezone": "America/New_York",
            "gatewaytemplate_id": ids["gatewaytemplates"],
            "networktemplate_id": ids["networktemplates"],
            "rftemplate_id": ids["rftemplates"],
            "sitegroup_ids": [ids["sitegroups"]],
        },
    )
    site_id = site["id"]
    assert (await client.update_site(site_id, {"notes": "pilot"}))["notes"] == "pilot"
    assert (await client.get_site(site_id))["sitegroup_ids"] == [ids["sitegroups"]]
    assert [s["id"] for s in await client.list_sites(org)] == [site_id]
    await client.update_site_setting(site_id, {"vars": {"site_octet": "12"}})
    assert (await client.get_site_setting(site_id))["vars"] == {"site_octet": "12"}

    gateway, ap, switch = DEVICES
    await control.post("/__twin/devices", json=list(DEVICES))
    claimed = await client.claim_inventory(org, [gateway["claim_code"], ap["claim_code"]])
    assert sorted(claimed.added) == sorted([gateway["claim_code"], ap["claim_code"]])
    ordered = await client.claim_activation_code(org, str(switch["activation_code"]), claim_type="inventory")
    assert [d["mac"] for d in ordered.inventory_added] == [switch["mac"]]
    unassigned = await client.list_inventory(org, unassigned=True)
    assert gateway["mac"] in {d["mac"] for d in unassigned}
    assert (await client.assign_inventory(org, site_id, [gateway["mac"]])).success == [gateway["mac"]]
    assert [d["mac"] for d in await client.list_inventory(org, site_id=site_id, vc="true")] == [gateway["mac"]]
    on_site = await client.list_site_devices(site_id)
    named = await client.update_site_device(site_id, on_site[0]["id"], {"name": "gw-1", "type": "gateway"})
    assert named["name"] == "gw-1"
    assert (await client.assign_deviceprofile(org, ids["deviceprofiles"], [gateway["mac"]])).success
    state = await twin_state(control)
    device = next(d for d in state["inventory"] if d["mac"] == gateway["mac"])
    assert (device["site_id"], device["deviceprofile_id"], device["name"]) == (site_id, ids["deviceprofiles"], "gw-1")
    assert next(m for m in state["management"] if m["mac"] == gateway["mac"])["managed"] is True
    await client.unassign_deviceprofile(org, ids["deviceprofiles"], [gateway["mac"]])
    assert (await client.unassign_inventory(org, [gateway["mac"]])).op == "unassign"
    device = next(d for d in (await twin_state(control))["inventory"] if d["mac"] == gateway["mac"])
    assert "site_id" not in device  # an unassigned device has no site_id (the spec types it a string)
    assert device.get("deviceprofile_id") is None
    assert (await client.delete_inventory(org, [ap["serial"]])).success == [ap["serial"]]  # `--unclaim`
    assert ap["mac"] not in {d["mac"] for d in (await twin_state(control))["inventory"]}
    return site_id


async def _psk_rotation(client: MistClient, org: str) -> None:
    psk = await client.create_psk(org, {"name": "guest", "passphrase": "first-pass-1", "ssid": "corp"})
    again = await client.create_psk(
        org, {"name": "guest", "passphrase": "first-pass-1", "ssid": "corp"}, upsert=True
    )
    assert again["id"] == psk["id"]
    rotated = await client.update_psk(org, psk["id"], {"passphrase": "second-pass-2", "old_passphrase": "first-pass-1"})
    assert rotated["old_passphrase"] == "first-pass-1"
    assert "old_passphrase" not in await client.delete_old_passphrase(org, psk["id"])
    bulk = await client.update_psks(org, [{"name": "guest", "passphrase": "third-pass-3", "ssid": "corp"}])
    assert [p["passphrase"] for p in bulk] == ["third-pass-3"]
    assert (await client.get_psk(org, psk["id"]))["passphrase"] == "third-pass-3"
    assert [p["name"] for p in await client.list_psks(org, ssid="corp")] == ["guest"]
    await client.delete_psk(org, psk["id"])
    assert await client.list_psks(org) == []


async def _delete_everything(client: MistClient, org: str, ids: dict[str, str], site_id: str) -> None:
    await client.delete_site(site_id)
    deletes = [
        client.delete_wxrule,
        client.delete_wxtag,
        client.delete_wlan,
        client.delete_template,
        client.delete_rftemplate,
        client.delete_networktemplate,
        client.delete_gatewaytemplate,
        client.delete_deviceprofile,
        client.delete_network,
        client.delete_service,
        client.delete_sitegroup,
    ]
    order = [
        "wxrules",
        "wxtags",
        "wlans",
        "templates",
        "rftemplates",
        "networktemplates",
        "gatewaytemplates",
        "deviceprofiles",
        "networks",
        "services",
        "sitegroups",
    ]
    for delete, collection in zip(deletes, order, strict=True):
        await delete(org, ids[collection])
    with pytest.raises(NotFound):
        await client.get_site(site_id)


async def exercise_all(client: MistClient, org: str, control: httpx.AsyncClient) -> None:
    """Every operation of the client, checked against the twin's state."""
    me = await client.get_self()
    assert me.privileges and me.privileges[0].org_id == org
    assert (await client.get_usage()).request_limit >= 1
    assert (await client.get_organization(org))["id"] == org
    ids = await _org_objects(client, org)
    await _update_and_read_back(client, org, ids)
    site_id = await _site_and_devices(client, org, ids, control)
    await _psk_rotation(client, org)
    await _delete_everything(client, org, ids, site_id)
    state = await twin_state(control)
    assert all(state[c] == [] for c in ("sites", "sitegroups", "networks", "wlans", "psks", "wxrules"))


async def test_every_operation_in_process():
    clock = ManualClock()
    app = twin_app(clock=clock.now, device_count=0)
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(transport=twin_transport(app), base_url="http://twin") as control,
    ):
        client = MistClient(
            http, app.state.twin.token, clock=clock, budget=InMemoryCallBudget(clock), rng=random.Random(1)
        )
        await exercise_all(client, app.state.twin.org_id, control)
    assert dict(client.calls.by_outcome) == {"ok": client.calls.total - 1, "client_error": 1}  # the NotFound
    assert client.calls.total > 60


@pytest.mark.slow
async def test_every_operation_over_http():
    with running_twin(TwinConfig(device_count=0)) as (base_url, org_id, token):
        async with (
            build_http_client(base_url) as http,
            httpx.AsyncClient(base_url=base_url) as control,
        ):
            client = MistClient(http, token, clock=SystemClock())
            await exercise_all(client, org_id, control)
    assert dict(client.calls.by_outcome) == {"ok": client.calls.total - 1, "client_error": 1}  # the NotFound
