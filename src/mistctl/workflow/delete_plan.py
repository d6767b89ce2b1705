"""The read side of deletes: what mistctl manages (the store's object map) and the live lists to check it.

`read_for_deletes` runs between the read phase and the diff (its lists join the live state, so the
fingerprint a saved plan is checked with covers them); `add_deletes` appends the deletes to the plan.
"""

from __future__ import annotations

import asyncio

from mistctl.domain import kinds as K
from mistctl.domain.deletes import DELETE_ORDER, Managed, already_gone, compute_deletes, kinds_to_check
from mistctl.domain.desired import DesiredState
from mistctl.domain.diff import LiveState
from mistctl.domain.plan import Plan
from mistctl.store.port import StateStore
from mistctl.workflow.owners import another_owners
from mistctl.workflow.ports import MistApi
from mistctl.workflow.read import INVENTORY_QUERY


async def managed_objects(store: StateStore, org_id: str, owner: str | None = None) -> dict[str, dict[str, str]]:
    """Kind -> natural key -> Mist id of every object mistctl created or adopted in the org.

    With an `owner`, only its objects and those recorded without one: another owner's objects are never
    this run's to delete (they are not missing from this fleet: it never named them).
    """
    found = await asyncio.gather(*(store.get_objects(org_id, k.key) for k in DELETE_ORDER))
    return {k.key: {key: ref.mist_id for key, ref in refs.items() if not another_owners(ref, owner)}
            for k, refs in zip(DELETE_ORDER, found, strict=True)}


async def read_for_deletes(mist: MistApi, store: StateStore, desired: DesiredState, live: LiveState,
                           owner: str | None = None) -> Managed:
    """List the kinds deletes need that the read phase skipped; the inventory when a site may go."""
    managed = await managed_objects(store, live.org_id, owner)
    missing = [k for k in kinds_to_check(managed) if k.key not in live.objects]
    lists = await asyncio.gather(*(mist.list_org(live.org_id, k.collection) for k in missing))
    for kind, objs in zip(missing, lists, strict=True):
        if kind is K.HUB_PROFILES:
            objs = [o for o in objs if o.get("type") == "gateway"]
        live.objects[kind.key] = objs
    if _sites_leaving(desired, live, managed) and not live.inventory:
        live.inventory = await mist.list_org(live.org_id, "inventory", **INVENTORY_QUERY)
    return managed


def _sites_leaving(desired: DesiredState, live: LiveState, managed: Managed) -> bool:
    live_ids = {str(s.get("id")) for s in live.objects.get(K.SITES.key, [])}
    return any(key not in desired.sites and mist_id in live_ids
               for key, mist_id in managed.get(K.SITES.key, {}).items())


async def adopt_unchanged(store: StateStore, plan: Plan, desired: DesiredState) -> int:
    """Record the objects a plan found already as wanted (unchanged) as managed: mistctl adopted them.

    Created and updated objects are recorded when written; without this, an object that matched the
    fleet from the start would never be deleted once the fleet drops it. Returns how many were new.
    """
    kinds = {k.key for k in DELETE_ORDER}
    found = [c for c in plan.changes if c.action == "noop" and c.mist_id and c.kind in kinds]
    known = {k: await store.get_objects(plan.org_id, k) for k in {c.kind for c in found}}
    fresh = [c for c in found if c.key not in known[c.kind]]
    for change in fresh:
        obj = desired.sites[change.key].site if change.kind == K.SITES.key else desired.org[change.kind][change.key]
        await store.put_object(plan.org_id, change.kind, change.key, str(change.mist_id), obj.hash(), plan.owner)
    return len(fresh)


def add_deletes(plan: Plan, desired: DesiredState, live: LiveState, managed: Managed) -> None:
    """Append the deletes (last, in delete order) and the deletes refused to the plan."""
    changes, problems = compute_deletes(desired, live, managed)
    plan.changes.extend(changes)
    plan.problems.extend(problems)
    plan.gone = already_gone(desired, live, managed)
