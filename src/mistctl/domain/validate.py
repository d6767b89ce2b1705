"""Offline validation of a fleet: the IP plan, zones and sites (org objects: `validate_org`,
`{{variable}}` reach: `validate_vars`). Every rule adds an `Issue` naming the item and the fix;
nothing stops at the first problem, so the user sees all of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mistctl.domain.errors import Issue
from mistctl.domain.fleet import Fleet, IpPlanSpec, OrgDesign, Site, Zone
from mistctl.domain.ipplan import (
    Layout,
    check_place,
    compile_layout,
    layout_problems,
    planned_names,
    reserved_hits,
)
from mistctl.domain.origins import Origins
from mistctl.domain.validate_org import check_org
from mistctl.domain.validate_vars import check_variables
from mistctl.domain.variables import VARIABLE_NAME_RE

_SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def validate_fleet(fleet: Fleet, origins: Origins | None = None) -> list[Issue]:
    """Every problem of a fleet built in code (files are validated as they are parsed)."""
    return validate_parts(fleet.ip_plan, fleet.zones, fleet.org, fleet.sites, origins or Origins("fleet"))


def validate_parts(
    plan: IpPlanSpec | None, zones: list[Zone], org: OrgDesign, sites: list[Site], origins: Origins
) -> list[Issue]:
    """Every problem of a fleet's parsed parts; `plan` is None when its section did not parse."""
    issues: list[Issue] = []
    layout = None
    if plan is not None:
        issues += check_plan(plan, origins)
        # A bad VLAN does not stop planning; only a spec with no usable layout does.
        layout = None if layout_problems(plan) else compile_layout(plan)
    issues += check_zones(zones, layout, origins)
    issues += check_sites(sites, zones, plan, layout, origins)
    issues += check_org(org, sites, plan, origins)
    if plan is not None or not any(s.placed for s in sites):  # a broken plan would hide the planned names
        issues += check_variables(org, sites, plan, origins)
    return issues


def check_plan(plan: IpPlanSpec, origins: Origins) -> list[Issue]:
    """The plan spec: prefixes, segments (fit, names, VLANs), reserved ranges."""
    origin = origins.of_plan()
    issues = [Issue.at(origin, "ip_plan", p) for p in layout_problems(plan)]
    vlans: dict[int, str] = {}
    for seg in plan.segments:
        item = f"ip_plan segment '{seg.name}'"
        if not _SEGMENT_NAME.match(seg.name):
            issues.append(
                Issue.at(
                    origin,
                    item,
                    "segment names become variable names ({name}_subnet): use lowercase letters, digits and _",
                )
            )
        if not 1 <= seg.vlan <= 4094:
            issues.append(Issue.at(origin, item, f"vlan {seg.vlan} is outside 1..4094"))
        elif seg.vlan in vlans:
            issues.append(
                Issue.at(
                    origin,
                    item,
                    f"vlan {seg.vlan} is also segment '{vlans[seg.vlan]}': give each segment its own VLAN",
                )
            )
        vlans.setdefault(seg.vlan, seg.name)
    for i, net in enumerate(plan.reserved):
        for other in plan.reserved[:i]:
            if net.overlaps(other):
                issues.append(Issue.at(origin, "ip_plan reserved", f"{net} overlaps {other}: keep one of them"))
    return issues


def check_zones(zones: Sequence[Zone], layout: Layout | None, origins: Origins) -> list[Issue]:
    """Zone ids and names are unique and inside the plan."""
    issues: list[Issue] = []
    seen_ids: dict[int, str] = {}
    seen_names: set[str] = set()
    for i, zone in enumerate(zones):
        origin, item = origins.of_zone(i), f"zone {zone.id} '{zone.name}'"
        if zone.id in seen_ids:
            issues.append(Issue.at(origin, item, f"id {zone.id} is also zone '{seen_ids[zone.id]}': ids are unique"))
        if zone.name in seen_names:
            issues.append(Issue.at(origin, item, f"name '{zone.name}' is used by two zones: names are unique"))
        seen_ids.setdefault(zone.id, zone.name)
        seen_names.add(zone.name)
        if layout is not None and not 1 <= zone.id <= layout.zone_count:
            issues.append(Issue.at(origin, item, _zone_range_fix(zone.id, layout)))
    return issues


