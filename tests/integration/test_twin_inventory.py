"""The twin's device pool and inventory: claim, assign/unassign, activation codes, device profiles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mist_twin.config import TwinConfig
from mist_twin.devices import generate_pool
from mist_twin.state import TwinState
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import twin_app, twin_client


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


def test_generated_pool_is_realistic_and_seeded() -> None:
    pool = generate_pool(seed=7, count=300)
    assert pool == generate_pool(seed=7, count=300) and pool != generate_pool(seed=8, count=300)
    assert len({d["mac"] for d in pool}) == len({d["claim_code"] for d in pool}) == 300
    for device in pool:
        assert re.fullmatch(r"5c5b35[0-9a-f]{6}", device["mac"])
        assert re.fullmatch(r"[A-Z0-9]{13,15}", device["claim_code"])
    models = {(d["type"], d["model"]) for d in pool}
    assert models == {
        ("ap", "AP45"), ("ap", "AP34"), ("ap", "AP43"), ("switch", "EX2300-C-12P"),
        ("switch", "EX4100-F-12P"), ("gateway", "SRX320"), ("gateway", "SSR120"),
    }  # fmt: skip


def test_pool_from_file_and_preseeded_inventory(tmp_path: Path) -> None:
    devices = [
        {
            "claim_code": "ABCDEFGHJKLMN",
            "mac": "5C:5B:35:00:00:01",
            "serial": "S1",
            "model": "AP45",
            "type": "ap",
        },
        {
            "claim_code": "NPQRSTUVWXYZ2",
            "mac": "5c5b35000002",
            "serial": "S2",
            "model": "SRX320",
            "type": "gateway",
        },
    ]
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(devices))
    twin = TwinState(TwinConfig(devices_file=path, inventory_count=1))
    assert [d["mac"] for d in twin.inventory()] == ["5c5b35000001"]
    assert [(d["mac"], d["claimed"]) for d in twin.devices()] == [
        ("5c5b35000001", True),
        ("5c5b35000002", False),
    ]
    assert twin.inventory()[0]["version"] and twin.inventory()[0]["deviceprofile_id"] is None


def test_bad_devices_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    path.write_text(json.dumps([{"claim_code": "X", "mac": "m", "serial": "s", "model": "AP45"}]))
    with pytest.raises(ValueError, match=r"entry 0: missing or empty string field\(s\) type"):
        TwinState(TwinConfig(devices_file=path))


async def test_claim_codes_added_duplicated_and_errors(answers: ContractChecker) -> None:
    app = twin_app(device_count=5)
    twin = app.state.twin
    codes = [d["claim_code"] for d in twin.devices()]
    url = f"/api/v1/orgs/{twin.org_id}/inventory"
    async with twin_client(app, checker=answers) as client:
        dashed = "-".join(codes[2][i : i + 5] for i in range(0, 15, 5)).lower()
        with_dashes = await client.post(url, json=[dashed])
        first = await client.post(url, json=[codes[0], codes[1].lower()])
        again = await client.post(url, json=[codes[0], "UNKNOWNCODE123"])
        only_bad = await client.post(url, json=["UNKNOWNCODE123"])
        not_a_list = await client.post(url, json={"codes": codes})
    assert first.status_code == 200
    assert first.json()["added"] == [codes[0], codes[1].lower()] and first.json()["error"] == []
    assert {d["magic"] for d in first.json()["inventory_added"]} == {codes[0], codes[1]}
    assert again.status_code == 400, "nothing added and an error: a 400 with the same shape"
    assert again.json()["duplicated"] == [codes[0]] and again.json()["error"] == ["UNKNOWNCODE123"]
    assert len(again.json()["reason"]) == 1
    assert only_bad.status_code == 400 and only_bad.json()["added"] == [] and only_bad.json()["error"]
    assert not_a_list.status_code == 400
    # Mist takes a code with dashes, in any case, answers it as sent and stores it without (spec example)
    assert with_dashes.status_code == 200 and with_dashes.json()["added"] == [dashed]
    assert with_dashes.json()["inventory_added"][0]["magic"] == codes[2]
    assert sorted(d["magic"] for d in twin.inventory()) == sorted(codes[:3])


async def test_assign_unassign_and_no_reassign(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=3)
    twin = app.state.twin
    org = twin.org_id
    macs = [d["mac"] for d in twin.inventory()]
    url = f"/api/v1/orgs/{org}/inventory"
    async with twin_client(app, checker=answers) as client:
        a = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "A"})).json()["id"]
        b = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "B"})).json()["id"]
        colons = ":".join(macs[0][i : i + 2] for i in range(0, 12, 2)).upper()
        assigned = await client.put(url, json={"op": "assign", "site_id": a, "macs": [colons, macs[1], "5c5b35ffffff"],
                                               "managed": True, "disable_auto_config": False})
        refused = await client.put(
            url, json={"op": "assign", "site_id": b, "macs": [macs[0]], "no_reassign": True}
        )
        moved = await client.put(
            url, json={"op": "assign", "site_id": b, "macs": [macs[1]], "no_reassign": False}
        )
        unassigned = await client.put(url, json={"op": "unassign", "macs": [macs[0]]})
        unknown_site = await client.put(url, json={"op": "assign", "site_id": org, "macs": [macs[0]]})
        at_b = (await client.get(url, params={"site_id": b})).json()
        only_assigned = (await client.get(url, params={"unassigned": "false"})).json()
    # a MAC that cannot be assigned: 400 with the per-MAC lists, and the others are assigned
    assert assigned.status_code == 400
    assert assigned.json() == {"op": "assign", "success": [colons, macs[1]], "error": ["5c5b35ffffff"],
                               "reason": ["5c5b35ffffff: not in the org inventory"]}  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"] == [macs[0]]
    assert moved.status_code == 200 and moved.json()["success"] == [macs[1]]
    management = {m["mac"]: m["managed"] for m in twin.objects("management")}
    assert management[macs[0]] is True, "assigned with managed: true"
    assert management[macs[1]] is (twin.inventory()[1]["type"] == "ap"), "moved without managed: only an AP is"
    assert unassigned.json() == {"op": "unassign", "success": [macs[0]], "error": [], "reason": []}
    assert unknown_site.status_code == 400 and "site_id" in unknown_site.json()["detail"]
    by_mac = {d["mac"]: d.get("site_id", "absent") for d in twin.inventory()}
    assert by_mac == {macs[0]: "absent", macs[1]: b, macs[2]: "absent"}
    assert [d["mac"] for d in at_b] == [macs[1]] and [d["mac"] for d in only_assigned] == [macs[1]]


async def test_inventory_filters_and_search(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=12, seed=3)
    twin = app.state.twin
    url = f"/api/v1/orgs/{twin.org_id}/inventory"
    aps = [d for d in twin.inventory() if d["type"] == "ap"]
    async with twin_client(app, checker=answers) as client:
        by_type = (await client.get(url, params={"type": "ap"})).json()
        by_mac = (await client.get(url, params={"mac": aps[0]["mac"]})).json()
        by_model = (await client.get(url, params={"model": aps[0]["model"]})).json()
        page = await client.get(url, params={"limit": 5, "page": 2})
        search = (await client.get(f"{url}/search", params={"type": "ap", "limit": 2})).json()
    assert {d["mac"] for d in by_type} == {d["mac"] for d in aps}
    assert [d["serial"] for d in by_mac] == [aps[0]["serial"]]
    assert {d["model"] for d in by_model} == {aps[0]["model"]}
    assert len(page.json()) == 5 and page.headers["X-Page-Total"] == "12"
    assert search["total"] == len(aps) and len(search["results"]) == min(2, len(aps))


async def test_activation_code_claims_its_devices(answers: ContractChecker) -> None:
    app = twin_app(device_count=10)
    twin = app.state.twin
    code = twin.devices()[0]["activation_code"]
    ordered = {d["mac"] for d in twin.devices() if d["activation_code"] == code}
    url = f"/api/v1/orgs/{twin.org_id}/claim"
    async with twin_client(app, checker=answers) as client:
        first = await client.post(url, json={"code": code, "type": "all"})
        second = await client.post(url, json={"code": code, "type": "all"})
        bad = await client.post(url, json={"code": "NOPE", "type": "all"})
        missing = await client.post(url, json={"code": code})
    assert {d["mac"] for d in first.json()["inventory_added"]} == ordered and len(ordered) == 5
    assert second.json()["inventory_added"] == [] and len(second.json()["inventory_duplicated"]) == 5
    assert bad.status_code == 400 and "code" in bad.json()["detail"]
    assert missing.status_code == 400 and missing.json()["detail"] == "type: this field is required"
    assert {d["mac"] for d in twin.inventory()} == ordered


async def test_deviceprofile_assign_marks_gateways_only(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=15, seed=2)
    twin = app.state.twin
    org = twin.org_id
    gateways = [d["mac"] for d in twin.inventory() if d["type"] == "gateway"]
    ap = next(d["mac"] for d in twin.inventory() if d["type"] == "ap")
    async with twin_client(app, checker=answers) as client:
        hub = (
            await client.post(f"/api/v1/orgs/{org}/deviceprofiles", json={"name": "hub", "type": "gateway"})
        ).json()
        url = f"/api/v1/orgs/{org}/deviceprofiles/{hub['id']}"
        assigned = await client.post(f"{url}/assign", json={"macs": [*gateways, ap]})
        assert {d["mac"] for d in twin.inventory() if d["deviceprofile_id"] == hub["id"]} == set(gateways)
        unassigned = await client.post(f"{url}/unassign", json={"macs": gateways[:1]})
        empty = await client.post(f"{url}/assign", json={"macs": []})
        await client.delete(url)
    assert assigned.json() == {"success": gateways} and unassigned.json() == {"success": gateways[:1]}
    assert empty.status_code == 400 and empty.json()["detail"].startswith("macs:")
    assert {d["deviceprofile_id"] for d in twin.inventory()} == {None}, "deleting the profile unbinds it"


async def test_control_adds_pool_devices(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    twin = app.state.twin
    new = {
        "claim_code": "ZXCVBNMASDFGH",
        "mac": "5c5b35123456",
        "serial": "X1",
        "model": "AP43",
        "type": "ap",
    }
    async with twin_client(app, checker=answers) as client:
        added = await client.post("/__twin/devices", json=[new])
        again = await client.post("/__twin/devices", json=new)
        claimed = await client.post(f"/api/v1/orgs/{twin.org_id}/inventory", json=[new["claim_code"]])
        pool = (await client.get("/__twin/devices")).json()
    assert added.status_code == 200 and again.status_code == 400 and "already" in again.json()["detail"]
    assert claimed.json()["added"] == [new["claim_code"]]
    assert [(d["mac"], d["claimed"]) for d in pool] == [("5c5b35123456", True)]


async def test_ordered_devices_not_shipped_come_back_pending_until_shipped(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    twin = app.state.twin
    order = [{"claim_code": f"ORDER0000000{n:03d}", "mac": f"5c5b3500a00{n}", "serial": f"A1700000000{n}",
              "model": "AP45", "type": "ap", "activation_code": "acorder01", "shipped": n > 1} for n in range(3)]
    url = f"/api/v1/orgs/{twin.org_id}/claim"
    async with twin_client(app, checker=answers) as client:
        assert (await client.post("/__twin/devices", json=order)).status_code == 200
        first = (await client.post(url, json={"code": "ACORDER01", "type": "all"})).json()
        shipped = (await client.post("/__twin/devices/ship", json={"macs": ["5c5b3500a000"]})).json()
        second = (await client.post(url, json={"code": "ACORDER01", "type": "all"})).json()
    assert [d["mac"] for d in first["inventory_added"]] == ["5c5b3500a002"]
    assert first["inventory_pending"] == [{"mac": "5c5b3500a000"}, {"mac": "5c5b3500a001"}]
    assert shipped == {"shipped": ["5c5b3500a000"]}
    assert [d["mac"] for d in second["inventory_added"]] == ["5c5b3500a000"]
    assert second["inventory_pending"] == [{"mac": "5c5b3500a001"}]
    assert sorted(d["mac"] for d in twin.inventory()) == ["5c5b3500a000", "5c5b3500a002"]


async def test_a_device_at_its_site_takes_a_name(answers: ContractChecker) -> None:
    app = twin_app(inventory_count=2)
    twin = app.state.twin
    org = twin.org_id
    first, second = twin.inventory()
    async with twin_client(app, checker=answers) as client:
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "A"})).json()["id"]
        assign = {"op": "assign", "site_id": site, "macs": [first["mac"]]}
        assert (await client.put(f"/api/v1/orgs/{org}/inventory", json=assign)).status_code == 200
        base = f"/api/v1/sites/{site}/devices"
        named = await client.put(f"{base}/{first['id']}", json={"name": "gw-1", "type": first["type"]})
        other = "switch" if first["type"] != "switch" else "ap"
        wrong_type = await client.put(f"{base}/{first['id']}", json={"name": "x", "type": other})
        no_type = await client.put(f"{base}/{first['id']}", json={"name": "x"})
        not_here = await client.put(f"{base}/{second['id']}", json={"name": "x", "type": second["type"]})
        listed = (await client.get(base, params={"type": "all"})).json()
    assert named.status_code == 200 and named.json()["name"] == "gw-1"
    assert wrong_type.status_code == 400 and "type" in wrong_type.json()["detail"]
    assert no_type.status_code == 400, "the spec's device schema is a oneOf picked by type"
    assert not_here.status_code == 404
    assert {d["mac"]: d["name"] for d in twin.inventory()} == {first["mac"]: "gw-1", second["mac"]: ""}
    assert [(d["mac"], d["name"]) for d in listed] == [(first["mac"], "gw-1")]
