"""The algorithmic IP plan: a site's addresses from its zone and number alone.

hierarchical (default)
    The supernet is split into zones of `zone_prefix`; zone id k (1-based) is the k-th in address
    order. Site number n (1-based) gets the n-th block of `site_prefix` in its zone:
    ``block = supernet + (k-1) * 2**(32-zone_prefix) + (n-1) * 2**(32-site_prefix)``.
    A zone holds ``2**(site_prefix-zone_prefix)`` sites (a /11 of /22 blocks: numbers 1..2048).
    Segments are carved out of the block in the order written, each aligned to its own size.
octet (the classic formula)
    Segment i is ``{first}.{offset_i + zone}.{number}.0/24`` where `first` is the supernet's first
    octet (a /8) and the offsets default to 0, 100, 150, 200: mgmt 10.{zone}.{site}.0/24,
    data 10.{100+zone}.{site}.0/24, voice 10.{150+zone}.{site}.0/24. Site numbers are 1..255; zone
    ids are 1..Z where Z keeps every second octet distinct and below 256 (50 with the defaults).

Nothing depends on which other sites exist, so adding a site never moves another one. Blocks that
hit `reserved` ranges are rejected by validation, never skipped (skipping would renumber sites
whenever a reserved range changes).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from mistctl.domain.errors import PlanError
from mistctl.domain.fleet import IpPlanSpec, Zone
from mistctl.domain.iplayout import Layout as Layout
from mistctl.domain.iplayout import check_place as check_place
from mistctl.domain.iplayout import compile_layout as compile_layout
from mistctl.domain.iplayout import layout_problems as layout_problems
from mistctl.domain.iplayout import reserved_hits as reserved_hits

if TYPE_CHECKING:
    from mistctl.domain.fleet import Fleet, Site

PLANNED_SUFFIXES = ("subnet", "gateway", "vlan", "netmask", "prefix")


def dotted(address: int) -> str:
    """An IPv4 address as dotted text, without building an `IPv4Address` (planning is a hot loop)."""
    return f"{address >> 24}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """One planned segment of one site. Kept as integers; the `ipaddress` views are built on access."""

    name: str
    vlan: int
    address: int  # the network address
    prefix: int

    @property
    def cidr(self) -> IPv4Network:
        """The segment's network, e.g. 10.0.16.0/24."""
        return IPv4Network((self.address, self.prefix))

    @property
    def gateway(self) -> IPv4Address:
        """The first usable address, which the site's gateway takes."""
        return IPv4Address(self.address + 1)

    @property
    def netmask(self) -> IPv4Address:
        """The dotted netmask, e.g. 255.255.255.0."""
        return IPv4Address(_mask(self.prefix))

    def vars(self) -> dict[str, str]:
        """This segment's planned variables."""
        subnet, gateway, vlan, netmask, prefix = _var_keys(self.name)
        return {
            subnet: f"{dotted(self.address)}/{self.prefix}",
            gateway: dotted(self.address + 1),
            vlan: str(self.vlan),
            netmask: _netmask_text(self.prefix),
            prefix: str(self.prefix),
        }


@functools.cache
def _var_keys(name: str) -> tuple[str, ...]:
    return tuple(f"{name}_{suffix}" for suffix in PLANNED_SUFFIXES)


@functools.cache
def _netmask_text(prefix: int) -> str:
    return dotted(_mask(prefix))


def _mask(prefix: int) -> int:
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class SitePlan:
    """The planned addresses of one site. In the octet scheme `block` is the first segment's /24."""

    zone: Zone
    number: int
    block_address: int
    block_prefix: int
    segments: tuple[SegmentPlan, ...]

    @property
    def block(self) -> IPv4Network:
        """The site's block (hierarchical), or its first segment's /24 (octet)."""
        return IPv4Network((self.block_address, self.block_prefix))

    def vars(self) -> dict[str, str]:
        """The planned site variables: `{seg}_subnet/_gateway/_vlan/_netmask/_prefix`, zone and number."""
        out = {"zone_id": str(self.zone.id), "zone_name": self.zone.name, "site_number": str(self.number)}
        for seg in self.segments:
            out.update(seg.vars())
        return out


def plan_site(spec: IpPlanSpec, zone: Zone, number: int) -> SitePlan:
    """The addresses of site `number` in `zone`; raises `PlanError` when it has no place in the plan."""
    layout = compile_layout(spec)
    problem = check_place(layout, zone.id, number)
    if problem is not None:
        raise PlanError(f"zone {zone.id} site {number}: {problem}")
    if layout.scheme == "octet":
        segments = tuple(SegmentPlan(s.name, s.vlan, layout.octet_net(s, zone.id, number), 24) for s in layout.segs)
        return SitePlan(zone, number, segments[0].address, 24, segments)
    start = layout.base + (zone.id - 1) * layout.zone_size + (number - 1) * layout.block_size
    segments = tuple(SegmentPlan(s.name, s.vlan, start + s.offset, s.prefix) for s in layout.segs)
    return SitePlan(zone, number, start, layout.block_prefix, segments)


def planned_names(spec: IpPlanSpec) -> tuple[str, ...]:
    """The names of the variables the plan gives every site (the same names for all sites)."""
    names = ["zone_id", "zone_name", "site_number"]
    names += [f"{seg.name}_{suffix}" for seg in spec.segments for suffix in PLANNED_SUFFIXES]
    return tuple(names)


def variable_clashes(
    planned: Sequence[str] | Mapping[str, str], own: Mapping[str, str], overrides: Sequence[str]
) -> list[str]:
    """Site variables that would replace a planned one without being listed in `overrides`."""
    return sorted(name for name in own if name in planned and name not in overrides)


def merge_variables(planned: Mapping[str, str], own: Mapping[str, str], overrides: Sequence[str]) -> dict[str, str]:
    """Planned variables with the site's own merged in; a clash not listed in `overrides` is an error."""
    clashes = variable_clashes(planned, own, overrides)
    if clashes:
        raise PlanError(f"site variables {', '.join(clashes)} clash with planned variables: list them in overrides")
    return {**planned, **own}


def site_variables(fleet: Fleet, site: Site) -> dict[str, str]:
    """A site's variables: the planned ones merged with its own (override rules applied).

    A plan-less site (no zone and number) has only its own variables.
    """
    if site.zone is None or site.number is None:
        return dict(site.vars)
    if fleet.ip_plan is None:
        raise PlanError(f"site '{site.name}' has a zone and number but the fleet has no ip_plan")
    zone = fleet.zone(site.zone)
    if zone is None:
        raise PlanError(f"site '{site.name}': zone {site.zone} is not defined in zones")
    planned = plan_site(fleet.ip_plan, zone, site.number).vars()
    try:
        return merge_variables(planned, site.vars, site.overrides)
    except PlanError as exc:
        raise PlanError(f"site '{site.name}': {exc}") from None
