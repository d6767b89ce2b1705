"""Adoption: record the live objects a plan found unchanged as managed, without one Mist write.

After `mistctl import`, the first apply has nothing to change; it still takes ownership: every
unchanged org object, site and site's variables is recorded in the state store (id and the hash of
what the fleet asks for), exactly as if mistctl had written it, and every site gets a `done` state.
Later plans then trust those records (no GET per site for variables). Objects already recorded
with the same hash are left alone, so adopting again costs nothing; so are objects another owner
(a fleet or the service's design, `domain.owners`) recorded: agreeing with them takes nothing over.
"""

from __future__ import annotations

from mistctl.domain import kinds as K
from mistctl.domain.desired import canonical_hash
from mistctl.domain.plan import Change
from mistctl.store.models import ObjRef, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.deploy import Planned, record_run
from mistctl.workflow.owners import another_owners
from mistctl.workflow.records import VARS_KIND, Records


async def adopt_unchanged(store: StateStore, planned: Planned, *, actor: str = "cli") -> int:
    """Record every unchanged live object of the plan that the store does not know yet; how many."""
    plan, desired = planned.plan, planned.desired
    org_id = plan.org_id
    todo = [c for c in plan.changes if c.action == "noop" and c.mist_id and c.kind != "devices"]
    refs: dict[str, dict[str, ObjRef]] = {k: await store.get_objects(org_id, k) for k in {c.kind for c in todo}}
    fresh = [(c, h) for c in todo if (h := _hash(planned, c)) and _adoptable(refs[c.kind].get(c.key), h, plan.owner)]
    if not fresh:
        return 0
    run = await record_run(store, "adopt", plan, org_id=org_id, actor=actor)
    records = Records(store, org_id, run.id, actor=actor, owner=plan.owner)
    for change, digest in fresh:
        await records.step_done(change.site, change.step, change.kind, change.key, str(change.mist_id), digest)
        if change.kind == K.SITES.key:
            ds = desired.sites[change.key]
            await records.site_status(change.key, "done", site_id=change.mist_id,
                                      zone=ds.zone or None, number=ds.number or None)
    sites = sum(c.kind == K.SITES.key for c, _ in fresh)
    await store.update_run(run.id, status="completed", started_at=utcnow(), finished_at=utcnow())
    await store.incr_run_counts(run.id, {"adopted": len(fresh), "sites_done": sites, "writes": 0, "calls": 0})
    return len(fresh)


def _adoptable(ref: ObjRef | None, digest: str, owner: str | None) -> bool:
    """Not recorded yet, or recorded with another hash and not under another owner."""
    return ref is None or (ref.applied_hash != digest and not another_owners(ref, owner))


def _hash(planned: Planned, change: Change) -> str | None:
    desired = planned.desired
    if change.kind == K.SITES.key:
        return desired.sites[change.key].site.hash()
    if change.kind == VARS_KIND:
        return canonical_hash(desired.sites[change.key].vars)
    obj = desired.org.get(change.kind, {}).get(change.key)
    return obj.hash() if obj is not None else None
