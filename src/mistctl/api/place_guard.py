"""One place per site: a single-site request for a zone and number another site of the org already holds is
refused (409, naming the holder) before anything is sent to Mist.

A fleet file is checked whole when it is parsed (two sites of one file never share a place); the service
adds sites one request at a time, so here the request's place is compared with the places the state store
records for the org (every site the CLI, the service or the workers deployed, or tried to; a site only
planned holds nothing yet). While a request runs it also holds the place's own lock (`place_lock`), so two
requests naming one place for two sites at the same moment cannot both pass: the second is a 409 too.
"""

from __future__ import annotations

from mistctl.api.errors import ApiError
from mistctl.domain.errors import PlanError
from mistctl.domain.fleet import Fleet
from mistctl.domain.ipplan import plan_site
from mistctl.store.models import SiteState
from mistctl.store.port import StateStore
from mistctl.workflow.single_site import SiteSpec

PAGE = 1000


def place_lock(spec: SiteSpec) -> str:
    """The name under which a request locks its place (beside its site's name)."""
    return f"zone {spec.zone} number {spec.number}"


async def refuse_held_place(store: StateStore, org_id: str, spec: SiteSpec, fleet: Fleet) -> None:
    """Nothing when no other site of the org holds `spec`'s zone and number; a 409 naming the holder else."""
    held = await _places(store, org_id, but=spec.name)
    holder = held.get((str(spec.zone), spec.number))
    if holder is None:
        return
    taken = {n for (z, n) in held if z == str(spec.zone)}
    free = next(n for n in range(1, spec.number + len(taken) + 2) if n not in taken)
    raise ApiError(409, f"zone {spec.zone} number {spec.number}{_block(fleet, spec)} is held by the site "
                        f"'{holder.name}' of org {org_id}: choose another number (the first free one in "
                        f"zone {spec.zone} is {free}), or deploy '{holder.name}' itself",
                   site=spec.name, org_id=org_id, holder=holder.name, zone_id=spec.zone, number=spec.number)


async def _places(store: StateStore, org_id: str, but: str) -> dict[tuple[str, int], SiteState]:
    """The (zone, number) places the org's recorded sites hold, the site named `but` left out."""
    places: dict[tuple[str, int], SiteState] = {}
    offset = 0
    while True:
        page = await store.list_site_states(org_id, offset=offset, limit=PAGE)
        for state in page:
            if state.zone and state.number and state.status != "planned" and state.name != but:
                places.setdefault((state.zone, state.number), state)
        if len(page) < PAGE:
            return places
        offset += PAGE


def _block(fleet: Fleet, spec: SiteSpec) -> str:
    zone = fleet.zone(spec.zone)
    if fleet.ip_plan is None or zone is None:
        return ""
    try:
        return f" ({plan_site(fleet.ip_plan, zone, spec.number).block})"
    except PlanError:
        return ""
