"""Every answer of the twin, on every operation it serves, validated against the Mist OpenAPI spec.

The checker (tests/support/openapi_check.py) validates each request and each answer with openapi-core
as the test runs (strict: the first off-spec exchange fails the test). Documented spec exceptions
(`nullable`, empty `inventory_added`, partial PUT bodies, 5xx) are
listed in that module's docstring.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mist_twin.validation import operations
from tests.contract.test_twin_day2_contract import day2_paths
from tests.support.openapi_check import ContractChecker, ContractError, build_openapi
from tests.support.twin import FakeClock, twin_app, twin_client

WXRULE = {"order": 1, "src_wxtags": [], "dst_allow_wxtags": [], "dst_deny_wxtags": []}
#: A valid create body per collection, and a field a PUT may change.
BODIES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "sitegroups": ({"name": "branches"}, {"name": "all branches"}),
    "services": ({"name": "crm", "type": "custom", "addresses": ["10.1.0.0/16"]}, {"name": "crm2"}),
    "networks": ({"name": "corp", "subnet": "10.10.0.0/24", "vlan_id": 10}, {"vlan_id": 11}),
    "deviceprofiles": ({"name": "hub-a", "type": "gateway"}, {"name": "hub-b", "type": "gateway"}),
    "gatewaytemplates": ({"name": "branch-gw", "type": "spoke"}, {"name": "branch-gw2"}),
    "networktemplates": ({"name": "branch-sw"}, {"name": "branch-sw2"}),
    "templates": ({"name": "branch-wlans", "applies": {"site_ids": []}}, {"name": "wlans2"}),
    "rftemplates": ({"name": "branch-rf", "country_code": "US"}, {"name": "rf2"}),
    "wlans": ({"ssid": "corp", "auth": {"type": "psk", "psk": "averylongsecret"}}, {"enabled": False}),
    "wxtags": (
        {"name": "guests", "type": "match", "match": "wlan_id", "op": "in", "values": ["x"]},
        {"name": "g2"},
    ),
    "wxrules": (WXRULE, {"order": 2}),
    "psks": ({"name": "alice", "passphrase": "correct-horse-1", "ssid": "corp"}, {"vlan_id": 20}),
}


@pytest.fixture(scope="session")
def contract(mist_spec: dict[str, Any]) -> Any:
    """The Mist spec with its documented quirks normalised (built once per session)."""
    return build_openapi(mist_spec)


@pytest.fixture
def checker(contract: Any, mist_spec: dict[str, Any]) -> ContractChecker:
    return ContractChecker(contract, strict=True, spec=mist_spec)


async def _walk_collections(client: httpx.AsyncClient, org: str) -> None:
    for collection, (body, change) in BODIES.items():
        base = f"/api/v1/orgs/{org}/{collection}"
        created = (await client.post(base, json=body)).json()
        assert (await client.get(base)).status_code == 200
        assert (await client.get(f"{base}/{created['id']}")).status_code == 200
        assert (await client.put(f"{base}/{created['id']}", json=change)).status_code == 200
        assert (await client.delete(f"{base}/{created['id']}")).status_code == 200
        # what mistctl's lost-answer check relies on: a deleted object is a 404, and so is deleting it again
        assert (await client.get(f"{base}/{created['id']}")).status_code == 404
        assert (await client.delete(f"{base}/{created['id']}")).status_code == 404


async def _walk_sites(client: httpx.AsyncClient, org: str) -> str:
    site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "Paris-01"})).json()
    assert (await client.get(f"/api/v1/orgs/{org}/sites")).status_code == 200
    assert (await client.get(f"/api/v1/sites/{site['id']}")).status_code == 200
    assert (await client.put(f"/api/v1/sites/{site['id']}", json={"rftemplate_id": None})).status_code == 200
    assert (await client.get(f"/api/v1/sites/{site['id']}/setting")).status_code == 200
    answer = await client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": {"SITE_NUM": "1"}})
    assert answer.status_code == 200
    return str(site["id"])


async def _walk_inventory(client: httpx.AsyncClient, app: Any, org: str, site_id: str) -> None:
    twin = app.state.twin
    free = [d for d in twin.devices() if not d["claimed"]]
    base = f"/api/v1/orgs/{org}/inventory"
    assert (await client.post(base, json=[free[0]["claim_code"]])).status_code == 200
    assert (await client.post(base, json=[free[0]["claim_code"]])).status_code == 200  # duplicated only
    assert (await client.post(base, json=["NOSUCHCODE0000"])).status_code == 400
    gateway = next(d for d in twin.inventory() if d["type"] == "gateway")
    assign = {"op": "assign", "site_id": site_id, "macs": [gateway["mac"]], "no_reassign": False,
              "managed": True, "disable_auto_config": False}
    assert (await client.put(base, json=assign)).status_code == 200
    named = {"name": "hub-gw-1", "type": "gateway"}
    device = f"/api/v1/sites/{site_id}/devices/{gateway['id']}"
    assert (await client.put(device, json=named)).json()["name"] == "hub-gw-1"
    assert (await client.get(base, params={"site_id": site_id, "type": "gateway"})).status_code == 200
    assert (await client.get(f"{base}/search", params={"type": "gateway"})).status_code == 200
    code = next(d["activation_code"] for d in twin.devices() if not d["claimed"])
    assert (
        await client.post(f"/api/v1/orgs/{org}/claim", json={"code": code, "type": "all"})
    ).status_code == 200
    hub = (
        await client.post(f"/api/v1/orgs/{org}/deviceprofiles", json={"name": "hub", "type": "gateway"})
    ).json()
    for action in ("assign", "unassign"):
        url = f"/api/v1/orgs/{org}/deviceprofiles/{hub['id']}/{action}"
        assert (await client.post(url, json={"macs": [gateway["mac"]]})).status_code == 200
    assert (await client.put(base, json={"op": "unassign", "macs": [gateway["mac"]]})).status_code == 200


async def _walk_psks(client: httpx.AsyncClient, org: str) -> None:
    base = f"/api/v1/orgs/{org}/psks"
    psk = (await client.post(base, json=BODIES["psks"][0])).json()
    upsert = {**BODIES["psks"][0], "passphrase": "correct-horse-2"}
    assert (await client.post(base, params={"upsert": "true"}, json=upsert)).status_code == 200
    assert (await client.post(f"{base}/{psk['id']}/delete_old_passphrase")).status_code == 200
    bulk = [{"name": "bob", "passphrase": "battery-staple-1", "ssid": "corp"}]
    assert (await client.put(base, json=bulk)).status_code == 200
    assert (await client.get(base, params={"ssid": "corp"})).status_code == 200
    assert (await client.post(f"{base}/delete", json={"psk_ids": [psk["id"]]})).status_code == 200


async def test_every_operation_answers_on_spec(checker: ContractChecker) -> None:
    app = twin_app(inventory_count=6, seed=1)
    org = app.state.twin.org_id
    async with twin_client(app, checker=checker) as client:
        for path in ("/api/v1/self", "/api/v1/self/usage", f"/api/v1/orgs/{org}"):
            assert (await client.get(path)).status_code == 200
        await _walk_collections(client, org)
        site_id = await _walk_sites(client, org)
        await _walk_inventory(client, app, org, site_id)
        await _walk_psks(client, org)
        assert (await client.delete(f"/api/v1/sites/{site_id}")).status_code == 200
        assert (await client.get(f"/api/v1/sites/{site_id}")).status_code == 404
    served = {(op["method"], op["path"]) for op in operations().values()} - day2_paths()  # Day 2: own file
    answered = {(method, path) for method, path, status in checker.seen if status == 200}
    assert served - answered == set(), "operations never exercised with a 200"
    assert checker.checked >= len(served)


async def test_error_answers_on_spec(checker: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, rate_limit=40)
    twin = app.state.twin
    org = twin.org_id
    outsider = twin.add_token("admin", on_org=False).token
    reader = twin.add_token("read").token
    async with twin_client(app, checker=checker) as client:
        with checker.sending_bad_requests():
            assert (await client.post(f"/api/v1/orgs/{org}/sites", content=b"{not json")).status_code == 400
            assert (await client.post(f"/api/v1/orgs/{org}/sites", json={"notes": "x"})).status_code == 400
            assert (await client.post(f"/api/v1/orgs/{org}/wxrules", json={"order": "1"})).status_code == 400
            assert (await client.get("/api/v1/self", headers={"Authorization": ""})).status_code == 401
        assert (await client.get("/api/v1/self", headers={"Authorization": "Token nope"})).status_code == 401
        other = {"Authorization": f"Token {outsider}"}
        assert (await client.get(f"/api/v1/orgs/{org}/sites", headers=other)).status_code == 403
        read_only = {"Authorization": f"Token {reader}"}
        assert (await client.get(f"/api/v1/orgs/{org}/sites", headers=read_only)).status_code == 200
        answer = await client.post(f"/api/v1/orgs/{org}/sitegroups", headers=read_only, json={"name": "x"})
        assert answer.status_code == 403
        unknown = "00000000-0000-0000-0000-000000000000"
        for path in (
            f"/api/v1/sites/{unknown}",
            f"/api/v1/orgs/{org}/wlans/{unknown}",
            f"/api/v1/orgs/{org}/psks/{unknown}",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404 and answer.json()["id"] == unknown
        site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "Lyon-01"})).json()
        assign = {"op": "assign", "site_id": site["id"], "macs": ["5c5b35ffffff"], "managed": True}
        refused = await client.put(f"/api/v1/orgs/{org}/inventory", json=assign)  # a MAC Mist cannot assign
        assert refused.status_code == 400 and refused.json()["error"] == ["5c5b35ffffff"]
        named = await client.put(f"/api/v1/sites/{site['id']}/devices/{unknown}", json={"name": "x", "type": "ap"})
        assert named.status_code == 404, "no such device at the site"
        while (answer := await client.get("/api/v1/self/usage")).status_code != 429:
            pass
        assert answer.headers["Retry-After"].isdigit()
    statuses = {status for _m, _p, status in checker.seen}
    assert {200, 400, 401, 403, 404, 429} <= statuses


async def test_checker_catches_an_off_spec_answer(contract: Any) -> None:
    """The checker must be able to fail: a site whose name is a number is refused."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "53f10664-3ce8-4c27-b382-0ef66432349f", "name": 5})

    checker = ContractChecker(contract, strict=False)
    headers = {"Authorization": "Token t"}
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), event_hooks=checker.event_hooks()
    ) as client:
        await client.get("https://twin/api/v1/sites/53f10664-3ce8-4c27-b382-0ef66432349f", headers=headers)
    assert len(checker.failures) == 1 and "response off-spec" in checker.failures[0]
    with pytest.raises(AssertionError):
        checker.assert_clean()


async def test_checker_refuses_an_off_spec_request(contract: Any) -> None:
    """A create without its required field is refused (unlike a partial PUT, which Mist accepts)."""
    org = "a97c1b22-a4e9-411e-9bfd-d8695a0f9e61"
    url = f"https://twin/api/v1/orgs/{org}/sitegroups"
    bad = httpx.Request("POST", url, json={"nom": "x"}, headers={"Authorization": "Token t"})
    checker = ContractChecker(contract)
    with pytest.raises(ContractError):
        checker.check(bad, httpx.Response(400, json={"detail": "name: this field is required"}, request=bad))
    site = {"id": "53f10664-3ce8-4c27-b382-0ef66432349f", "name": "a", "notes": "x"}
    headers = {"Authorization": "Token t", "Content-Type": "application/json"}
    url = f"https://twin/api/v1/sites/{site['id']}"
    partial = httpx.Request("PUT", url, content=json.dumps({"notes": "x"}), headers=headers)
    checker.check(partial, httpx.Response(200, json=site, request=partial))