def _zone_range_fix(zone_id: int, layout: Layout) -> str:
    if layout.scheme == "octet":
        return (
            f"id {zone_id} is outside 1..{layout.zone_count}: the octet formula would push a second "
            "octet past 255 or onto another segment's; use a smaller id"
        )
    return (
        f"id {zone_id} is outside 1..{layout.zone_count}, the zones the supernet splits into;"
        " use an id in range or raise zone_prefix (more, smaller zones)"
    )


def check_sites(
    sites: Sequence[Site],
    zones: Sequence[Zone],
    plan: IpPlanSpec | None,
    layout: Layout | None,
    origins: Origins,
) -> list[Issue]:
    """Names and (zone, number) unique, zone known, number in capacity, clear of reserved, vars sane."""
    issues: list[Issue] = []
    zone_ids = {z.id for z in zones}
    names: dict[str, int] = {}
    places: dict[tuple[int, int], str] = {}
    devices: dict[str, str] = {}
    planned = frozenset(planned_names(plan)) if plan is not None else frozenset()
    for i, site in enumerate(sites):
        origin, item = origins.of_site(i), f"site '{site.name}'"
        if site.zone is None or site.number is None:  # plan-less: the site's variables are its own
            problems = _planless_problems(site, names, origins, plan)
        else:
            problems = _identity_problems(site, site.zone, site.number, names, places, zone_ids, origins)
            if site.zone in zone_ids and layout is not None:
                problems += _place_problems(site.zone, site.number, layout)
            places.setdefault((site.zone, site.number), site.name)
        problems += _var_problems(site, planned if site.placed else frozenset())
        problems += _device_problems(site, devices)
        names.setdefault(site.name, i)
        issues += [Issue.at(origin, item, p) for p in problems]
    return issues


def _planless_problems(site: Site, names: dict[str, int], origins: Origins, plan: IpPlanSpec | None) -> list[str]:
    problems = []
    if site.name in names:
        where = origins.of_site(names[site.name])
        problems.append(f"the name is also used at {where}: site names must be unique")
    if site.zone is not None or site.number is not None:
        given, absent = ("zone", "number") if site.zone is not None else ("number", "zone")
        fix = "add it to place the site in the IP plan" if plan is not None else "add ip_plan and zones"
        problems.append(f"has {given} but no {absent}: give both ({fix}) or neither (the site keeps its own vars)")
    return problems


def _identity_problems(
    site: Site,
    zone: int,
    number: int,
    names: dict[str, int],
    places: dict[tuple[int, int], str],
    zone_ids: set[int],
    origins: Origins,
) -> list[str]:
    problems = []
    if site.name in names:
        where = origins.of_site(names[site.name])
        problems.append(f"the name is also used at {where}: site names must be unique")
    if zone not in zone_ids:
        known = ", ".join(str(z) for z in sorted(zone_ids)) or "none"
        problems.append(f"zone {zone} is not defined in zones (defined: {known}): fix zone or add it")
    elif (zone, number) in places:
        other = places[(zone, number)]
        problems.append(
            f"zone {zone} number {number} is also site '{other}': give each site its own number in its zone"
        )
    return problems


def _place_problems(zone: int, number: int, layout: Layout) -> list[str]:
    problem = check_place(layout, zone, number)
    if problem is not None:
        return [problem]
    hits = reserved_hits(layout, zone, number)
    if not hits:
        return []
    held = ", ".join(str(h) for h in hits)
    return [
        f"its addresses overlap reserved {held}: use another number (reserved ranges are never "
        "allocated, and skipping them would move other sites)"
    ]


def _var_problems(site: Site, planned: frozenset[str]) -> list[str]:
    problems = []
    for name in site.vars:
        if not VARIABLE_NAME_RE.match(name):
            problems.append(f"variable name '{name}' cannot be referenced as {{{{{name}}}}}: use letters, digits and _")
        elif planned and name in planned and name not in site.overrides:
            problems.append(
                f"variable '{name}' clashes with the planned variable of that name: add it "
                "to the site's overrides if the site means to replace it, else rename it"
            )
    for name in site.overrides:
        if planned and name not in planned:
            problems.append(f"overrides lists '{name}', which is not a planned variable: remove it")
        elif name not in site.vars:
            problems.append(f"overrides lists '{name}' but vars gives no value for it: add it to vars")
    return problems


def _device_problems(site: Site, seen: dict[str, str]) -> list[str]:
    problems = []
    for device in site.devices:
        key = device.key
        if key in seen:
            problems.append(f"device {key} is also listed at site '{seen[key]}': a device belongs to one site")
        seen.setdefault(key, site.name)
    return problems
