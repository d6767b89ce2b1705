"""An address found in the IP plan: its zone, site number, segment and the sites recorded there; the
inverse of `plan_site`, checked against it for both schemes; and the picture's readable labels."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from mistctl.domain.fleet import IpPlanSpec, SegmentSpec, Zone
from mistctl.domain.ipplan import plan_site
from mistctl.store.models import SiteState
from mistctl.web.ipam_find import find_address
from mistctl.web.ipam_svg import render_ipam_svg
from mistctl.web.ipam_view import ipam_model
from tests.unit.test_console_ipam import ZONES, hierarchical

NAMES = {1: "us-east", 2: "us-west"}


def octet() -> IpPlanSpec:
    segments = (SegmentSpec(name="mgmt", vlan=10, prefix=24), SegmentSpec(name="data", vlan=20, prefix=24),
                SegmentSpec(name="voice", vlan=30, prefix=24))
    return IpPlanSpec(scheme="octet", supernet=IPv4Network("10.0.0.0/8"), segments=segments)


@pytest.mark.parametrize("spec", [hierarchical(), octet()], ids=["hierarchical", "octet"])
@pytest.mark.parametrize(("zone", "number"), [(1, 1), (2, 7), (1, 200)])
def test_every_segment_address_finds_its_site_and_segment(spec: IpPlanSpec, zone: int, number: int) -> None:
    planned = plan_site(spec, Zone(id=zone, name=NAMES[zone]), number)
    here = SiteState(org_id="o", name=f'<b>"z{zone}n{number}"', zone=str(zone), number=number)
    other = SiteState(org_id="o", name="elsewhere", zone=str(zone), number=number + 1)
    for seg in planned.segments:
        for host in (0, 1, 2 ** (32 - seg.prefix) - 1):
            found = find_address(spec, NAMES, [other, here], str(seg.cidr.network_address + host))
            assert (found.zone, found.zone_name, found.number) == (zone, NAMES[zone], number)
            assert found.segment is not None and (found.segment.name, found.segment.vlan) == (seg.name, seg.vlan)
            assert found.segment.cidr == str(seg.cidr) and found.sites == [here]


def test_addresses_outside_the_plan_or_not_addresses_say_so() -> None:
    spec = hierarchical(("10.0.0.0/21",))
    assert find_address(spec, NAMES, [], "192.168.1.10").problem.startswith("is not in the plan")
    assert find_address(spec, NAMES, [], "<script>").problem.startswith("is not an IPv4 address")
    assert find_address(octet(), NAMES, [], "11.1.1.1").problem.startswith("is not in the plan")
    assert find_address(octet(), NAMES, [], "10.99.1.1").problem.startswith("is not in the plan")  # no segment
    unused = find_address(spec, NAMES, [], "10.0.2.9/22")  # the /22's third /24: no segment there
    assert (unused.zone, unused.number, unused.segment, unused.reserved) == (1, 1, None, "10.0.0.0/21")
    assert unused.block == "10.0.0.0-10.0.3.255" and unused.address == "10.0.2.9"


def test_the_picture_labels_its_rows_and_links_designed_zones() -> None:
    svg = str(render_ipam_svg(ipam_model(hierarchical(), ZONES, [("s", 1, 1)])))
    assert '<a href="/ui?zone=1" class="zlink"><text' in svg and '<a href="/ui?zone=3"' not in svg
    assert "sites 1–1,024 from 10.0.0.0</text>" in svg and "sites 1,025–2,048 from 10.16.0.0</text>" in svg
