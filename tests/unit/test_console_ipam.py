"""The IP plan picture: blocks per zone counted as allocated, reserved or free, aggregated into cells,
and drawn as SVG with every text escaped."""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from mistctl.domain.fleet import IpPlanSpec, SegmentSpec, Zone
from mistctl.web.ipam_svg import LEGEND, render_ipam_svg
from mistctl.web.ipam_view import MAX_CELLS, ipam_model

SEGMENTS = (SegmentSpec(name="mgmt", vlan=10, prefix=24), SegmentSpec(name="data", vlan=20, prefix=24))
ZONES = [Zone(id=1, name="us-east"), Zone(id=2, name="us-west")]


def hierarchical(reserved: tuple[str, ...] = ()) -> IpPlanSpec:
    """10/8 in /11 zones of /22 sites: 8 zones of 2,048 blocks."""
    return IpPlanSpec(supernet=IPv4Network("10.0.0.0/8"), zone_prefix=11, site_prefix=22, segments=SEGMENTS,
                      reserved=tuple(IPv4Network(r) for r in reserved))


def test_blocks_are_allocated_by_the_sites_zone_and_number_and_capacity_left_is_counted() -> None:
    sites = [(f"s{n}", 1, n) for n in range(1, 41)] + [("west", 2, 2048), ("unplaced", None, None)]
    model = ipam_model(hierarchical(), ZONES, sites)
    east, west = model.zones[0], model.zones[1]
    assert (east.name, east.where, east.allocated, east.free) == ("us-east", "10.0.0.0/11", 40, 2008)
    assert (west.where, west.allocated, west.free) == ("10.32.0.0/11", 1, 2047)
    assert len(model.zones) == 8 and model.zones[2].name is None  # the plan has room for 8 zones
    assert model.blocks_per_cell == 2048 // MAX_CELLS == 16
    assert [c.allocated for c in east.cells[:4]] == [16, 16, 8, 0]
    assert [c.state for c in east.cells[:4]] == ["alloc3", "alloc3", "alloc2", "free"]
    assert west.cells[-1].allocated == 1 and west.cells[-1].state == "alloc1"
    assert model.cell_addresses(east, east.cells[0]) == "10.0.0.0-10.0.63.255"


def test_reserved_ranges_take_blocks_and_a_site_on_one_counts_as_allocated() -> None:
    model = ipam_model(hierarchical(("10.255.0.0/16", "10.0.0.0/21")), ZONES, [("dc-clash", 1, 1)])
    east, last = model.zones[0], model.zones[7]
    assert (east.allocated, east.reserved, east.free) == (1, 1, 2046)  # /21: blocks 1 and 2, one taken
    assert east.cells[0].state == "alloc1"
    assert (last.reserved, last.free) == (64, 1984)  # a /16 is 64 blocks of /22 at the zone's end
    assert [c.state for c in last.cells[-4:]] == ["reserved"] * 4 and last.cells[-5].state == "free"
    assert ("10.255.0.0/16", int(IPv4Network("10.255.0.0/16").network_address),
            int(IPv4Network("10.255.0.0/16").broadcast_address)) in model.reserved


def test_sites_the_plan_cannot_place_are_listed() -> None:
    model = ipam_model(hierarchical(), ZONES, [("far", 9, 1), ("big", 1, 5000), ("ok", 1, 1)])
    assert model.outside == ("big", "far") and model.outside_count == 2 and model.allocated == 1


def test_the_octet_scheme_has_a_cell_per_site_and_partly_reserved_cells() -> None:
    spec = IpPlanSpec(scheme="octet", supernet=IPv4Network("10.0.0.0/8"),
                      segments=(SegmentSpec(name="mgmt", vlan=10), SegmentSpec(name="data", vlan=20)),
                      reserved=(IPv4Network("10.101.7.0/24"),))
    model = ipam_model(spec, ZONES, [("a", 1, 3)])
    east = model.zones[0]
    assert model.capacity == 255 and model.blocks_per_cell == 2 and east.where == "10.1.0.0/16, 10.101.0.0/16"
    assert east.reserved == 1 and east.cells[3].state == "res-part"  # site 7 of zone 1: data 10.101.7.0/24
    assert east.cells[1].allocated == 1 and model.cell_addresses(east, east.cells[0]) == ""


def test_plans_with_many_zones_draw_only_designed_and_used_ones() -> None:
    spec = IpPlanSpec(supernet=IPv4Network("10.0.0.0/8"), zone_prefix=16, site_prefix=24,
                      segments=(SegmentSpec(name="mgmt", vlan=10, prefix=24),))
    model = ipam_model(spec, ZONES, [("x", 200, 1)])
    assert [z.id for z in model.zones] == [1, 2, 200] and model.hidden_zones == 253


def test_the_svg_escapes_names_and_has_a_title_per_cell() -> None:
    zones = [Zone(id=1, name='<b onload="x">east</b>'), Zone(id=2, name="west & co")]
    svg = str(render_ipam_svg(ipam_model(hierarchical(("10.255.0.0/16",)), zones, [("s", 1, 1)])))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b onload" not in svg and "&lt;b onload=" in svg and "west &amp; co" in svg
    titled = svg.count("<title>")  # every rect but the legend's has a title (the svg's own has an id)
    assert svg.count("<rect") == titled + len(LEGEND) and titled > 8 * MAX_CELLS
    assert 'role="img"' in svg and 'aria-labelledby="ipam-title ipam-desc"' in svg
    assert re.search(r"Zone 1, sites 1-16 \(10\.0\.0\.0-10\.0\.63\.255\): 1 allocated, 15 free", svg)
    assert "<style>" not in svg and "<style>" in str(render_ipam_svg(ipam_model(hierarchical(), zones, []),
                                                                     standalone=True))
