"""The IP plan as records: what `mistctl ipam` prints and the API can return (pure, from a `Fleet`)."""

from __future__ import annotations

from typing import Any

from mistctl.domain.errors import FleetError
from mistctl.domain.fleet import Fleet, Site
from mistctl.domain.ipplan import merge_variables, plan_site


def ipam_records(fleet: Fleet, site_name: str | None = None) -> list[dict[str, Any]]:
    """One record per site (or just `site_name`): site, zone, number, segments and merged variables."""
    sites = fleet.sites if site_name is None else [_one_site(fleet, site_name)]
    zones = {z.id: z for z in fleet.zones}
    records: list[dict[str, Any]] = []
    for site in sites:
        if fleet.ip_plan is None or site.zone is None or site.number is None:
            records.append({"site": site.name, "zone": None, "number": None, "segments": [],
                            "vars": dict(site.vars)})  # plan-less: its own variables only
            continue
        plan = plan_site(fleet.ip_plan, zones[site.zone], site.number)
        segments = [
            {"name": s.name, "vlan": s.vlan, "cidr": str(s.cidr), "gateway": str(s.gateway)}
            for s in plan.segments
        ]
        variables = merge_variables(plan.vars(), site.vars, site.overrides)
        records.append(
            {
                "site": site.name,
                "zone": site.zone,
                "number": site.number,
                "segments": segments,
                "vars": variables,
            }
        )
    return records


def _one_site(fleet: Fleet, name: str) -> Site:
    site = fleet.site(name)
    if site is None:
        shown = ", ".join(s.name for s in fleet.sites[:5]) + (", ..." if len(fleet.sites) > 5 else "")
        raise FleetError(f"no site named '{name}' in the fleet (sites: {shown or 'none'})")
    return site
