"""The live org -> fleet data conversion (pure): field clean-up, ids to names, secrets, sites, CSV output."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mistctl.domain.csv_writer import NotCsvSafe, sites_csv
from mistctl.domain.fleet_writer import LiveOrg, build_fleet
from mistctl.domain.parse import parse_fleet
from mistctl.domain.sites_csv import parse_sites_csv

_SERVER = {"org_id": "o1", "created_time": 1, "modified_time": 2}


def _live(**extra: Any) -> LiveOrg:
    objects: dict[str, list[dict[str, Any]]] = {
        "site_groups": [{"id": "g1", "name": "stores", "site_ids": ["s1"], **_SERVER}],
        "wlan_templates": [{"id": "t1", "name": "wifi", "applies": {"sitegroup_ids": ["g1"], "site_ids": ["s2"]},
                            **_SERVER}],
        "wlans": [{"id": "w1", "ssid": "Corp", "template_id": "t1", "enabled": True, "hide_ssid": False,
                   "vlan_enabled": False, "auth": {"type": "psk", "psk": "live-secret-1"}, "for_site": False,
                   "twin_only_field": 1, **_SERVER}],
        "labels": [{"id": "l1", "name": "scanners", "type": "match", "match": "psk_role", "values": ["x"]}],
        "wlan_policies": [{"id": "r1", "order": 1, "template_id": "t1", "src_wxtags": ["l1", "gone"],
                           "dst_allow_wxtags": [], "dst_deny_wxtags": [], "enabled": True, "action": "allow"}],
        "psks": [{"id": "p1", "name": "iot", "ssid": "Corp", "passphrase": "live-secret-2", "usage": "multi",
                  "max_usage": 0, "expire_time": None}],
        "rf_templates": [{"id": "rf1", "name": "rf", "country_code": "US"}],
    }
    sites = [{"id": "s1", "name": "B-site", "address": "", "notes": "", "rftemplate_id": "rf1",
              "sitegroup_ids": ["g1"], "latlng": {"lat": 1.5, "lng": 2.5}, "tzoffset": 60, **_SERVER},
             {"id": "s2", "name": "A-site", "country_code": "FR"}]
    site_vars = {"s1": {"mgmt_subnet": "192.168.1.0/24"}, "s2": {}}
    inventory = [{"mac": "5C5B35000001", "site_id": "s1", "name": "ap-1"}, {"mac": "5c5b35000002", "site_id": None}]
    return LiveOrg("o1", objects, sites, site_vars, inventory, **extra)


def test_org_objects_lose_server_fields_defaults_and_ids() -> None:
    out = build_fleet(_live())
    org = out.fleet["org"]
    assert org["site_groups"] == [{"name": "stores"}]
    assert org["wlan_templates"] == [{"name": "wifi", "applies_to": {"site_groups": ["stores"], "sites": ["A-site"]}}]
    assert org["wlans"] == [{"ssid": "Corp", "auth": {"type": "psk", "psk": "${WLAN_WIFI_CORP_PSK}"},
                             "template": "wifi"}]
    assert org["wlan_policies"] == [{"order": 1, "src_wxtags": ["scanners"], "dst_allow_wxtags": [],
                                     "dst_deny_wxtags": [], "template": "wifi"}]
    assert org["psks"] == [{"name": "iot", "ssid": "Corp", "passphrase": "${PSK_IOT_PASSPHRASE}"}]
    assert out.secrets == {"WLAN_WIFI_CORP_PSK": "WLAN 'Corp' auth.psk", "PSK_IOT_PASSPHRASE": "PSK 'iot' passphrase"}
    assert out.notes == ["WLAN policy '1': label id gone is not in the org: left out"]
    assert "live-secret" not in yaml.safe_dump(out.fleet)


def test_sites_get_names_devices_and_their_own_variables() -> None:
    out = build_fleet(_live())
    assert "ip_plan" not in out.fleet  # two sites, no plan in their variables
    assert [s["name"] for s in out.fleet["sites"]] == ["A-site", "B-site"]
    b = out.fleet["sites"][1]
    assert b == {"name": "B-site", "latlng": {"lat": 1.5, "lng": 2.5}, "rf_template": "rf",
                 "site_groups": ["stores"], "vars": {"mgmt_subnet": "192.168.1.0/24"},
                 "devices": [{"mac": "5c5b35000001", "name": "ap-1"}]}
    fleet = parse_fleet(yaml.safe_dump(out.fleet), env=dict.fromkeys(out.secrets, "long-enough-1"))
    assert not any(s.placed for s in fleet.sites) and fleet.org.count() == 7


def test_sites_as_csv_read_back_the_same() -> None:
    sites = build_fleet(_live()).fleet["sites"]
    sites[0]["vars"] = {"note": "a,b"}
    rows, issues = parse_sites_csv(sites_csv(sites), source="s.csv")
    assert issues == []
    assert rows[0][0] == {"name": "A-site", "country_code": "FR", "vars": {"note": "a,b"}}
    assert rows[1][0]["devices"] == [{"mac": "5c5b35000001"}] and rows[1][0]["site_groups"] == ["stores"]
    assert rows[1][0]["latlng"] == {"lat": 1.5, "lng": 2.5}
    sites[0]["vars"] = {"pipe": "a|b"}
    with pytest.raises(NotCsvSafe, match="holds '|'"):
        sites_csv(sites)


def test_sites_lacking_planned_variables_are_placed_only_when_asked() -> None:
    live = _live()
    live.site_vars = {  # a plan's subnets and VLANs, without its gateways, netmasks, zone ids...
        "s1": {"mgmt_subnet": "10.0.4.0/24", "mgmt_vlan": "10", "data_subnet": "10.0.5.0/24", "data_vlan": "20"},
        "s2": {"mgmt_subnet": "10.0.8.0/24", "mgmt_vlan": "10", "data_subnet": "10.0.9.0/24", "data_vlan": "20"},
    }
    exact = build_fleet(live)
    assert "ip_plan" not in exact.fleet and exact.inference is not None
    assert "the plan would add them" in exact.inference.misfits["B-site"]
    placed = build_fleet(live, complete=False)
    assert placed.fleet["ip_plan"]["scheme"] == "hierarchical"
    assert all("zone" in s and "vars" not in s for s in placed.fleet["sites"])
