"""The fleet's plan-less rules: when `ip_plan` may be left out, and CSV rows placed from their vars.

A site without `zone` and `number` has no place in the IP plan and keeps only its own variables; a
fleet whose sites are all such needs no `ip_plan` (nor `zones`). A sites-CSV row without zone and
number (a mist_library CSV) is placed in the plan when its variables fit it (`placement.place`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mistctl.domain.errors import Issue
from mistctl.domain.fleet import IpPlanSpec, Site
from mistctl.domain.iplayout import layout_problems
from mistctl.domain.placement import place


def missing_plan_issue(source: str, sites: Sequence[Site], org_objects: int) -> Issue | None:
    """The problem of a fleet without `ip_plan`, if it has one: nothing at all, or placed sites."""
    if not sites and not org_objects:
        return Issue(source, "ip_plan", "is missing: add ip_plan with scheme and segments")
    if any(s.placed for s in sites):
        return Issue(source, "ip_plan", "is missing: sites with zone and number need ip_plan (scheme and "
                     "segments); a site without them keeps its own vars")
    return None


def place_row(plan: IpPlanSpec | None, zones: Mapping[int, str], row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row without zone and number, placed in the plan when its vars fit it (else as it was)."""
    variables = row.get("vars")
    if plan is None or "zone" in row or "number" in row or not isinstance(variables, dict):
        return row
    if layout_problems(plan):
        return row
    found = place(plan, zones, variables)
    return {**row, "zone": found.zone, "number": found.number, "vars": found.own} if found.fits else row
