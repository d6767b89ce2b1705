"""Parsing the fleet file: defaults merged, values normalised, CSV sites, lines in messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mistctl.domain.errors import FleetInvalid
from mistctl.domain.parse import parse_fleet
from mistctl.domain.sites_csv import parse_sites_csv
from tests.unit.test_fleet_factory import base_fleet, issues_of, only_issue, parse

CSV = """#name,address,zone,number,sitegroup_names,gatewaytemplate_name,networktemplate_name,rftemplate_name,vars
C1,"1 Main St, Springfield",1,10,"stores, outlets",,,,"store_code:C1|note:a:b"
C2,2 Elm St,2,10,,spoke,,,"store_code:C2,region:west"
"""


def _files(**files: str):
    def read(name: str) -> str:
        if name not in files:
            raise FileNotFoundError(2, "No such file or directory", name)
        return files[name]

    return read


def test_site_defaults_are_merged_into_every_site():
    data = base_fleet()
    data["site_defaults"]["vars"] = {"region": "na", "tier": 1}
    data["site_defaults"]["timezone"] = "America/New_York"
    data["sites"][0].update({"timezone": "America/Chicago", "vars": {"tier": "2"}, "site_groups": ["flagship"]})
    data["org"]["site_groups"].append({"name": "flagship"})
    data["sites"][1]["switch_template"] = None
    fleet = parse(data)
    s1, s2, w1 = fleet.sites
    assert (s1.timezone, s2.timezone) == ("America/Chicago", "America/New_York")
    assert s1.vars == {"region": "na", "tier": "2"} and w1.vars == {"region": "na", "tier": "1"}
    assert s1.site_groups == ["flagship"] and s2.site_groups == ["stores"]
    assert s2.switch_template is None and w1.switch_template == "access"
    assert fleet.site_defaults.timezone == "America/New_York"


def test_overrides_from_defaults_and_site_are_joined():
    data = base_fleet()
    data["site_defaults"].update({"vars": {"guest_vlan": "41"}, "overrides": ["guest_vlan"]})
    data["sites"][0].update({"vars": {"data_vlan": "21"}, "overrides": ["data_vlan", "guest_vlan"]})
    fleet = parse(data)
    assert fleet.sites[0].overrides == ["guest_vlan", "data_vlan"]
    assert fleet.sites[1].overrides == ["guest_vlan"]


def test_variable_values_become_strings_and_nested_values_are_refused():
    data = base_fleet()
    data["sites"][0]["vars"] = {"n": 7, "on": True, "ratio": 0.5, "empty": None}
    assert parse(data).sites[0].vars == {"n": "7", "on": "true", "ratio": "0.5", "empty": ""}
    data["sites"][0]["vars"] = {"bad": {"a": 1}}
    assert "site variable values are strings: quote the value" in only_issue(data).message


def test_device_refs_are_normalised():
    data = base_fleet()
    data["sites"][0]["devices"] = [{"mac": "5C-5B-35-00-00-01", "name": "gw"}, {"claim_code": " 6jg8e-ptfv2 a9z2n "}]
    devices = parse(data).sites[0].devices
    assert devices[0].mac == "5c5b35000001" and devices[0].key == "mac:5c5b35000001"
    # Mist keeps claim codes upper case without dashes (spec: addOrgInventory's example)
    assert devices[1].claim_code == "6JG8EPTFV2A9Z2N" and devices[1].key == "claim_code:6JG8EPTFV2A9Z2N"


@pytest.mark.parametrize("code", ["ABCDEF123", "6JG8E-PTFV2-A9Z2N-X", "6JG8E_PTFV2_A9Z2"])
def test_a_claim_code_that_is_not_15_letters_and_digits_is_named(code: str) -> None:
    data = base_fleet()
    data["sites"][0]["devices"] = [{"claim_code": code}]
    message = only_issue(data).message
    assert f"claim code '{code}' is not 15 letters and digits once dashes and spaces are removed" in message


def test_the_same_claim_code_written_two_ways_is_one_device() -> None:
    data = base_fleet()
    data["sites"][0]["devices"] = [{"claim_code": "6JG8EPTFV2A9Z2N"}]
    data["sites"][1]["devices"] = [{"claim_code": "6jg8e-ptfv2-a9z2n"}]
    assert "is also listed at site 'S1'" in only_issue(data).message


def test_sites_from_a_csv_file_named_by_the_fleet():
    data = base_fleet()
    data["org"]["site_groups"].append({"name": "outlets"})
    data["sites"] = "sites.csv"
    fleet = parse(data, read_file=_files(**{"sites.csv": CSV}))
    c1, c2 = fleet.sites
    assert c1.address == "1 Main St, Springfield" and c1.site_groups == ["stores", "outlets"]
    assert c1.vars == {"store_code": "C1", "note": "a:b"}
    assert c1.gateway_template == "spoke" and c1.switch_template == "access"  # empty cells: defaults apply
    assert c2.vars == {"store_code": "C2", "region": "west"} and c2.site_groups == ["stores"]


def test_csv_entries_mix_with_inline_sites():
    data = base_fleet()
    data["org"]["site_groups"].append({"name": "outlets"})
    data["sites"].append({"csv": "more/sites.csv"})
    fleet = parse(data, read_file=_files(**{"more/sites.csv": CSV}))
    assert [s.name for s in fleet.sites] == ["S1", "S2", "W1", "C1", "C2"]


def test_csv_problems_name_the_csv_file_and_row():
    text = CSV + "C3,3 Oak St,1,10,,,,,\nC4,x,1\n"
    data = base_fleet()
    data["org"]["site_groups"].append({"name": "outlets"})
    data["sites"] = "sites/all.csv"
    issues = issues_of(data, read_file=_files(**{"sites/all.csv": text}))
    by_item = {i.item: i for i in issues}
    assert by_item["CSV row 5"].file == "sites/all.csv" and by_item["CSV row 5"].line == 5
    assert "has 3 cells but the header names 9" in by_item["CSV row 5"].message
    assert by_item["site 'C3'"].line == 4 and "zone 1 number 10 is also site 'C1'" in by_item["site 'C3'"].message


def test_csv_paths_in_messages_are_relative_to_the_fleet_file():
    data = base_fleet()
    data["sites"] = "sites.csv"
    text = "#name,zone,number\nX,7,1\n"
    from tests.unit.test_fleet_factory import yaml

    with pytest.raises(FleetInvalid) as caught:
        parse_fleet(yaml.safe_dump(data), source="deploy/fleet.yaml", read_file=_files(**{"sites.csv": text}))
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.item) == ("deploy/sites.csv", 2, "site 'X'")


def test_csv_header_rules():
    rows, issues = parse_sites_csv("name,zone,number\n", source="s.csv")
    assert not rows and "first line must start with '#'" in issues[0].message
    _, issues = parse_sites_csv(
        "#name,zone,number,gatewaytemplate_id,site_group_ids,aptemplate_name,adress\n", source="s.csv"
    )
    messages = {i.item: i.message for i in issues}
    assert "use 'gatewaytemplate_name'" in messages["CSV column 'gatewaytemplate_id'"]
    assert "use 'site_group_names'" in messages["CSV column 'site_group_ids'"]
    assert "not supported by mistctl" in messages["CSV column 'aptemplate_name'"]
    assert "did you mean 'address'?" in messages["CSV column 'adress'"]
    _, issues = parse_sites_csv("#address,zone\n", source="s.csv")
    assert [i.message for i in issues] == ["add the 'name' column"]
    # zone and number are optional: mist_library CSVs have none (the site is placed from its vars)
    rows, issues = parse_sites_csv('#name,address,vars\nA,1 Main St,"k:v"\n', source="s.csv")
    assert not issues and rows[0][0] == {"name": "A", "address": "1 Main St", "vars": {"k": "v"}}


def test_csv_extra_columns_and_bad_cells():
    text = (
        "#name,zone,number,lat,lng,overrides,devices,vars\n"
        'A,1,1,40.7,-74.0,data_vlan,"mac:5c5b35000001|serial:SN1|claim_code:CC1","data_vlan:21"\n'
        "# a comment row\n"
        'B,1,2,north,,,"imei:1","novalue"\n'
    )
    rows, issues = parse_sites_csv(text, source="s.csv")
    a = rows[0][0]
    assert a["latlng"] == {"lat": 40.7, "lng": -74.0} and a["overrides"] == ["data_vlan"]
    assert a["devices"] == [{"mac": "5c5b35000001"}, {"serial": "SN1"}, {"claim_code": "CC1"}]
    assert sorted(i.message for i in issues) == [
        "devices: 'imei' is not one of mac, serial, claim_code",
        "lat and lng must both be decimal degrees, e.g. 40.7128 and -74.0060",
        "vars: item 1 is not key:value; write \"key1:value1|key2:value2\"",
    ]
    assert {i.line for i in issues} == {4}


def test_missing_csv_file_and_no_reader():
    data = base_fleet()
    data["sites"] = "gone.csv"
    assert (
        "cannot read the CSV file 'gone.csv': No such file or directory" in only_issue(data, read_file=_files()).message
    )
    assert "no file reader was given" in only_issue(data).message


def test_messages_carry_the_line_of_the_site_and_object():
    text = """ip_plan:
  zone_prefix: 11
  site_prefix: 22
  segments: [{name: mgmt, vlan: 10, prefix: 24}]
