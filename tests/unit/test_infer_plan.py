"""Inferring the IP plan from sites' variables: the inverse of `plan_site` for both schemes."""

from __future__ import annotations

import random

from mistctl.domain.fleet import IpPlanSpec, SegmentSpec, Zone
from mistctl.domain.infer_plan import infer
from mistctl.domain.ipplan import plan_site
from mistctl.domain.placement import place

HIER = IpPlanSpec(supernet="10.0.0.0/8", zone_prefix=11, site_prefix=22, segments=(  # type: ignore[arg-type]
    SegmentSpec(name="mgmt", vlan=10, prefix=24), SegmentSpec(name="data", vlan=20, prefix=24),
    SegmentSpec(name="voice", vlan=30, prefix=25)))
OCTET = IpPlanSpec(scheme="octet", supernet="10.0.0.0/8", segments=(  # type: ignore[arg-type]
    SegmentSpec(name="mgmt", vlan=10), SegmentSpec(name="data", vlan=20), SegmentSpec(name="voice", vlan=30)))
ZONES = {1: "east", 2: "west", 3: "south"}


def _sites(spec: IpPlanSpec, places: list[tuple[int, int]], extra: bool = True) -> dict[str, dict[str, str]]:
    out = {}
    for zone, number in places:
        variables = plan_site(spec, Zone(id=zone, name=ZONES[zone]), number).vars()
        if extra:
            variables["store_manager"] = f"m{zone}{number}"
        out[f"S-{zone}-{number}"] = variables
    return out


def _check_round_trip(spec: IpPlanSpec, places: list[tuple[int, int]]) -> None:
    sites = _sites(spec, places)
    found = infer(sites)
    assert found.spec is not None and found.misfits == {}
    for name, variables in sites.items():
        p = found.placements[name]
        zone = Zone(id=p.zone or 0, name=found.zones[p.zone or 0])
        assert p.own == {"store_manager": variables["store_manager"]}
        assert {**plan_site(found.spec, zone, p.number or 0).vars(), **p.own} == variables


def test_a_hierarchical_plan_is_recovered():
    places = [(1, 1), (1, 2), (1, 3), (2, 1), (2, 7), (3, 4)]
    _check_round_trip(HIER, places)
    found = infer(_sites(HIER, places))
    assert found.spec is not None and found.spec.scheme == "hierarchical"
    assert [(s.name, s.vlan, s.prefix) for s in found.spec.segments] == [
        ("mgmt", 10, 24), ("data", 20, 24), ("voice", 30, 25)]
    assert found.zones == ZONES
    assert (found.placements["S-2-7"].zone, found.placements["S-2-7"].number) == (2, 7)


def test_an_octet_plan_is_recovered():
    places = [(1, 1), (1, 2), (2, 9), (3, 200)]
    _check_round_trip(OCTET, places)
    found = infer(_sites(OCTET, places))
    assert found.spec is not None and found.spec.scheme == "octet"
    assert [s.octet_offset for s in found.spec.segments] == [0, 100, 150]


def test_irregular_sites_are_left_planless_with_a_reason():
    sites = _sites(HIER, [(1, 1), (1, 2), (2, 3), (2, 4)])
    sites["Odd"] = {**sites["S-1-1"], "mgmt_subnet": "10.200.76.0/24"}  # moved by hand
    sites["Bare"] = {"mgmt_subnet": "172.16.5.0/24", "mgmt_vlan": "10"}
    found = infer(sites)
    assert found.spec is not None
    assert set(found.misfits) == {"Odd", "Bare"}
    assert "zone_id is 1 where the plan gives 7" in found.misfits["Odd"]
    assert "mgmt_subnet 172.16.5.0/24 is not at the mgmt segment's place" in found.misfits["Bare"]
    assert found.zones == {1: "east", 2: "west"}
    assert found.placements["Bare"].own == sites["Bare"]


def test_no_plan_when_every_site_is_irregular():
    rng = random.Random(4)
    sites = {f"S{i}": {"mgmt_subnet": f"10.{rng.randrange(256)}.{rng.randrange(256)}.0/24",
                       "mgmt_vlan": str(rng.randrange(2, 4000))} for i in range(8)}
    found = infer(sites)
    # a partial plan cannot fit: the sites lack the planned gateway, netmask, zone... variables
    assert found.spec is None and len(found.misfits) == 8
    assert found.placements["S3"].own == sites["S3"]


def test_placement_against_a_given_plan_leaves_the_rest_own():
    variables = {"mgmt_subnet": "10.32.4.0/24", "mgmt_vlan": "10", "data_subnet": "10.32.5.0/24", "owner": "x"}
    p = place(HIER, ZONES, variables)
    assert (p.zone, p.number, p.own) == (2, 2, {"owner": "x"})
    incomplete = place(HIER, ZONES, variables, complete=True)
    assert not incomplete.fits and "the plan would add them" in str(incomplete.reason)
    assert "zones lacks" in str(place(HIER, {1: "east"}, variables).reason)
