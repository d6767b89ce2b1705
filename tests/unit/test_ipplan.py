"""The IP plan's formulas, worked examples (the README quotes them) and its errors."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest

from mistctl.domain.errors import PlanError
from mistctl.domain.fleet import IpPlanSpec, Zone
from mistctl.domain.ipam import ipam_records
from mistctl.domain.ipplan import (
    compile_layout,
    merge_variables,
    plan_site,
    planned_names,
    reserved_hits,
    site_variables,
)
from tests.unit.test_fleet_factory import base_fleet, parse

SEGMENTS = [
    {"name": "mgmt", "vlan": 10, "prefix": 24},
    {"name": "data", "vlan": 20, "prefix": 24},
    {"name": "voice", "vlan": 30, "prefix": 25},
    {"name": "guest", "vlan": 40, "prefix": 25},
]
HIER = IpPlanSpec(supernet="10.0.0.0/8", zone_prefix=11, site_prefix=22, segments=SEGMENTS)
OCTET = IpPlanSpec(
    scheme="octet", segments=[{"name": n, "vlan": v} for n, v in (("mgmt", 10), ("data", 20), ("voice", 30))]
)
EAST = Zone(id=1, name="us-east")


def test_hierarchical_worked_example():
    plan = plan_site(HIER, EAST, 5)
    assert plan.block == IPv4Network("10.0.16.0/22")
    assert [str(s.cidr) for s in plan.segments] == ["10.0.16.0/24", "10.0.17.0/24", "10.0.18.0/25", "10.0.18.128/25"]
    guest = plan.segments[3]
    assert (guest.gateway, guest.netmask, guest.prefix, guest.vlan) == (
        IPv4Address("10.0.18.129"),
        IPv4Address("255.255.255.128"),
        25,
        40,
    )


def test_zone_k_starts_at_the_kth_zone_block():
    assert plan_site(HIER, Zone(id=3, name="us-west"), 1).block == IPv4Network("10.64.0.0/22")
    assert plan_site(HIER, Zone(id=8, name="z8"), 2048).block == IPv4Network("10.255.252.0/22")


def test_octet_worked_example():
    plan = plan_site(OCTET, EAST, 5)
    assert [str(s.cidr) for s in plan.segments] == ["10.1.5.0/24", "10.101.5.0/24", "10.151.5.0/24"]
    assert plan.block == IPv4Network("10.1.5.0/24")


def test_octet_takes_the_first_octet_from_the_supernet_and_explicit_offsets():
    spec = IpPlanSpec(
        scheme="octet",
        supernet="172.0.0.0/8",
        segments=[{"name": "a", "vlan": 1, "octet_offset": 10}, {"name": "b", "vlan": 2, "octet_offset": 20}],
    )
    plan = plan_site(spec, Zone(id=3, name="z"), 200)
    assert [str(s.cidr) for s in plan.segments] == ["172.13.200.0/24", "172.23.200.0/24"]
    assert compile_layout(spec).zone_count == 10


def test_planned_variables():
    variables = plan_site(HIER, EAST, 5).vars()
    assert variables["zone_id"] == "1" and variables["zone_name"] == "us-east" and variables["site_number"] == "5"
    assert variables["voice_subnet"] == "10.0.18.0/25"
    assert variables["voice_gateway"] == "10.0.18.1"
    assert variables["voice_netmask"] == "255.255.255.128"
    assert variables["voice_prefix"] == "25"
    assert variables["voice_vlan"] == "30"
    assert set(variables) == set(planned_names(HIER))


def test_segments_are_aligned_to_their_own_size():
    spec = IpPlanSpec(
        zone_prefix=11,
        site_prefix=22,
        segments=[{"name": "a", "vlan": 1, "prefix": 25}, {"name": "b", "vlan": 2, "prefix": 24}],
    )
    plan = plan_site(spec, EAST, 1)
    assert [str(s.cidr) for s in plan.segments] == ["10.0.0.0/25", "10.0.1.0/24"]


@pytest.mark.parametrize(
    ("zone", "number", "expected"),
    [
        (1, 0, "number 0 is past the zone's capacity: a zone holds site numbers 1..2048"),
        (1, 2049, "number 2049 is past the zone's capacity"),
        (9, 1, "zone 9 is outside the plan: the hierarchical plan has zones 1..8"),
    ],
)
def test_places_outside_the_plan_raise_plan_error(zone, number, expected):
    with pytest.raises(PlanError, match=expected):
        plan_site(HIER, Zone(id=zone, name="z"), number)


def test_an_unusable_spec_raises_plan_error():
    spec = IpPlanSpec(zone_prefix=11, site_prefix=24, segments=SEGMENTS)
    with pytest.raises(PlanError, match="the segments need 768 addresses but a /24 site block holds 256"):
        plan_site(spec, EAST, 1)


def test_reserved_hits_for_the_block_and_for_octet_segments():
    spec = HIER.model_copy(update={"reserved": (IPv4Network("10.0.18.0/26"),)})
    layout = compile_layout(spec)
    assert reserved_hits(layout, 1, 5) == [IPv4Network("10.0.18.0/26")]
    assert reserved_hits(layout, 1, 6) == []
    octet = OCTET.model_copy(update={"reserved": (IPv4Network("10.151.0.0/16"),)})
    assert reserved_hits(compile_layout(octet), 1, 7) == [IPv4Network("10.151.0.0/16")]


def test_merge_variables_applies_the_override_rule():
    planned = {"data_vlan": "20", "zone_id": "1"}
    assert merge_variables(planned, {"x": "1"}, []) == {"data_vlan": "20", "zone_id": "1", "x": "1"}
    assert merge_variables(planned, {"data_vlan": "21"}, ["data_vlan"])["data_vlan"] == "21"
    with pytest.raises(PlanError, match="site variables data_vlan clash with planned variables"):
        merge_variables(planned, {"data_vlan": "21"}, [])


def test_site_variables_of_a_loaded_fleet():
    data = base_fleet()
    data["sites"][0]["vars"] = {"store_code": "NYC1", "data_vlan": "21"}
    data["sites"][0]["overrides"] = ["data_vlan"]
    fleet = parse(data)
    variables = site_variables(fleet, fleet.sites[0])
    assert variables["store_code"] == "NYC1" and variables["data_vlan"] == "21"
    assert variables["data_subnet"] == "10.0.1.0/24"


def test_ipam_records_shape():
    fleet = parse(base_fleet())
    records = ipam_records(fleet, "W1")
    assert records == [
        {
            "site": "W1",
            "zone": 2,
            "number": 1,
            "segments": [
                {"name": "mgmt", "vlan": 10, "cidr": "10.32.0.0/24", "gateway": "10.32.0.1"},
                {"name": "data", "vlan": 20, "cidr": "10.32.1.0/24", "gateway": "10.32.1.1"},
                {"name": "voice", "vlan": 30, "cidr": "10.32.2.0/25", "gateway": "10.32.2.1"},
                {"name": "guest", "vlan": 40, "cidr": "10.32.2.128/25", "gateway": "10.32.2.129"},
            ],
            "vars": site_variables(fleet, fleet.sites[2]),
        }
    ]
    assert len(ipam_records(fleet)) == 3


def test_ipam_records_without_variables_are_the_same_records_less_their_variables() -> None:
    from pathlib import Path

    from mistctl.domain.ipam import ipam_records
    from mistctl.fleetio import load_fleet

    fleet = load_fleet(Path(__file__).resolve().parents[2] / "examples" / "fleet.yaml")
    full, bare = ipam_records(fleet), ipam_records(fleet, variables=False)
    assert [{k: v for k, v in r.items() if k != "vars"} for r in full] == bare
    assert all("vars" in r for r in full) and full[0]["segments"][0]["cidr"].count(".") == 3
