"""One test per validation rule: the rule fires, names the item, and says what to change."""

from __future__ import annotations

from tests.unit.test_fleet_factory import base_fleet, issues_of, only_issue, parse


def _site(name: str, zone: int = 1, number: int = 9, **extra):
    return {"name": name, "zone": zone, "number": number, **extra}


# --- the file itself -------------------------------------------------------------------------------


def test_yaml_syntax_error_names_the_line():
    issue = only_issue("ip_plan:\n  supernet: 10.0.0.0/8\nzones: [\n  {id: 1, name: east\n")
    assert issue.item == "YAML"
    assert issue.line is not None and issue.line >= 4
    assert "YAML syntax error" in issue.message


def test_duplicate_yaml_key_is_reported_with_its_line():
    data = "zones:\n  - {id: 1, name: a, name: b}\n"
    issues = issues_of(data)
    dup = [i for i in issues if "duplicate key 'name'" in i.message]
    assert dup and dup[0].line == 2


def test_unknown_top_level_key_suggests_the_right_one():
    data = base_fleet()
    data["site_default"] = {}
    issue = only_issue(data)
    assert issue.item == "fleet file"
    assert "unknown top-level key 'site_default'; did you mean 'site_defaults'?" in issue.message


def test_unknown_key_in_a_site_names_the_site_and_suggests():
    data = base_fleet()
    data["sites"][1]["zonee"] = 2
    issue = only_issue(data)
    assert issue.item == "site 'S2'"
    assert "unknown key 'zonee'; did you mean 'zone'?" in issue.message


def test_unknown_key_in_the_ip_plan():
    data = base_fleet()
    data["ip_plan"]["site_prefx"] = 22
    issue = only_issue(data)
    assert issue.item == "ip_plan" and "unknown key 'site_prefx'" in issue.message


def test_unknown_org_kind_gives_the_fleet_key_for_a_mist_collection_name():
    data = base_fleet()
    data["org"]["wxtags"] = []
    issue = only_issue(data)
    assert issue.item == "org.wxtags"
    assert "the fleet key is 'labels'" in issue.message


def test_unknown_mist_field_in_an_org_object():
    data = base_fleet()
    data["org"]["networks"][0]["vlan_idd"] = 5
    issue = only_issue(data)
    assert issue.item == "network 'data'"
    assert "unknown field 'vlan_idd' (not in Mist's network schema); did you mean 'vlan_id'?" in issue.message


def test_server_set_field_is_rejected():
    data = base_fleet()
    data["org"]["site_groups"][0]["id"] = "abc"
    assert "'id' is set by Mist: remove it" in only_issue(data).message


def test_id_field_points_to_its_by_name_form():
    data = base_fleet()
    data["org"]["wlans"][0]["template_id"] = "00000000-0000-0000-0000-000000000000"
    assert "'template_id' holds Mist ids: use template: <WLAN template name>" in only_issue(data).message


def test_field_mist_requires_is_missing():
    data = base_fleet()
    del data["org"]["labels"][0]["type"]
    del data["org"]["wlan_policies"][0]["dst_deny_wxtags"]
    messages = sorted(i.message for i in issues_of(data))
    assert messages == [
        "Mist requires 'dst_deny_wxtags': add it (an empty list is fine)",
        "Mist requires 'type': add it",
    ]


def test_wlan_needs_its_template():
    data = base_fleet()
    del data["org"]["wlans"][0]["template"]
    assert "needs template: <WLAN template name>" in only_issue(data).message


def test_hub_profile_type_must_be_gateway():
    data = base_fleet()
    data["org"]["hub_profiles"] = [{"name": "hub", "type": "switch"}]
    assert "type must be gateway" in only_issue(data).message


def test_applies_to_shape():
    data = base_fleet()
    data["org"]["wlan_templates"][0]["applies_to"] = {"groups": ["stores"]}
    assert "applies_to must map site_groups and/or sites to lists of names" in only_issue(data).message


def test_country_code_must_be_two_capitals():
    data = base_fleet()
    data["sites"][0]["country_code"] = "usa"
    issue = only_issue(data)
    assert issue.item == "site 'S1'" and "two capital letters" in issue.message


