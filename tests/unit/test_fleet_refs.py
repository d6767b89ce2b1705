"""The reference table and the `{{variable}}` helpers the engine shares with validation."""

from __future__ import annotations

from mistctl.domain import kinds as K
from mistctl.domain.refs import OWN_KEYS, REFS, describe, identity, ref_values, refs_of, walk
from mistctl.domain.variables import find_variables, is_variable, substitute


def test_every_ref_names_real_kinds():
    keys = set(K.BY_KEY)
    assert all(r.kind_key in keys and r.target_kind_key in keys for r in REFS)
    assert {r.field for r in refs_of("sites")} == {"gateway_template", "switch_template", "rf_template", "site_groups"}


def test_walk_paths():
    gw = {
        "port_config": {"ge-0/0/1": {"networks": ["a", "b"]}, "ge-0/0/2": {"port_network": "c"}},
        "ip_configs": {"a": {}, "d": {}},
        "service_policies": [{"services": ["x"]}, {"services": ["y", "any"]}, "junk"],
    }
    by_field = {r.field: r for r in refs_of("gateway_templates")}
    assert ref_values(gw, by_field["port_config.*.networks"]) == ["a", "b"]
    assert ref_values(gw, by_field["port_config.*.port_network"]) == ["c"]
    assert ref_values(gw, by_field["ip_configs.<keys>"]) == ["a", "d"]
    assert ref_values(gw, by_field["service_policies[].services"]) == ["x", "y", "any"]
    assert list(walk({"a": 1}, "b.c")) == [] and list(walk({"a": [1]}, "a[].b")) == []


def test_identity_and_description():
    wlan = {"ssid": "Corp", "template": "wifi"}
    assert identity("wlans", wlan) == "wifi/Corp"
    assert identity("wlan_policies", {"order": 2, "template": "wifi"}) == "wifi/2"
    assert identity("networks", {"name": "data"}) == "data"
    assert identity("networks", {}) is None
    assert describe("wlans", wlan, 0) == "WLAN 'Corp' (template 'wifi')"
    assert describe("wlan_policies", {"order": 2, "template": "wifi"}, 0) == "WLAN policy order 2 (template 'wifi')"
    assert describe("psks", {}, 3) == "PSK #4 in org.psks"


def test_own_keys_are_never_mist_fields():
    from mistctl.domain.mist_fields import FIELDS

    assert all(not (keys & FIELDS[kind]) for kind, keys in OWN_KEYS.items())


def test_find_variables_walks_keys_values_and_lists():
    obj = {"a": "{{x}}/{{ y }}", "b": [1, {"{{k}}": "no var"}], "c": ("{{t}}",), "d": "{{not-a-var}}"}
    assert find_variables(obj) == {"x", "y", "k", "t"}
    assert find_variables("plain") == set() and find_variables(None) == set()


def test_substitute_replaces_defined_and_keeps_the_rest():
    obj = {"ip": "{{gw}}", "mask": "/{{prefix}}", "{{port}}": ["{{unknown}}", 5]}
    out = substitute(obj, {"gw": "10.0.0.1", "prefix": "24", "port": "ge-0/0/1"})
    assert out == {"ip": "10.0.0.1", "mask": "/24", "ge-0/0/1": ["{{unknown}}", 5]}
    assert obj["ip"] == "{{gw}}"  # the input is untouched


def test_is_variable():
    assert is_variable("{{a}}") and is_variable("x{{a}}") and not is_variable("a") and not is_variable(5)
