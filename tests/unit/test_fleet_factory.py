"""A small valid fleet for the fleet/validation tests to break one rule at a time (and its own checks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from mistctl.domain.errors import FleetInvalid, Issue
from mistctl.domain.fleet import Fleet
from mistctl.domain.parse import parse_fleet

_BASE: dict[str, Any] = {
    "ip_plan": {
        "supernet": "10.0.0.0/8",
        "zone_prefix": 11,
        "site_prefix": 22,
        "segments": [
            {"name": "mgmt", "vlan": 10, "prefix": 24},
            {"name": "data", "vlan": 20, "prefix": 24},
            {"name": "voice", "vlan": 30, "prefix": 25},
            {"name": "guest", "vlan": 40, "prefix": 25},
        ],
        "reserved": ["10.255.0.0/16"],
    },
    "zones": [{"id": 1, "name": "east"}, {"id": 2, "name": "west"}],
    "org": {
        "site_groups": [{"name": "stores"}],
        "applications": [{"name": "dc", "type": "custom", "addresses": ["10.255.0.0/16"]}],
        "networks": [{"name": "data", "subnet": "{{data_subnet}}", "vlan_id": "{{data_vlan}}"}],
        "gateway_templates": [
            {
                "name": "spoke",
                "port_config": {"ge-0/0/1": {"usage": "lan", "networks": ["data"]}},
                "service_policies": [{"name": "to-dc", "tenants": ["data"], "services": ["dc"], "action": "allow"}],
            }
        ],
        "switch_templates": [
            {
                "name": "access",
                "networks": {"data": {"vlan_id": "{{data_vlan}}"}},
                "port_usages": {"desk": {"mode": "access", "port_network": "data"}},
            }
        ],
        "wlan_templates": [{"name": "wifi", "applies_to": {"site_groups": ["stores"]}}],
        "rf_templates": [{"name": "rf"}],
        "wlans": [{"ssid": "Corp", "template": "wifi", "auth": {"type": "psk", "psk": "long-enough-pass"}}],
        "labels": [{"name": "scanners", "type": "match", "match": "psk_role", "values": ["scanner"]}],
        "wlan_policies": [
            {"order": 1, "template": "wifi", "src_wxtags": ["scanners"], "dst_allow_wxtags": [], "dst_deny_wxtags": []}
        ],
        "psks": [{"name": "iot", "ssid": "Corp", "passphrase": "another-long-pass"}],
    },
    "site_defaults": {
        "gateway_template": "spoke",
        "switch_template": "access",
        "rf_template": "rf",
        "site_groups": ["stores"],
        "country_code": "US",
    },
    "sites": [
        {"name": "S1", "zone": 1, "number": 1},
        {"name": "S2", "zone": 1, "number": 2},
        {"name": "W1", "zone": 2, "number": 1},
    ],
}


def base_fleet() -> dict[str, Any]:
    """A fresh copy of the valid base fleet, as the YAML's data."""
    return copy.deepcopy(_BASE)


def parse(data: dict[str, Any], **kwargs: Any) -> Fleet:
    """Dump the data as YAML and parse it like a fleet file named fleet.yaml."""
    return parse_fleet(yaml.safe_dump(data, sort_keys=False), source="fleet.yaml", **kwargs)


def issues_of(data: dict[str, Any] | str, **kwargs: Any) -> list[Issue]:
    """The issues a fleet raises (it must raise)."""
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(FleetInvalid) as caught:
        parse_fleet(text, source="fleet.yaml", **kwargs)
    return caught.value.issues


def only_issue(data: dict[str, Any] | str, **kwargs: Any) -> Issue:
    """The single issue a fleet with one mistake raises."""
    issues = issues_of(data, **kwargs)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_the_base_fleet_is_valid():
    fleet = parse(base_fleet())
    assert [s.name for s in fleet.sites] == ["S1", "S2", "W1"]
    assert fleet.sites[0].gateway_template == "spoke"


def test_the_base_fleet_raises_nothing_when_every_kind_is_present():
    fleet = parse(base_fleet())
    assert fleet.org.count() == 11
