"""`mistctl rollback RUN`: read what the run recorded and the live org, plan the inverse, apply it.

The rollback is a run of its own (kind `rollback`, its plan names the run it undoes) under the org lock,
and records before-images of its own writes first (write-ahead), like an apply. A rollback killed in
the middle is run again: the plan is made afresh from the live org, so what was undone is found done
(created objects gone, restored ones equal to their images, recreated ones found by natural key and
remembered by the earlier rollback's images) and nothing is made twice.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.diff import LiveState
from mistctl.errors import UserError
from mistctl.mist.errors import MistError
from mistctl.store.models import Run, RunImage, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.context import call_scope
from mistctl.workflow.create import create_or_find
from mistctl.workflow.delete import DeleteRefused, delete_checked
from mistctl.workflow.ports import MistApi
from mistctl.workflow.read import INVENTORY_QUERY
from mistctl.workflow.records import AuditSource, Records
from mistctl.workflow.rollback_plan import PriorWrite, RollbackPlan, Undo, compute_rollback, rebind
from mistctl.workflow.runlock import interrupted_note, marks_stopped

ROLLBACK = "rollback"
MAX_RUNS = 100_000


class RollbackRefused(UserError):
    """The run cannot be rolled back (it recorded nothing to undo, or it is a rollback in progress)."""


@dataclass
class RollbackResult:
    """What a rollback did: undos made and failed, writes, and the devices it released."""

    made: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)
    writes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


async def prior_rollbacks(store: StateStore, run_id: str) -> list[Run]:
    """The rollback runs of `run_id` made so far, oldest first."""
    runs = [r for r in await store.list_runs(limit=MAX_RUNS) if r.kind == ROLLBACK]
    full = [await store.get_run(r.id) for r in runs]
    return sorted((r for r in full if r is not None and r.plan.get("rolls_back") == run_id),
                  key=lambda r: r.created_at)


async def _prior_writes(store: StateStore, runs: list[Run]) -> dict[tuple[str, str], PriorWrite]:
    found: dict[tuple[str, str], PriorWrite] = {}
    for run in runs:
        for img in await store.get_run_images(run.id):
            if img.written:
                found[(img.kind, img.key)] = PriorWrite(img.action, img.mist_id, img.after_modified)
    return found


async def plan_rollback(mist: MistApi, store: StateStore, run_id: str, *, force: bool = False) -> RollbackPlan:
    """Read the run's before-images and the live kinds they touch; the inverse plan (no write)."""
    run = await store.get_run(run_id, include_plan=False)
    if run is None:
        raise RollbackRefused(f"no run {run_id!r}; `mistctl status` lists recent runs")
    if run.kind == ROLLBACK:
        raise RollbackRefused(f"run {run_id} is itself a rollback; roll back the run it undid again instead")
    images = await store.get_run_images(run_id)
    if not images:
        raise RollbackRefused(f"run {run_id} ({run.kind}) recorded no before-images: it wrote no org object "
                              "or site, or it ran before mistctl kept them; there is nothing to roll back")
    before = mist.calls.total
    live = await _read(mist, run.org_id, images)
    prior = await prior_rollbacks(store, run_id)
    plan = compute_rollback(run_id, images, live, await _prior_writes(store, prior), force=force)
    for undo in plan.undo:
        if undo.action == "delete" and undo.kind == K.SITES.key:
            undo.body = {"devices": site_devices(live.inventory, undo.mist_id)}
            if undo.body["devices"]:
                undo.note = (f"its {len(undo.body['devices'])} device(s) are unassigned back to the org "
                             "inventory first (they stay claimed)")
    plan.read_calls = mist.calls.total - before
    return plan


async def _read(mist: MistApi, org_id: str, images: list[RunImage]) -> LiveState:
    kinds = {i.kind for i in images} | {K.WLAN_TEMPLATES.key}  # WLANs and policies are keyed by template name
    ordered = [k for k in (*K.ORG_KINDS, K.SITES) if k.key in kinds]
    lists = await asyncio.gather(*(mist.list_org(org_id, k.collection) for k in ordered))
    objects = {k.key: [o for o in objs if k is not K.HUB_PROFILES or o.get("type") == "gateway"]
               for k, objs in zip(ordered, lists, strict=True)}
    live = LiveState(org_id, objects)
    if any(i.kind == K.SITES.key and i.action == "create" for i in images):
        live.inventory = await mist.list_org(org_id, "inventory", **INVENTORY_QUERY)
    return live


def site_devices(live_inventory: list[dict[str, Any]], site_id: str | None) -> list[str]:
    """The MACs of the devices assigned to a site (they are unassigned before the site is deleted)."""
    return sorted(str(d.get("mac")) for d in live_inventory if site_id and d.get("site_id") == site_id)


