"""Plan-less sites (no zone and number: their variables are their own) and `${NAME}` secrets."""

from __future__ import annotations

from typing import Any

import yaml

from mistctl.domain.envrefs import env_name, expand
from mistctl.domain.fleet import Zone
from mistctl.domain.ipam import ipam_records
from mistctl.domain.ipplan import site_variables
from mistctl.domain.parse import parse_fleet
from mistctl.workflow.deploy import desired_state
from tests.unit.test_fleet_factory import base_fleet, issues_of, only_issue, parse

_OWN = {"data_subnet": "192.168.7.0/24", "data_vlan": "7"}


def _planless(data: dict[str, Any]) -> dict[str, Any]:
    for site in data["sites"]:
        site.pop("zone"), site.pop("number")
        site["vars"] = dict(_OWN)
    return data


def test_a_site_without_zone_and_number_keeps_its_own_variables_only():
    data = base_fleet()
    data["sites"].append({"name": "Odd", "vars": dict(_OWN)})
    fleet = parse(data)
    odd = fleet.site("Odd")
    assert odd is not None and not odd.placed and odd.zone is None
    assert site_variables(fleet, odd) == _OWN
    placed = site_variables(fleet, fleet.sites[0])
    assert placed["data_subnet"] == "10.0.1.0/24" and placed["site_number"] == "1"
    desired = desired_state(fleet)
    assert desired.sites["Odd"].vars == _OWN and desired.sites["Odd"].zone == 0
    assert ipam_records(fleet, "Odd") == [{"site": "Odd", "zone": None, "number": None, "segments": [],
                                           "vars": _OWN}]


def test_a_planless_site_may_use_planned_names_without_overrides():
    data = base_fleet()
    data["sites"].append({"name": "Odd", "vars": {**_OWN, "mgmt_subnet": "172.16.0.0/24"}})
    assert parse(data).site("Odd") is not None


def test_a_planless_site_must_define_the_variables_its_templates_use():
    data = base_fleet()
    data["sites"].append({"name": "Odd", "vars": {"data_vlan": "7"}})
    issue = only_issue(data)
    assert "uses {{data_subnet}}, which is not defined for 1 of the 4 sites" in issue.message
    assert "(Odd)" in issue.message


def test_zone_without_number_is_an_error():
    data = base_fleet()
    data["sites"].append({"name": "Half", "zone": 1, "vars": dict(_OWN)})
    issue = only_issue(data)
    assert issue.item == "site 'Half'" and "has zone but no number: give both" in issue.message


def test_a_fleet_without_ip_plan_and_zones_is_valid_when_every_site_is_planless():
    data = _planless(base_fleet())
    del data["ip_plan"], data["zones"]
    fleet = parse(data)
    assert fleet.ip_plan is None and fleet.zones == []
    assert site_variables(fleet, fleet.sites[1]) == _OWN


def test_a_placed_site_needs_the_ip_plan():
    data = base_fleet()
    del data["ip_plan"]
    messages = [i.message for i in issues_of(data)]
    assert any(m.startswith("is missing: sites with zone and number need ip_plan") for m in messages)


def test_secret_references_are_read_from_the_environment():
    data = base_fleet()
    data["org"]["wlans"][0]["auth"]["psk"] = "${CORP_PSK}"
    data["org"]["psks"][0]["passphrase"] = "${IOT_PASS}"
    fleet = parse(data, env={"CORP_PSK": "from-the-env-1", "IOT_PASS": "from-the-env-2"})
    assert fleet.org.wlans[0]["auth"]["psk"] == "from-the-env-1"
    assert fleet.org.psks[0]["passphrase"] == "from-the-env-2"
    assert "from-the-env" not in repr(fleet)


def test_an_unset_secret_reference_is_named():
    data = base_fleet()
    data["org"]["wlans"][0]["auth"]["psk"] = "${CORP_PSK}"
    issue = only_issue(data, env={})
    assert issue.item == "WLAN 'Corp' (template 'wifi')"
    assert issue.message == "auth.psk is ${CORP_PSK}, which is not set: export CORP_PSK (the secret's value)"


def test_references_outside_secret_fields_are_left_alone():
    obj = {"name": "${NOT_A_SECRET}", "auth": {"psk": "${A}", "note": "${A}"}, "servers": [{"secret": "${B}"}]}
    out, unset = expand(obj, {"A": "aaaaaaaa"})
    assert out == {"name": "${NOT_A_SECRET}", "auth": {"psk": "aaaaaaaa", "note": "${A}"},
                   "servers": [{"secret": "${B}"}]}
    assert [(u.path, u.name) for u in unset] == [("servers[0].secret", "B")]


def test_env_names():
    assert env_name("wlan", "Corp Wi-Fi", "psk") == "WLAN_CORP_WI_FI_PSK"
    assert env_name("7eleven") == "MIST_7ELEVEN"


def test_csv_rows_without_zone_and_number_are_placed_from_their_vars():
    data = base_fleet()
    data["sites"] = "sites.csv"
    fleet0 = parse(base_fleet())
    assert fleet0.ip_plan is not None
    planned = site_variables(fleet0, fleet0.sites[2])  # W1: zone 2 number 1
    assert planned["zone_name"] == Zone(id=2, name="west").name
    fits = "|".join(f"{k}:{v}" for k, v in planned.items() if k.endswith(("_subnet", "_vlan")))
    text = ("#name,vars\n"
            f'Fits,"{fits}|owner:ada"\n'
            'Odd,"data_subnet:192.168.9.0/24|data_vlan:9|mgmt_subnet:192.168.8.0/24|voice_subnet:x|guest_subnet:y"\n')
    fleet = parse_fleet(yaml.safe_dump(data), source="fleet.yaml", read_file=lambda _name: text)
    fits_site, odd = fleet.site("Fits"), fleet.site("Odd")
    assert fits_site is not None and (fits_site.zone, fits_site.number) == (2, 1)
    assert fits_site.vars == {"owner": "ada"}
    assert site_variables(fleet, fits_site) == {**planned, "owner": "ada"}
    assert odd is not None and not odd.placed and odd.vars["mgmt_subnet"] == "192.168.8.0/24"