# --- sites and zones -------------------------------------------------------------------------------


def test_duplicate_site_names():
    data = base_fleet()
    data["sites"].append(_site("S1"))
    issue = only_issue(data)
    assert issue.item == "site 'S1'" and "site names must be unique" in issue.message


def test_duplicate_zone_and_number():
    data = base_fleet()
    data["sites"].append(_site("S3", 1, 2))
    issue = only_issue(data)
    assert issue.item == "site 'S3'"
    assert "zone 1 number 2 is also site 'S2'" in issue.message


def test_unknown_zone():
    data = base_fleet()
    data["sites"].append(_site("X", zone=3))
    issue = only_issue(data)
    assert "zone 3 is not defined in zones (defined: 1, 2)" in issue.message


def test_site_number_past_the_zone_capacity():
    data = base_fleet()
    data["sites"].append(_site("Far", number=2049))
    issue = only_issue(data)
    assert issue.item == "site 'Far'"
    assert "number 2049 is past the zone's capacity: a zone holds site numbers 1..2048" in issue.message


def test_site_number_zero_is_rejected():
    data = base_fleet()
    data["sites"].append(_site("Zero", number=0))
    assert "number 0 is past the zone's capacity" in only_issue(data).message


def test_zone_id_outside_the_plan():
    data = base_fleet()
    data["zones"].append({"id": 9, "name": "nine"})
    issue = only_issue(data)
    assert issue.item == "zone 9 'nine'" and "outside 1..8" in issue.message


def test_duplicate_zone_ids_and_names():
    data = base_fleet()
    data["zones"].append({"id": 1, "name": "east"})
    messages = [i.message for i in issues_of(data)]
    assert any("ids are unique" in m for m in messages) and any("names are unique" in m for m in messages)


def test_block_hitting_a_reserved_range_is_rejected():
    data = base_fleet()
    # zone 8 is 10.224.0.0/11; number 1985 is 10.255.0.0/22, inside reserved 10.255.0.0/16
    data["zones"].append({"id": 8, "name": "eight"})
    data["sites"].append(_site("Dc", zone=8, number=1985))
    issue = only_issue(data)
    assert issue.item == "site 'Dc'"
    assert "overlap reserved 10.255.0.0/16: use another number" in issue.message


def test_device_needs_exactly_one_identifier_and_a_valid_mac():
    data = base_fleet()
    data["sites"][0]["devices"] = [{"mac": "zz"}, {"mac": "5c5b35000001", "serial": "X1"}, {}]
    messages = [i.message for i in issues_of(data)]
    assert "devices #1: mac 'zz' is not 12 hex digits (e.g. 5c5b35000001)" in messages
    assert messages.count("devices #2: a device needs exactly one of claim_code, mac or serial") == 1


def test_device_listed_at_two_sites():
    data = base_fleet()
    data["sites"][0]["devices"] = [{"mac": "5c:5b:35:00:00:01"}]
    data["sites"][1]["devices"] = [{"mac": "5C5B35000001"}]
    issue = only_issue(data)
    assert issue.item == "site 'S2'" and "device mac:5c5b35000001 is also listed at site 'S1'" in issue.message


# --- the IP plan -----------------------------------------------------------------------------------


def test_segments_that_do_not_fit_the_site_block():
    data = base_fleet()
    data["ip_plan"]["site_prefix"] = 24
    issue = only_issue(data)
    assert issue.item == "ip_plan"
    assert "the segments need 768 addresses but a /24 site block holds 256: set site_prefix to 22" in issue.message


def test_segment_prefix_outside_the_block():
    data = base_fleet()
    data["ip_plan"]["segments"][0]["prefix"] = 21
    del data["ip_plan"]["segments"][1]["prefix"]
    messages = [i.message for i in issues_of(data)]
    assert messages == [
        "segment 'mgmt' needs a prefix between /22 (the site block) and /30",
        "segment 'data' needs a prefix between /22 (the site block) and /30",
    ]


