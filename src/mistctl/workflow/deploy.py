"""The fleet service functions the CLI, the HTTP service and the workers all call: plan and apply.

`plan_fleet` reads the live org (one list per kind) and diffs it with the fleet. `apply_fleet`
re-plans, checks a saved plan still holds (same fleet, same live org), records a run, and applies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.desired import DesiredState, build_desired, canonical_hash
from mistctl.domain.diff import LiveState, compute_plan
from mistctl.domain.fleet import Fleet
from mistctl.domain.gcpause import gc_frozen
from mistctl.domain.ipplan import site_variables
from mistctl.domain.owners import Ownership, is_owner_conflict
from mistctl.domain.plan import Plan
from mistctl.domain.targets import Target
from mistctl.mist.meter import CallRecord
from mistctl.store.models import Run, new_run_id, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.apply import Applier, ApplyResult
from mistctl.workflow.context import current_scope
from mistctl.workflow.delete import DeleteConsent, apply_deletes
from mistctl.workflow.delete_plan import add_deletes, read_for_deletes
from mistctl.workflow.lock_gate import GatedMist, WriteRefused
from mistctl.workflow.owners import check_owners
from mistctl.workflow.ports import MistApi, Progress
from mistctl.workflow.psk_records import respect_rotations
from mistctl.workflow.read import read_live
from mistctl.workflow.records import Records
from mistctl.workflow.run_images import record_before_images
from mistctl.workflow.runlock import LockLost, RunLease, marks_stopped


class PlanRefused(Exception):
    """A plan that must not be applied: stale, for another fleet, or with conflicts in the live org."""


@dataclass
class Planned:
    """A plan with what it was made from (apply needs the desired bodies, secrets included)."""

    plan: Plan
    desired: DesiredState
    live: LiveState
    ownership: Ownership | None = None  # who it was planned for (`domain.owners`)


AuditScope = tuple[str | None, str | None, str | None]  # (site, kind, key) of the calls' scope


@dataclass
class CallLedger:
    """Counts the Mist calls made, per site (None: org level and reads), from the client's call hook."""

    by_site: dict[str | None, int] = field(default_factory=dict)
    total: int = 0
    seconds: float = 0.0
    rate_limited: int = 0
    #: the writes not yet audited, by scope, each with its place in the order they were made: a step takes
    #: its own by key instead of walking every site's pending writes twice
    pending: dict[AuditScope, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def on_call(self, call: CallRecord) -> None:
        """Hook for the Mist client: attribute one call to the site in scope; remember writes for audit."""
        scope = current_scope()
        site = scope.site if scope else None
        self.by_site[site] = self.by_site.get(site, 0) + 1
        self.total += 1
        self.seconds += call.duration
        self.rate_limited += call.status == 429
        if call.method != "GET":
            kind, name = (scope.kind, scope.key) if scope else (None, None)
            self.pending.setdefault((site, kind, name), []).append((self.total, {
                "method": call.method, "path": call.path, "status": call.status or 0,
                "duration_ms": call.duration * 1000, "site": site, "kind": kind, "name": name,
            }))

    @property
    def audit(self) -> list[dict[str, Any]]:
        """The pending audit entries, in the order the writes were made."""
        made = sorted((e for entries in self.pending.values() for e in entries), key=lambda e: e[0])
        return [entry for _, entry in made]

    def mean_latency(self, default: float = 0.2) -> float:
        """Seconds per call seen so far (for ETAs)."""
        return self.seconds / self.total if self.total else default

    def drain_audit(self, scope: tuple[str | None, str, str] | None = None) -> list[dict[str, Any]]:
        """Take the pending audit entries (only those of one site/kind/key when `scope` is given)."""
        if scope is None:
            entries = self.audit
            self.pending = {}
            return entries
        return [entry for _, entry in self.pending.pop(scope, ())]


def fleet_hash(fleet: Fleet) -> str:
    """Identifies the fleet's intent (the desired bodies, secrets included, hashed)."""
    return canonical_hash(fleet.model_dump(mode="json"))


def desired_state(fleet: Fleet, *, only_site: str | None = None,
                  only_kinds: Collection[str] | None = None, with_sites: bool = True,
                  target: Target | None = None) -> DesiredState:
    """The fleet's desired objects, optionally narrowed.

    `only_site`: the org objects and that one site; `only_kinds`: only those org kinds (by key);
    `with_sites=False`: no site at all (the per-step routes of the service converge one kind).
    """
    sites = [s for s in fleet.sites if with_sites and (only_site is None or s.name == only_site)
             and (target is None or s.name in target.site_parts)]
    variables = {s.name: site_variables(fleet, s) for s in sites}
    desired = build_desired(fleet, variables)
    desired.sites = {n: d for n, d in desired.sites.items() if n in variables}
    if only_kinds is not None:
        desired.org = {k: v for k, v in desired.org.items() if k in only_kinds}
        if K.HUB_PROFILES.key not in only_kinds:
            desired.hub_gateways = {}
    return desired if target is None else narrow(desired, target)


def narrow(desired: DesiredState, target: Target) -> DesiredState:
    """Only the target's sites and org objects (`domain/targets.py`)."""
    desired.sites = {n: d for n, d in desired.sites.items() if n in target.site_parts}
    desired.org = {k: {key: o for key, o in objs.items() if key in target.org.get(k, set())}
                   for k, objs in desired.org.items()}
    hubs = target.org.get(K.HUB_PROFILES.key, set())
    desired.hub_gateways = {k: v for k, v in desired.hub_gateways.items() if k in hubs}
    return desired


async def plan_fleet(mist: MistApi, store: StateStore, fleet: Fleet, org_id: str, *,
                     only_site: str | None = None, only_kinds: Collection[str] | None = None,
                     with_sites: bool = True, concurrency: int = 8,
                     clock: Callable[[], float] = time.time, refresh_vars: bool = False,
                     trust_records: bool = False, ownership: Ownership | None = None,
                     target: Target | None = None) -> Planned:
    """Read the live org and diff it with the fleet (or the part of it the filters keep).

    `refresh_vars`: read every site's variables from Mist (drift) rather than trust recorded hashes.
    `ownership`: who this run writes as; another owner's objects it would change are conflicts.
    `target`: only the objects a `--site`/`--kind` target selects (and what they depend on); no deletes.
    """
    # The CPU-heavy parts (every site's variables, the diff) run in a worker thread: a service keeps
    # answering other requests while it plans a large fleet.
    desired = await asyncio.to_thread(desired_state, fleet, only_site=only_site, only_kinds=only_kinds,
                                      with_sites=with_sites, target=target)
    records = Records(store, org_id, run_id="plan")
    before = mist.calls.total
    live = await read_live(mist, records, org_id, desired, concurrency=concurrency, refresh_vars=refresh_vars,
                           trust_records=trust_records)
    whole = only_site is None and only_kinds is None and with_sites and not trust_records and target is None
    managed = await read_for_deletes(mist, store, desired, live, ownership) if whole else None  # a whole fleet only
    live.read_calls = mist.calls.total - before
    await respect_rotations(store, desired, live)  # a PSK mistctl rotated is not reverted to the fleet's
    plan = await asyncio.to_thread(lambda: compute_plan(desired, live, fleet_hash=fleet_hash(fleet),
                                                        created_at=clock()))
    if managed is not None:
        add_deletes(plan, desired, live, managed)
    if target is not None:
        live_sites = {str(o.get("name")) for o in live.objects.get(K.SITES.key, [])}
        plan.changes = [target.trim_binding(c, live_sites) for c in plan.changes if target.keeps(c)]
        plan.target = target.to_json()
    if ownership is not None:
        await check_owners(store, plan, ownership)
    return Planned(plan, desired, live, ownership)


async def record_run(store: StateStore, kind: str, plan: Plan, *, org_id: str, actor: str,
                     run_id: str | None = None) -> Run:
    """Record a new run of `plan` (stored redacted, its sites counted) before any write."""
    sites = len({c.site for c in plan.changes if c.site})
    # Made in a worker thread: the plan of thousands of sites is walked to redact it (seconds), and the event
    # loop keeps renewing the run's locks meanwhile.
    with gc_frozen():  # copying the plan makes many objects: no full collection pass over the whole heap
        run = await asyncio.to_thread(lambda: Run(
            id=run_id or new_run_id(), kind=kind, org_id=org_id, fleet_hash=plan.fleet_hash, plan=plan.to_json(),
            counts={"sites_total": sites}, requested_by=actor))
        return await store.create_run(run)


def check_saved(saved: dict[str, Any], fresh: Plan) -> None:
    """Refuse a saved plan when the fleet file or the live org changed since it was made."""
    if saved.get("org_id") != fresh.org_id:
        raise PlanRefused(f"the plan was made for org {saved.get('org_id')}, not {fresh.org_id}")
    if saved.get("fleet_hash") != fresh.fleet_hash:
        raise PlanRefused("the fleet file changed since the plan was made: run `mistctl plan` again")
    if saved.get("target") != fresh.target:
        raise PlanRefused("the plan was made for another target (--site/--kind) than this apply's: "
                          "apply the saved plan without --site/--kind, or run `mistctl plan` again")
    if saved.get("live_fingerprint") != fresh.live_fingerprint:
        raise PlanRefused("the live org changed since the plan was made: run `mistctl plan` again "
                          "and review the new changes")


def check_problems(plan: Plan) -> None:
    """Refuse a plan with conflicts (two live objects with one name, another owner's object) before writing."""
    fatal = plan.fatal_problems
    if fatal:
        lines = "\n".join(f"  - {p.kind} {p.key}: {p.message}" for p in fatal)
        where = "the plan has conflicts" if any(map(is_owner_conflict, fatal)) else "the live org has conflicts"
        raise PlanRefused(f"{where}; nothing was written:\n{lines}")


async def apply_planned(mist: MistApi, store: StateStore, planned: Planned, *, ledger: CallLedger,
                        run: Run, concurrency: int = 8, progress: Progress | None = None,
                        consent: DeleteConsent | None = None, lease: RunLease | None = None) -> ApplyResult:
    """Apply a fresh plan under a recorded run; the run's status and counts are kept up to date.

    Its deletes are made last, and only as `consent` allows (none by default: they are listed as kept).
    `lease`: the run's locks. One lost while writing (lapsed, then taken by another run) stops the writes it
    covers (`workflow.lock_gate`; calls in flight finish); the run ends `failed` saying which lock, who took
    it and what is left, and `LockLost` is raised.
    """
    with gc_frozen():  # the fleet, the plan and the live org stay alive throughout: out of the GC's passes
        return await _apply_planned(mist, store, planned, ledger=ledger, run=run, concurrency=concurrency,
                                    progress=progress, consent=consent, lease=lease)


async def _apply_planned(mist: MistApi, store: StateStore, planned: Planned, *, ledger: CallLedger,
                         run: Run, concurrency: int, progress: Progress | None,
                         consent: DeleteConsent | None, lease: RunLease | None) -> ApplyResult:
    gated = GatedMist(mist, lease, planned.plan.org_id) if lease is not None else None
    records = Records(store, planned.plan.org_id, run.id, actor=run.requested_by, ledger=ledger,
                      owner=planned.plan.owner)
    if gated is not None:
        mist, records.halted = gated, gated.halted
    await store.update_run(run.id, status="running", started_at=utcnow())
    records.images = {}  # this process records the run's images: `wrote` need not read them back
    await record_before_images(store, run.id, planned.plan, planned.live, book=records.images)  # write-ahead
    applier = Applier(mist, records, planned.desired, planned.live, concurrency=concurrency,
                      progress=progress)
    result = applier.result
    try:
        async with marks_stopped(store, run.id):  # Ctrl-C, the service stopping, an error
            try:
                await applier.run(planned.plan)
                await apply_deletes(mist, records, planned, consent or DeleteConsent(), result)
            except WriteRefused:  # a refused claim stops the run: the lost lock is said below
                pass
    finally:
        await records.flush_audit()
        await store.incr_run_counts(run.id, {"calls": ledger.total})
    lost = _lock_lost(lease, planned, result)
    if lost is not None:
        await store.update_run(run.id, status="failed", finished_at=utcnow(), error=str(lost)[:2000])
        raise lost
    latest = await store.get_run(run.id, include_plan=False)
    status = "cancelled" if latest is not None and latest.cancel_requested else _final_status(result)
    await store.update_run(run.id, status=status, finished_at=utcnow(), error=_summary_error(result))
    result.cancelled = status == "cancelled"
    return result


def _lock_lost(lease: RunLease | None, planned: Planned, result: ApplyResult) -> LockLost | None:
    """The error of a run that lost a lock and left something undone (a lost lock after the last write
    changes nothing: the run did all it had to)."""
    if lease is None or not lease.lost:
        return None
    sites = {c.site for c in planned.plan.changes if c.site}
    left = len(sites) - len(result.sites_done) - len(result.sites_pending)
    if result.ok and left <= 0:
        return None
    note = (f"; {len(result.sites_done)} site(s) done, {max(left, 0)} not done"
            + (f", {len(result.org_failed)} org object(s) not written" if result.org_failed else "")
            + ": apply again once that run has finished to resume where this one stopped")
    return lease.lost_error(planned.plan.org_id, written=True, note=note)


def _final_status(result: ApplyResult) -> str:
    if result.ok:
        return "partial" if result.sites_pending else "completed"  # pending: ordered devices not shipped
    if result.org_failed or (result.sites_failed and not result.sites_done):
        return "failed"
    return "partial"


def _summary_error(result: ApplyResult) -> str | None:
    if result.ok:
        return None
    parts = [f"{k}: {v}" for k, v in result.org_failed.items()]
    parts += [f"site {s} step {st}: {err}" for s, (st, err) in result.sites_failed.items()]
    parts += [f"delete {k}: {v}" for k, v in result.deletes.failed.items()]
    return "; ".join(parts)[:2000]