async def record_rollback_images(store: StateStore, run: Run, plan: RollbackPlan) -> None:
    """Write-ahead, as an apply: what the rollback is about to delete, restore or recreate."""
    action = {"delete": "delete", "restore": "update", "recreate": "create"}
    known = {(i.kind, i.key) for i in await store.get_run_images(run.id)}
    images = [RunImage.model_validate({"run_id": run.id, "org_id": plan.org_id, "kind": u.kind, "key": u.key,
                                       "action": action[u.action], "mist_id": u.mist_id if u.action != "recreate"
                                       else None, "before": None})
              for u in plan.undo if (u.kind, u.key) not in known]
    if images:
        await store.put_run_images(images)


class Rollback:
    """Applies one rollback plan under its run."""

    def __init__(self, mist: MistApi, records: Records, plan: RollbackPlan) -> None:
        self.mist, self.records, self.plan = mist, records, plan
        self.idmap = dict(plan.idmap)
        self.names = dict(plan.names)
        self.result = RollbackResult()

    async def run(self, concurrency: int = 8) -> RollbackResult:
        """Each group of one action on one kind in turn (the plan's order); a group's objects concurrently."""
        gate = asyncio.Semaphore(max(1, concurrency))

        async def guarded(undo: Undo) -> None:
            async with gate:
                await self._guarded(undo)

        for _group, undos in itertools.groupby(self.plan.undo, key=lambda u: (u.action, u.kind)):
            await asyncio.gather(*(guarded(u) for u in undos))
        await self.records.count({"writes": self.result.writes})
        return self.result

    async def _guarded(self, undo: Undo) -> None:
        try:
            with call_scope(None, undo.kind, undo.key):
                mist_id = await self._one(undo)
            self.result.made.append(undo.label)
            await self.records.flush_audit((None, undo.kind, undo.key), mist_id)
        except (MistError, DeleteRefused) as exc:
            self.result.failed[undo.label] = str(exc)

    async def _one(self, undo: Undo) -> str:
        org_id, kind = self.records.org_id, K.BY_KEY[undo.kind]
        if undo.action == "delete":
            await self._release(undo)
            await delete_checked(self.mist, org_id, undo.kind, str(undo.mist_id))
            self.result.writes += 1
            await self.records.store.delete_object(org_id, undo.kind, undo.key)
            return str(undo.mist_id)
        body = rebind(undo.kind, undo.body, self.idmap)
        if undo.action == "restore":
            if kind is K.SITES:
                obj = await self.mist.update_site(str(undo.mist_id), body)
            else:
                obj = await self.mist.update_org(org_id, kind.collection, str(undo.mist_id), body)
        else:
            stubs = {K.WLAN_TEMPLATES.key: [{"id": i, "name": n} for n, i in self.names.items()]}
            obj = await create_or_find(self.mist, org_id, kind, undo.key, body, names=stubs)
            self.idmap[str(undo.mist_id)] = str(obj["id"])
            if kind is K.WLAN_TEMPLATES:
                self.names[undo.key] = str(obj["id"])
            await self.records.store.put_object(org_id, undo.kind, undo.key, str(obj["id"]))
        self.result.writes += 1
        await self.records.wrote(undo.kind, undo.key, obj)
        return str(obj["id"])

    async def _release(self, undo: Undo) -> None:
        """A site the run created may hold devices it assigned: back to the org inventory (still claimed)."""
        macs = [str(m) for m in undo.body.get("devices", [])] if undo.kind == K.SITES.key else []
        if not macs:
            return
        answer = await self.mist.unassign_inventory(self.records.org_id, macs)
        self.result.writes += 1
        refused = answer.refusals()
        if refused:
            raise DeleteRefused("Mist did not unassign " + ", ".join(f"{m} ({why})" for m, why in refused))
        self.result.released.extend(macs)


async def apply_rollback(mist: MistApi, store: StateStore, plan: RollbackPlan, *, run: Run,
                         ledger: AuditSource | None = None, concurrency: int = 8) -> RollbackResult:
    """Apply the plan under the recorded rollback run; its status says how it ended."""
    records = Records(store, plan.org_id, run.id, actor=run.requested_by, ledger=ledger)
    await store.update_run(run.id, status="running", started_at=utcnow())
    await record_rollback_images(store, run, plan)
    try:
        async with marks_stopped(store, run.id, interrupted=interrupted_note(run)):
            result = await Rollback(mist, records, plan).run(concurrency)
    finally:
        await records.flush_audit()
    status = "failed" if result.failed and not result.made else "partial" if result.failed or plan.conflicts \
        else "completed"
    error = "; ".join(f"{k}: {v}" for k, v in {**result.failed, **plan.conflicts}.items()) or None
    await store.update_run(run.id, status=status, finished_at=utcnow(), error=error[:2000] if error else None)
    return result


def rollback_run(plan: RollbackPlan, *, actor: str, run_id: str) -> Run:
    """The rollback's own run record (its plan names the run it undoes)."""
    return Run(id=run_id, kind=ROLLBACK, org_id=plan.org_id, plan=plan.to_json(), requested_by=actor,
               counts={"undo_total": len(plan.undo)})