def test_segments_larger_than_the_block_suggest_a_site_prefix():
    data = base_fleet()
    data["ip_plan"]["site_prefix"] = 23
    data["ip_plan"]["segments"] = [{"name": "mgmt", "vlan": 1, "prefix": 24}, {"name": "data", "vlan": 2, "prefix": 23}]
    issue = only_issue(data)
    assert issue.item == "ip_plan"
    assert "the segments need 1024 addresses but a /23 site block holds 512: set site_prefix to 22" in issue.message


def test_prefixes_must_nest():
    data = base_fleet()
    data["ip_plan"]["zone_prefix"] = 23
    assert "prefixes must nest" in only_issue(data).message


def test_supernet_with_host_bits():
    data = base_fleet()
    data["ip_plan"]["supernet"] = "10.0.0.1/8"
    issue = only_issue(data)
    assert issue.item == "ip_plan" and "'10.0.0.1/8' has host bits set; write 10.0.0.0/8" in issue.message


def test_invalid_reserved_cidr():
    data = base_fleet()
    data["ip_plan"]["reserved"] = ["10.300.0.0/16"]
    assert "'10.300.0.0/16' is not an IPv4 CIDR" in only_issue(data).message


def test_overlapping_reserved_ranges():
    data = base_fleet()
    data["ip_plan"]["reserved"] = ["10.255.0.0/16", "10.255.1.0/24"]
    assert "10.255.1.0/24 overlaps 10.255.0.0/16" in only_issue(data).message


def test_segment_vlan_outside_range_and_duplicate():
    data = base_fleet()
    data["ip_plan"]["segments"][1]["vlan"] = 5000
    data["ip_plan"]["segments"][3]["vlan"] = 10
    messages = {i.item: i.message for i in issues_of(data)}
    assert messages["ip_plan segment 'data'"] == "vlan 5000 is outside 1..4094"
    assert "vlan 10 is also segment 'mgmt'" in messages["ip_plan segment 'guest'"]


def test_segment_names_must_be_variable_names():
    data = base_fleet()
    data["ip_plan"]["segments"][0]["name"] = "Mgmt-Net"
    issues = issues_of(data)
    assert any("segment names become variable names" in i.message for i in issues)


def test_octet_scheme_needs_a_slash_8_and_rejects_colliding_zones():
    data = base_fleet()
    segments = [{"name": "mgmt", "vlan": 10}, {"name": "data", "vlan": 20}]
    data["ip_plan"] = {"scheme": "octet", "supernet": "10.0.0.0/16", "segments": segments}
    assert "the octet scheme needs a /8 supernet" in only_issue(data).message
    data["ip_plan"]["supernet"] = "10.0.0.0/8"
    data["zones"].append({"id": 120, "name": "far"})
    issue = only_issue(data)
    assert issue.item == "zone 120 'far'" and "outside 1..100" in issue.message


def test_network_subnets_invalid_overlapping_or_inside_the_plan():
    data = base_fleet()
    data["org"]["networks"] += [
        {"name": "bad", "subnet": "192.168.1.1/24"},
        {"name": "dc1", "subnet": "172.16.0.0/16"},
        {"name": "dc2", "subnet": "172.16.5.0/24"},
        {"name": "inplan", "subnet": "10.1.0.0/24"},
        {"name": "reserved-ok", "subnet": "10.255.1.0/24"},
    ]
    messages = {i.item: i.message for i in issues_of(data)}
    assert "has host bits set: write 192.168.1.0/24" in messages["network 'bad'"]
    assert "overlaps network 'dc1'" in messages["network 'dc2'"]
    assert "lies in the site address plan (10.0.0.0/8)" in messages["network 'inplan'"]
    assert "network 'reserved-ok'" not in messages


# --- references ------------------------------------------------------------------------------------


def test_wlan_naming_a_missing_template():
    data = base_fleet()
    data["org"]["wlans"][0]["template"] = "wify"
    issues = issues_of(data)
    wlan = [i for i in issues if i.item == "WLAN 'Corp' (template 'wify')"]
    assert wlan and "template names WLAN template 'wify', which the fleet does not define" in wlan[0].message


