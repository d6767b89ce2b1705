"""Properties of the IP plan, over generated specs and sites (hypothesis)."""

from __future__ import annotations

import random
from ipaddress import IPv4Network

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mistctl.domain.errors import PlanError
from mistctl.domain.fleet import Fleet, IpPlanSpec, Site, Zone
from mistctl.domain.ipplan import compile_layout, layout_problems, plan_site, reserved_hits, site_variables
from mistctl.domain.origins import Origins
from mistctl.domain.validate import check_sites

settings.register_profile("ipplan", deadline=None, max_examples=60)
settings.load_profile("ipplan")


@st.composite
def hierarchical_specs(draw, with_reserved: bool = False) -> IpPlanSpec:
    net_prefix = draw(st.integers(8, 16))
    supernet = IPv4Network((draw(st.integers(0, (1 << net_prefix) - 1)) << (32 - net_prefix), net_prefix))
    zone_prefix = draw(st.integers(net_prefix, net_prefix + 4))
    site_prefix = draw(st.integers(zone_prefix, min(zone_prefix + 11, 28)))
    prefixes = draw(st.lists(st.integers(site_prefix, 30), min_size=1, max_size=4))
    segments = [{"name": f"s{i}", "vlan": i + 1, "prefix": p} for i, p in enumerate(prefixes)]
    reserved = []
    if with_reserved:
        for _ in range(draw(st.integers(1, 3))):
            prefix = draw(st.integers(site_prefix - 2 if site_prefix > net_prefix + 2 else site_prefix, 30))
            offset = draw(st.integers(0, (1 << (prefix - net_prefix)) - 1)) << (32 - prefix)
            reserved.append(str(IPv4Network((int(supernet.network_address) + offset, prefix))))
    spec = IpPlanSpec(
        supernet=str(supernet), zone_prefix=zone_prefix, site_prefix=site_prefix, segments=segments, reserved=reserved
    )
    assume(not layout_problems(spec))
    return spec


@st.composite
def spec_and_places(draw, with_reserved: bool = False) -> tuple[IpPlanSpec, list[tuple[int, int]]]:
    spec = draw(hierarchical_specs(with_reserved))
    layout = compile_layout(spec)
    place = st.tuples(st.integers(1, layout.zone_count), st.integers(1, layout.capacity))
    return spec, draw(st.lists(place, min_size=1, max_size=25, unique=True))


def _ranges(spec: IpPlanSpec, places: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for zone_id, number in places:
        for seg in plan_site(spec, Zone(id=zone_id, name=f"z{zone_id}"), number).segments:
            out.append((int(seg.cidr.network_address), int(seg.cidr.broadcast_address)))
    return sorted(out)


@given(spec_and_places())
def test_no_two_segments_of_any_two_sites_overlap(case):
    spec, places = case
    ranges = _ranges(spec, places)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in zip(ranges, ranges[1:], strict=False))


@given(spec_and_places())
def test_every_segment_lies_in_its_site_block_and_the_supernet(case):
    spec, places = case
    for zone_id, number in places:
        plan = plan_site(spec, Zone(id=zone_id, name="z"), number)
        assert plan.block.subnet_of(spec.supernet)
        assert all(seg.cidr.subnet_of(plan.block) for seg in plan.segments)
        assert all(seg.gateway in seg.cidr and seg.gateway != seg.cidr.network_address for seg in plan.segments)


@given(spec_and_places(with_reserved=True))
def test_sites_that_validate_stay_outside_reserved_and_the_others_are_rejected(case):
    spec, places = case
    layout = compile_layout(spec)
    zones = [Zone(id=z, name=f"z{z}") for z in range(1, layout.zone_count + 1)]
    sites = [Site(name=f"s{z}-{n}", zone=z, number=n) for z, n in places]
    rejected = {i.item for i in check_sites(sites, zones, spec, layout, Origins("f")) if "reserved" in i.message}
    for site in sites:
        plan = plan_site(spec, Zone(id=site.zone, name="z"), site.number)
        touches = any(seg.cidr.overlaps(r) for seg in plan.segments for r in spec.reserved)
        hits_block = bool(reserved_hits(layout, site.zone, site.number))
        assert (f"site '{site.name}'" in rejected) == hits_block
        assert not touches or hits_block  # a site with a segment in reserved is always rejected


@given(spec_and_places(), st.randoms(use_true_random=False))
def test_a_site_plan_depends_only_on_its_zone_and_number(case, rnd: random.Random):
    spec, places = case
    layout = compile_layout(spec)
    zones = [Zone(id=z, name=f"z{z}") for z in range(1, layout.zone_count + 1)]
    sites = [Site(name=f"s{z}-{n}", zone=z, number=n) for z, n in places]
    alone = Fleet(ip_plan=IpPlanSpec.model_validate(spec.model_dump()), zones=zones, sites=sites[:1])
    shuffled = sites[1:] + sites[:1]
    rnd.shuffle(shuffled)
    crowd = Fleet(ip_plan=spec, zones=list(reversed(zones)), sites=shuffled)
    assert site_variables(alone, sites[0]) == site_variables(crowd, sites[0])
    assert site_variables(crowd, sites[0]) == site_variables(crowd, sites[0])


@given(st.integers(1, 50), st.integers(1, 255))
def test_the_octet_formula_holds(zone_id, number):
    spec = IpPlanSpec(
        scheme="octet", segments=[{"name": n, "vlan": v} for n, v in (("mgmt", 10), ("data", 20), ("voice", 30))]
    )
    plan = plan_site(spec, Zone(id=zone_id, name="z"), number)
    assert [seg.cidr for seg in plan.segments] == [
        IPv4Network(f"10.{zone_id}.{number}.0/24"),
        IPv4Network(f"10.{100 + zone_id}.{number}.0/24"),
        IPv4Network(f"10.{150 + zone_id}.{number}.0/24"),
    ]


@given(hierarchical_specs())
def test_capacity_edges_are_rejected_cleanly(spec):
    layout = compile_layout(spec)
    last_zone = Zone(id=layout.zone_count, name="last")
    assert plan_site(spec, last_zone, layout.capacity).block.subnet_of(spec.supernet)
    for zone, number in (
        (last_zone, layout.capacity + 1),
        (last_zone, 0),
        (Zone(id=layout.zone_count + 1, name="x"), 1),
    ):
        with pytest.raises(PlanError):
            plan_site(spec, zone, number)
    sites = [Site(name="over", zone=last_zone.id, number=layout.capacity + 1)]
    issues = check_sites(sites, [last_zone], spec, layout, Origins("f"))
    assert [i.item for i in issues] == ["site 'over'"]
    assert f"site numbers 1..{layout.capacity}" in issues[0].message
