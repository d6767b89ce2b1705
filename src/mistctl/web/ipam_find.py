"""Which site and segment an address belongs to in the design's IP plan, or that it is not in the plan.

Pure arithmetic on the compiled layout (the inverse of `domain.ipplan.plan_site`): hierarchical, the
zone and site number follow from the address's offset in the supernet; octet, from its second octet (the
segment's offset plus the zone) and third octet (the site number). The sites recorded at that zone and
number are then named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import AddressValueError, IPv4Address

from mistctl.domain.fleet import IpPlanSpec
from mistctl.domain.iplayout import Layout, compile_layout
from mistctl.domain.ipplan import dotted
from mistctl.store.models import SiteState

MAX_TEXT = 64


@dataclass(frozen=True)
class Segment:
    name: str
    vlan: int
    cidr: str
    gateway: str


@dataclass
class Found:
    """Where an address falls: its zone and site number, the segment holding it, and the sites there."""

    address: str
    zone: int | None = None
    zone_name: str | None = None
    number: int | None = None
    block: str | None = None
    segment: Segment | None = None
    reserved: str | None = None
    sites: list[SiteState] = field(default_factory=list)
    problem: str | None = None  # not an address, or not in the plan: why

    @property
    def in_plan(self) -> bool:
        return self.zone is not None


def parse_address(text: str) -> int | None:
    """A dotted IPv4 address (an `/nn` suffix ignored) as an integer, or None."""
    try:
        return int(IPv4Address(text.strip().split("/", 1)[0][:MAX_TEXT]))
    except (AddressValueError, ValueError):
        return None


def _place(layout: Layout, address: int) -> tuple[int, int] | None:
    if layout.scheme == "octet":
        if address >> 24 != layout.base >> 24:
            return None
        second, number = address >> 16 & 255, address >> 8 & 255
        zones = [second - s.offset for s in layout.segs if 1 <= second - s.offset <= layout.zone_count]
        return (zones[0], number) if zones and 1 <= number <= layout.capacity else None
    offset = address - layout.base
    if not 0 <= offset < layout.zone_count * layout.zone_size:
        return None
    return offset // layout.zone_size + 1, offset % layout.zone_size // layout.block_size + 1


def _segment(layout: Layout, zone: int, number: int, address: int) -> Segment | None:
    start = layout.base + (zone - 1) * layout.zone_size + (number - 1) * layout.block_size
    for seg in layout.segs:
        first, prefix = (layout.octet_net(seg, zone, number), 24) if layout.scheme == "octet" else \
            (start + seg.offset, seg.prefix)
        if first <= address < first + (1 << (32 - prefix)):
            return Segment(seg.name, seg.vlan, f"{dotted(first)}/{prefix}", dotted(first + 1))
    return None


def find_address(spec: IpPlanSpec, zone_names: dict[int, str], sites: list[SiteState], text: str) -> Found:
    """Where `text` (an IPv4 address) falls in the plan, and the recorded sites at that place."""
    address = parse_address(text)
    found = Found(text.strip()[:MAX_TEXT])
    if address is None:
        found.problem = "is not an IPv4 address: write it dotted, like 10.0.4.17"
        return found
    found.address = dotted(address)
    layout = compile_layout(spec)
    for first, last, net in layout.reserved:
        if first <= address <= last:
            found.reserved = str(net)
    place = _place(layout, address)
    if place is None:
        found.problem = f"is not in the plan: the supernet is {spec.supernet} ({layout.scheme})"
        return found
    found.zone, found.number = place
    found.zone_name = zone_names.get(found.zone)
    found.block = ", ".join(f"{dotted(a)}-{dotted(b)}" for a, b in layout.site_ranges(*place))
    found.segment = _segment(layout, found.zone, found.number, address)
    found.sites = [s for s in sites if s.zone == str(found.zone) and s.number == found.number]
    return found