def test_site_naming_a_missing_gateway_template_or_site_group():
    data = base_fleet()
    data["sites"][0]["gateway_template"] = "hub"
    data["sites"][0]["site_groups"] = ["shops"]
    messages = sorted(i.message for i in issues_of(data))
    assert messages[0].startswith("gateway_template names gateway template 'hub'")
    assert "add it to org.gateway_templates or fix the name" in messages[0]
    assert messages[1].startswith("site_groups names site group 'shops'")


def test_a_wrong_default_reference_is_one_issue_not_one_per_site():
    data = base_fleet()
    data["site_defaults"]["rf_template"] = "rf2"
    issue = only_issue(data)
    assert issue.item == "site 'S1' and 2 more"


def test_gateway_template_naming_missing_networks_and_applications():
    data = base_fleet()
    gw = data["org"]["gateway_templates"][0]
    gw["port_config"]["ge-0/0/2"] = {"usage": "lan", "networks": ["voice"]}
    gw["service_policies"][0]["services"] = ["dc", "saas", "any"]
    gw["ip_configs"] = {"iot": {"type": "static", "ip": "10.0.0.1", "netmask": "/24"}}
    messages = sorted(i.message for i in issues_of(data))
    assert len(messages) == 3
    assert "ip_configs.<keys> names network 'iot'" in messages[0]
    assert "port_config.*.networks names network 'voice'" in messages[1]
    assert "service_policies[].services names application 'saas'" in messages[2]


def test_switch_template_port_usage_uses_its_own_networks():
    data = base_fleet()
    data["org"]["switch_templates"][0]["port_usages"]["ap"] = {"mode": "trunk", "networks": ["data", "guest"]}
    assert "names network 'guest'" in only_issue(data).message


def test_wlan_policy_labels_and_psk_ssid():
    data = base_fleet()
    data["org"]["wlan_policies"][0]["dst_allow_wxtags"] = ["payments"]
    data["org"]["psks"][0]["ssid"] = "Corp-IoT"
    messages = {i.item: i.message for i in issues_of(data)}
    assert "dst_allow_wxtags names label 'payments'" in messages["WLAN policy order 1 (template 'wifi')"]
    assert "ssid names WLAN 'Corp-IoT'" in messages["PSK 'iot'"]


def test_wlan_template_applies_to_a_missing_site():
    data = base_fleet()
    data["org"]["wlan_templates"][0]["applies_to"]["sites"] = ["S9"]
    assert (
        "applies_to.sites names site 'S9', which the fleet does not define: add it to sites" in only_issue(data).message
    )


def test_duplicate_org_objects():
    data = base_fleet()
    data["org"]["networks"].append({"name": "data"})
    data["org"]["wlans"].append({"ssid": "Corp", "template": "wifi"})
    items = sorted(i.item for i in issues_of(data))
    assert items == ["WLAN 'Corp' (template 'wifi')", "network 'data'"]


def test_same_ssid_in_two_templates_is_fine():
    data = base_fleet()
    data["org"]["wlan_templates"].append({"name": "wifi2"})
    data["org"]["wlans"].append({"ssid": "Corp", "template": "wifi2"})
    parse(data)


# --- variables -------------------------------------------------------------------------------------


def test_variable_undefined_at_some_reached_sites():
    data = base_fleet()
    data["org"]["switch_templates"][0]["port_usages"]["desk"]["description"] = "{{store_code}} desks"
    data["sites"][0]["vars"] = {"store_code": "NYC1"}
    issue = only_issue(data)
    assert issue.item == "switch template 'access'"
    assert "uses {{store_code}}, which is not defined for 2 of the 3 sites it reaches (S2, W1)" in issue.message


def test_variable_defined_in_site_defaults_reaches_every_site():
    data = base_fleet()
    data["org"]["wlans"][0]["vlan_id"] = "{{corp_vlan}}"
    data["site_defaults"]["vars"] = {"corp_vlan": 120}
    fleet = parse(data)
    assert all(s.vars["corp_vlan"] == "120" for s in fleet.sites)


