"""A site's place in an IP plan found from its variables: the inverse of `ipplan.plan_site`.

The first segment's `{seg}_subnet` gives the zone and number by the plan's formula; the site fits
when every planned variable it holds has exactly the planned value (and, with `complete`, when it
holds them all: a live site then gets no new variable from the plan). What the plan does not
produce stays the site's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from mistctl.domain.fleet import IpPlanSpec, Zone
from mistctl.domain.ipplan import check_place, compile_layout, plan_site

_SHOWN = 3


@dataclass
class Placement:
    """Where a site fits (zone, number and the variables left its own), or why it does not."""

    zone: int | None = None
    number: int | None = None
    own: dict[str, str] = field(default_factory=dict)
    reason: str | None = None

    @property
    def fits(self) -> bool:
        return self.reason is None


def _subnet(value: str | None) -> IPv4Network | None:
    if value is None:
        return None
    try:
        return IPv4Network(value.strip())
    except ValueError:
        return None


def locate(spec: IpPlanSpec, variables: Mapping[str, str]) -> tuple[int, int] | str:
    """The (zone, number) the first segment's subnet puts the site at, or why there is none."""
    layout = compile_layout(spec)
    seg = layout.segs[0]
    key = f"{seg.name}_subnet"
    net = _subnet(variables.get(key))
    if net is None:
        return f"has no {key} (or it is not a CIDR)" if key not in variables else f"{key} is not a CIDR"
    addr = int(net.network_address)
    if layout.scheme == "octet":
        if net.prefixlen != 24 or addr >> 24 != layout.base >> 24:
            return f"{key} {net} is not a /24 in {spec.supernet}"
        zone, number = (addr >> 16 & 255) - seg.offset, addr >> 8 & 255
    else:
        rel = addr - layout.base - seg.offset
        if net.prefixlen != seg.prefix or rel < 0 or rel % layout.block_size:
            return f"{key} {net} is not at the {seg.name} segment's place in any site block of the plan"
        zone, number = rel // layout.zone_size + 1, rel % layout.zone_size // layout.block_size + 1
    problem = check_place(layout, zone, number)
    return f"{key} {net} falls outside the plan ({problem})" if problem is not None else (zone, number)


def place(
    spec: IpPlanSpec, zones: Mapping[int, str], variables: Mapping[str, str], *, complete: bool = False
) -> Placement:
    """Fit a site's variables to the plan; `zones` names the known zones (a zone not in it does not fit)."""
    where = locate(spec, variables)
    if isinstance(where, str):
        return Placement(own=dict(variables), reason=where)
    zone_id, number = where
    if zone_id not in zones:
        return Placement(own=dict(variables), reason=f"its subnets put it in zone {zone_id}, which zones lacks")
    planned = plan_site(spec, Zone(id=zone_id, name=zones[zone_id]), number).vars()
    wrong = [k for k, v in planned.items() if k in variables and variables[k] != v]
    if wrong:
        shown = "; ".join(f"{k} is {variables[k]} where the plan gives {planned[k]}" for k in wrong[:_SHOWN])
        return Placement(own=dict(variables), reason=f"as zone {zone_id} number {number}: {shown}")
    missing = [k for k in planned if k not in variables]
    if complete and missing:
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        reason = f"lacks {', '.join(missing[:_SHOWN])}{more}: the plan would add them"
        return Placement(own=dict(variables), reason=reason)
    own = {k: v for k, v in variables.items() if k not in planned}
    return Placement(zone_id, number, own)
