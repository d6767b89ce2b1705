"""The read side of deletes: what mistctl manages (the store's object map) and the live lists to check it.

`read_for_deletes` runs between the read phase and the diff (its lists join the live state, so the
fingerprint a saved plan is checked with covers them); `add_deletes` appends the deletes to the plan.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from mistctl.domain import kinds as K
from mistctl.domain.deletes import DELETE_ORDER, Managed, already_gone, compute_deletes, kinds_to_check
from mistctl.domain.desired import DesiredState
from mistctl.domain.diff import LiveState
from mistctl.domain.owners import Ownership, others_kept
from mistctl.domain.plan import Plan
from mistctl.store.port import StateStore
from mistctl.workflow.owners import another_owners
from mistctl.workflow.ports import MistApi
from mistctl.workflow.read import INVENTORY_QUERY


@dataclass
class ManagedSets:
    """The objects mistctl manages in the org (kind -> natural key -> Mist id): this run's to delete, and
    those of other owners (by owner), which it keeps and names."""

    mine: dict[str, dict[str, str]]
    others: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def every(self) -> dict[str, dict[str, str]]:
        merged = {kind: dict(objs) for kind, objs in self.mine.items()}
        for objs in self.others.values():
            for kind, keyed in objs.items():
                merged.setdefault(kind, {}).update(keyed)
        return merged


async def managed_objects(store: StateStore, org_id: str, ownership: Ownership | None = None) -> ManagedSets:
    """Every object mistctl created or adopted in the org, this run's apart from other owners'.

    Without an ownership, or taking ownership, all are this run's; else its own and those recorded without
    an owner: another owner's objects are not missing from this fleet (it never named them).
    """
    found = await asyncio.gather(*(store.get_objects(org_id, k.key) for k in DELETE_ORDER))
    owner = None if ownership is None or ownership.take else ownership.owner
    sets = ManagedSets({k.key: {} for k in DELETE_ORDER})
    for kind, refs in zip(DELETE_ORDER, found, strict=True):
        for key, ref in refs.items():
            if another_owners(ref, owner):
                sets.others.setdefault(str(ref.owner), {}).setdefault(kind.key, {})[key] = ref.mist_id
            else:
                sets.mine[kind.key][key] = ref.mist_id
    return sets


async def read_for_deletes(mist: MistApi, store: StateStore, desired: DesiredState, live: LiveState,
                           ownership: Ownership | None = None) -> ManagedSets:
    """List the kinds deletes need that the read phase skipped; the inventory when a site may go."""
    sets = await managed_objects(store, live.org_id, ownership)
    managed = sets.mine
    missing = [k for k in kinds_to_check(sets.every()) if k.key not in live.objects]
    lists = await asyncio.gather(*(mist.list_org(live.org_id, k.collection) for k in missing))
    for kind, objs in zip(missing, lists, strict=True):
        if kind is K.HUB_PROFILES:
            objs = [o for o in objs if o.get("type") == "gateway"]
        live.objects[kind.key] = objs
    if _sites_leaving(desired, live, managed) and not live.inventory:
        live.inventory = await mist.list_org(live.org_id, "inventory", **INVENTORY_QUERY)
    return sets


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


def add_deletes(plan: Plan, desired: DesiredState, live: LiveState, managed: ManagedSets) -> None:
    """Append the deletes (last, in delete order), the deletes refused, and other owners' objects kept."""
    changes, problems = compute_deletes(desired, live, managed.mine)
    plan.changes.extend(changes)
    plan.problems.extend(problems)
    plan.problems.extend(others_kept(desired, live, managed.others))
    plan.gone = already_gone(desired, live, managed.mine)
