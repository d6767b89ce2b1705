"""The recorded sites grouped by the IP plan each was deployed with, one picture per plan.

A site records its fleet's `ip_plan` when it is deployed (`SiteState.ip_plan`): an org holding fleets
on 10.0.0.0/8 and on 172.16.0.0/12 shows both plans, each with its own sites. A site recorded before
plans were kept is drawn in the service design's plan, and says so. Zone names come from the design
when the plan is the design's, else from what the sites recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError

from mistctl.domain.desired import canonical_hash
from mistctl.domain.fleet import Fleet, IpPlanSpec, Zone
from mistctl.store.models import SiteState
from mistctl.web.ipam_view import IpamModel, Placement, ipam_model

DESIGN = "design"


@dataclass
class PlanGroup:
    """One IP plan and the sites deployed with it."""

    key: str  # `design`, or the first 12 hex of the plan's hash (the picture's `?plan=`)
    spec: IpPlanSpec
    is_design: bool
    places: list[Placement] = field(default_factory=list)
    states: dict[int, Counter[str]] = field(default_factory=dict)
    zone_names: dict[int, str] = field(default_factory=dict)
    legacy: int = 0  # sites with no recorded plan, drawn here because this is the design's plan
    model: IpamModel | None = None

    @property
    def label(self) -> str:
        what = f"{self.spec.scheme} plan of {self.spec.supernet}"
        return f"{what} (the service's design)" if self.is_design else what

    def add(self, state: SiteState, zone: int | None) -> None:
        self.places.append((state.name, zone, state.number))
        if zone is not None:
            self.states.setdefault(zone, Counter())[state.status] += 1
            if state.zone_name:
                self.zone_names.setdefault(zone, state.zone_name)


def recorded_plan(state: SiteState) -> IpPlanSpec | None:
    """The IP plan the site was deployed with, when recorded (and still readable)."""
    try:
        return IpPlanSpec.model_validate(state.ip_plan) if state.ip_plan else None
    except ValidationError:
        return None


def plan_groups(design: Fleet, sites: list[SiteState]) -> list[PlanGroup]:
    """The plans of the recorded sites (the design's first, when it has one), each with its sites."""
    groups: dict[str, PlanGroup] = {}
    design_hash = canonical_hash(design.ip_plan.model_dump(mode="json")) if design.ip_plan else None
    if design.ip_plan is not None:
        groups[DESIGN] = PlanGroup(DESIGN, design.ip_plan, True)
    seen: dict[str, tuple[str, IpPlanSpec] | None] = {}  # the plan as stored -> its group key and spec
    for state in sites:
        zone = int(state.zone) if state.zone and state.zone.isdigit() else None
        stored = json.dumps(state.ip_plan, sort_keys=True) if state.ip_plan else ""
        if stored not in seen:  # thousands of sites share a few plans: validate and hash each plan once
            spec = recorded_plan(state)
            digest = canonical_hash(spec.model_dump(mode="json")) if spec is not None else ""
            seen[stored] = (DESIGN if digest == design_hash else digest[:12], spec) if spec is not None else None
        found = seen[stored]
        if found is None:
            if DESIGN in groups:
                groups[DESIGN].add(state, zone)
                groups[DESIGN].legacy += 1
            continue
        key, spec = found
        groups.setdefault(key, PlanGroup(key, spec, False)).add(state, zone)
    designed = {z.id: z.name for z in design.zones}
    shown = [g for g in groups.values() if g.places or g.is_design]
    for group in shown:
        names = {**group.zone_names, **(designed if group.is_design else {})}
        zones = [Zone(id=z, name=n) for z, n in sorted(names.items())]
        group.model = ipam_model(group.spec, zones, group.places)
    return shown
