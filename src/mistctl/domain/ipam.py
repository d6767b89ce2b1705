"""The IP plan as records: what `mistctl ipam` prints and the API can return (pure, from a `Fleet`)."""

from __future__ import annotations

from typing import Any

from mistctl.domain.errors import FleetError
from mistctl.domain.fleet import Fleet, Site
from mistctl.domain.ipplan import dotted, merge_variables, plan_site


def ipam_records(fleet: Fleet, site_name: str | None = None, *, variables: bool = True) -> list[dict[str, Any]]:
    """One record per site (or just `site_name`): site, zone, number, segments and merged variables
    (`variables=False`: without them, for a table that does not show them)."""
    sites = fleet.sites if site_name is None else [_one_site(fleet, site_name)]
    zones = {z.id: z for z in fleet.zones}
    records: list[dict[str, Any]] = []
    for site in sites:
        if fleet.ip_plan is None or site.zone is None or site.number is None:
            records.append({"site": site.name, "zone": None, "number": None, "segments": [],
                            **({"vars": dict(site.vars)} if variables else {})})  # plan-less: its own variables
            continue
        plan = plan_site(fleet.ip_plan, zones[site.zone], site.number)
        segments = [  # as str(s.cidr) and str(s.gateway) would write them, without building ipaddress objects
            {"name": s.name, "vlan": s.vlan, "cidr": f"{dotted(s.address)}/{s.prefix}",
             "gateway": dotted(s.address + 1)}
            for s in plan.segments
        ]
        record = {"site": site.name, "zone": site.zone, "number": site.number, "segments": segments}
        if variables:
            record["vars"] = merge_variables(plan.vars(), site.vars, site.overrides)
        records.append(record)
    return records


def _one_site(fleet: Fleet, name: str) -> Site:
    site = fleet.site(name)
    if site is None:
        shown = ", ".join(s.name for s in fleet.sites[:5]) + (", ..." if len(fleet.sites) > 5 else "")
        raise FleetError(f"no site named '{name}' in the fleet (sites: {shown or 'none'})")
    return site
