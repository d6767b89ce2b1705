"""A brownfield org built straight through the twin's Mist routes (never by mistctl), for import tests.

    await build_org(client, org_id, pool_codes, sites=20, irregular=3)

Regular sites carry every variable the plan below gives (as an org provisioned by any plan-driven
tool would) plus one of their own; irregular ones carry hand-written addresses that fit no plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from mistctl.domain.fleet import IpPlanSpec, SegmentSpec, Zone
from mistctl.domain.ipplan import plan_site

PLAN = IpPlanSpec(supernet="10.0.0.0/8", zone_prefix=11, site_prefix=22, segments=(  # type: ignore[arg-type]
    SegmentSpec(name="mgmt", vlan=10, prefix=24), SegmentSpec(name="data", vlan=20, prefix=24),
    SegmentSpec(name="voice", vlan=30, prefix=25)))
OCTET = IpPlanSpec(scheme="octet", supernet="10.0.0.0/8", segments=(  # type: ignore[arg-type]
    SegmentSpec(name="mgmt", vlan=10), SegmentSpec(name="data", vlan=20), SegmentSpec(name="voice", vlan=30)))
ZONES = {1: "us-east", 2: "us-west"}
SECRETS = {"WLAN_STORE_WIFI_STORE_CORP_PSK": "corp-secret-pass-1", "PSK_SCANNERS_PASSPHRASE": "scanner-pass-0001"}


@dataclass
class Built:
    """What was built: ids by name, and the sites' names (regular ones first)."""

    ids: dict[str, str] = field(default_factory=dict)
    regular: list[str] = field(default_factory=list)
    irregular: list[str] = field(default_factory=list)
    devices: dict[str, str] = field(default_factory=dict)  # mac -> site name


async def _post(client: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status_code == 200, (path, resp.status_code, resp.text)
    answer: dict[str, Any] = resp.json()
    return answer


async def build_org(client: httpx.AsyncClient, org_id: str, codes: list[str], *, sites: int,
                    irregular: int = 0, plan: IpPlanSpec = PLAN) -> Built:
    """Org objects of most kinds, `sites` sites (the last `irregular` of them irregular), one device each."""
    org = f"/api/v1/orgs/{org_id}"
    b = Built()
    b.ids["stores"] = (await _post(client, f"{org}/sitegroups", {"name": "stores"}))["id"]
    await _post(client, f"{org}/networks", {"name": "corp", "subnet": "{{data_subnet}}", "vlan_id": "{{data_vlan}}"})
    await _post(client, f"{org}/networks", {"name": "dc", "subnet": "172.20.0.0/16", "vlan_id": 99})
    b.ids["spoke"] = (await _post(client, f"{org}/gatewaytemplates", {
        "name": "spoke", "port_config": {"ge-0/0/1": {"usage": "lan", "networks": ["corp"]}}}))["id"]
    b.ids["access"] = (await _post(client, f"{org}/networktemplates", {"name": "access"}))["id"]
    b.ids["rf"] = (await _post(client, f"{org}/rftemplates", {"name": "rf", "country_code": "US"}))["id"]
    tmpl = (await _post(client, f"{org}/templates", {
        "name": "store-wifi", "applies": {"sitegroup_ids": [b.ids["stores"]]}}))["id"]
    await _post(client, f"{org}/wlans", {"ssid": "Store-Corp", "template_id": tmpl, "vlan_id": 20,
                                          "auth": {"type": "psk", "psk": SECRETS["WLAN_STORE_WIFI_STORE_CORP_PSK"]}})
    tag = (await _post(client, f"{org}/wxtags", {"name": "scanners", "type": "match", "match": "psk_role",
                                                 "values": ["scanner"]}))["id"]
    await _post(client, f"{org}/wxrules", {"order": 1, "template_id": tmpl, "src_wxtags": [tag],
                                           "dst_allow_wxtags": [], "dst_deny_wxtags": []})
    await _post(client, f"{org}/psks", {"name": "scanners", "ssid": "Store-Corp",
                                        "passphrase": SECRETS["PSK_SCANNERS_PASSPHRASE"], "role": "scanner"})
    claimed = (await client.post(f"{org}/inventory", json=codes[:sites])).json()
    macs = [str(d["mac"]) for d in claimed["inventory_added"]]
    for i in range(sites):
        await _site(client, org, b, i, odd=i >= sites - irregular, mac=macs[i], plan=plan)
    return b


async def _site(client: httpx.AsyncClient, org: str, b: Built, i: int, *, odd: bool, mac: str,
                plan: IpPlanSpec) -> None:
    name = f"Store-{i + 1:04d}"
    site = await _post(client, f"{org}/sites", {
        "name": name, "address": f"{i + 1} Main St", "country_code": "US", "timezone": "America/New_York",
        "gatewaytemplate_id": b.ids["spoke"], "networktemplate_id": b.ids["access"], "rftemplate_id": b.ids["rf"],
        "sitegroup_ids": [b.ids["stores"]]})
    if odd:  # hand-written: a /24 here and there, nothing the plan gives
        variables = {"mgmt_subnet": f"192.168.{i % 250}.0/24", "mgmt_vlan": "10", "data_vlan": "20",
                     "data_subnet": f"172.31.{i % 250}.0/24"}
        b.irregular.append(name)
    else:
        zone, number = 1 + i % 2, 1 + i // 2
        variables = plan_site(plan, Zone(id=zone, name=ZONES[zone]), number).vars()
        b.regular.append(name)
    variables["store_manager"] = f"manager-{i + 1}"
    resp = await client.put(f"/api/v1/sites/{site['id']}/setting", json={"vars": variables})
    assert resp.status_code == 200, resp.text
    resp = await client.put(f"{org}/inventory", json={"op": "assign", "site_id": site["id"], "macs": [mac]})
    assert resp.status_code == 200, resp.text
    b.devices[mac.lower()] = name