def test_variable_in_a_network_follows_the_templates_that_name_it():
    data = base_fleet()
    data["org"]["networks"][0]["gateway"] = "{{data_gw}}"
    data["sites"][2]["gateway_template"] = None  # W1 has no gateway: the network does not reach it
    data["sites"][0]["vars"] = {"data_gw": "10.0.1.254"}
    issue = only_issue(data)
    assert "not defined for 1 of the 2 sites it reaches (S2)" in issue.message


def test_site_variable_clashing_with_a_planned_one_needs_an_override():
    data = base_fleet()
    data["sites"][0]["vars"] = {"data_vlan": "21"}
    issue = only_issue(data)
    assert issue.item == "site 'S1'"
    assert "variable 'data_vlan' clashes with the planned variable" in issue.message
    data["sites"][0]["overrides"] = ["data_vlan"]
    assert parse(data).sites[0].vars["data_vlan"] == "21"


def test_override_of_something_not_planned_or_without_a_value():
    data = base_fleet()
    data["sites"][0]["overrides"] = ["data_vlans"]
    data["sites"][1]["overrides"] = ["data_vlan"]
    messages = {i.item: i.message for i in issues_of(data)}
    assert "overrides lists 'data_vlans', which is not a planned variable" in messages["site 'S1'"]
    assert "overrides lists 'data_vlan' but vars gives no value for it" in messages["site 'S2'"]


def test_variable_names_must_be_referencable():
    data = base_fleet()
    data["sites"][0]["vars"] = {"store-code": "x"}
    assert "cannot be referenced as {{store-code}}" in only_issue(data).message


# --- Mist value rules ------------------------------------------------------------------------------


def test_ssid_longer_than_32_bytes():
    data = base_fleet()
    data["org"]["wlans"][0]["ssid"] = "Cafe-" + "é" * 14  # 19 characters, 33 bytes
    data["org"]["psks"][0]["ssid"] = data["org"]["wlans"][0]["ssid"]
    issue = only_issue(data)
    assert "ssid is 33 bytes: an SSID holds 1 to 32 bytes" in issue.message


def test_psk_passphrase_outside_8_to_63_never_shows_the_passphrase():
    data = base_fleet()
    data["org"]["psks"][0]["passphrase"] = "s3cr3t!"
    data["org"]["psks"].append({"name": "long", "ssid": "Corp", "passphrase": "L" * 64})
    issues = issues_of(data)
    messages = {i.item: i.message for i in issues}
    assert messages["PSK 'iot'"] == "passphrase is 7 characters: a passphrase has 8 to 63"
    assert messages["PSK 'long'"] == "passphrase is 64 characters: a passphrase has 8 to 63"
    assert not any("s3cr3t" in str(i) or "LLLL" in str(i) for i in issues)


def test_wlan_psk_length():
    data = base_fleet()
    data["org"]["wlans"][0]["auth"]["psk"] = "short"
    assert "auth.psk is 5 characters" in only_issue(data).message


def test_vlans_outside_1_to_4094():
    data = base_fleet()
    data["org"]["networks"][0]["vlan_id"] = 0
    data["org"]["wlans"][0]["vlan_id"] = "5000"
    data["org"]["switch_templates"][0]["networks"]["data"]["vlan_id"] = "vlan20"
    messages = {i.item: i.message for i in issues_of(data)}
    assert messages["network 'data'"] == "vlan_id: VLAN 0 is outside 1..4094"
    assert messages["WLAN 'Corp' (template 'wifi')"] == "vlan_id: VLAN 5000 is outside 1..4094"
    assert (
        "networks.<each>.vlan_id: VLAN 'vlan20' must be a number 1..4094 or a {{variable}}"
        in messages["switch template 'access'"]
    )


# --- all at once -----------------------------------------------------------------------------------


def test_all_problems_are_reported_together_in_file_order():
    data = base_fleet()
    data["ip_plan"]["segments"][0]["vlan"] = 0
    data["org"]["psks"][0]["passphrase"] = "short"
    data["sites"].append(_site("S1"))
    data["sites"].append(_site("Q", zone=5))
    issues = issues_of(data)
    assert len(issues) == 4
    lines = [i.line or 0 for i in issues]
    assert lines == sorted(lines)