zones: [{id: 1, name: east}]
org:
  networks:
    - name: a
    - name: b
      vlan_id: 9999
sites:
  - {name: A, zone: 1, number: 1}
  - {name: B, zone: 4, number: 1}
"""
    issues = issues_of(text)
    assert [(i.line, i.item) for i in issues] == [(9, "network 'b'"), (13, "site 'B'")]
    assert str(issues[1]).startswith("fleet.yaml:13: site 'B': zone 4 is not defined")


def test_empty_and_non_mapping_files():
    assert "is empty" in only_issue("").message
    assert "must be a mapping" in only_issue("- a\n- b\n").message


def test_missing_sections():
    messages = [i.message for i in issues_of("org_id: abc\n")]
    assert messages == ["is missing: add ip_plan with scheme and segments"]
    # with ip_plan, zones are required
    messages = [i.message for i in issues_of({"ip_plan": base_fleet()["ip_plan"]})]
    assert messages == ["add zones as a list of {id: 1, name: us-east}"]


def test_the_report_lists_every_issue():
    data = base_fleet()
    data["sites"].append({"name": "S1", "zone": 3, "number": 1})
    with pytest.raises(FleetInvalid) as caught:
        parse(data)
    report = str(caught.value)
    assert report.splitlines()[0] == "2 problems in the fleet:"
    assert all(str(i) in report for i in caught.value.issues)


def test_fleet_helpers():
    fleet = parse(base_fleet())
    assert fleet.zone(2) is not None and fleet.zone(2).name == "west" and fleet.zone(3) is None
    assert fleet.site("W1") is fleet.sites[2] and fleet.site("nope") is None
    assert fleet.org.count() == 11


def test_reprs_never_show_secrets():
    data = base_fleet()
    data["org"]["wlans"][0]["auth_servers"] = [{"host": "10.255.1.20", "secret": "radius-s3cret"}]
    fleet = parse(data)
    shown = repr(fleet) + str(fleet.org)
    assert "another-long-pass" not in shown and "long-enough-pass" not in shown and "radius-s3cret" not in shown
    assert fleet.org.psks[0]["passphrase"] == "another-long-pass"  # the data itself is intact


_junk = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=6) | st.just("{{x}}"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _paths(value, (*prefix, i))


def _fuzz_base():
    # The base fleet, with a site variable of its own in use, so variable reach is computed too.
    data = base_fleet()
    data["site_defaults"]["vars"] = {"store_code": "x"}
    data["org"]["wlans"][0]["vlan_id"] = "{{store_code}}"
    data["org"]["networks"][0]["gateway"] = "{{store_code}}"
    return data


_BASE_PATHS = [p for p in _paths(_fuzz_base()) if p]


@settings(deadline=None, max_examples=300)
@given(st.sampled_from(_BASE_PATHS), _junk)
def test_any_broken_value_gives_issues_never_a_crash(path, junk):
    data = _fuzz_base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    try:
        parse(data)
    except FleetInvalid as exc:
        assert exc.issues and all(i.message for i in exc.issues)
