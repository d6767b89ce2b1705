"""Apply a plan: org-level steps in rounds (claims in batches beside them), then every site with bounded concurrency.

Writes only what the plan says. A POST whose answer was lost (`OutcomeUnknown`) is resolved by
listing the kind and looking the object up by its natural key, never by creating it blindly again.
A site that fails is recorded with its step and error and the other sites go on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.claim import normalise_mac
from mistctl.domain.desired import REFS, DesiredState, canonical_hash
from mistctl.domain.devices_diff import HUB_GATEWAYS, ORDERS
from mistctl.domain.diff import Index, LiveState
from mistctl.domain.kinds import Kind
from mistctl.domain.normalize import rewrite_refs
from mistctl.domain.org_rounds import ORG_ROUNDS
from mistctl.domain.plan import Change, Plan
from mistctl.mist.errors import MistError
from mistctl.workflow.claims import Claims, claim_all
from mistctl.workflow.context import call_scope
from mistctl.workflow.create import create_or_find
from mistctl.workflow.delete_outcome import DeleteOutcome
from mistctl.workflow.ports import MistApi, Progress
from mistctl.workflow.records import Records
from mistctl.workflow.settle import all_ended
from mistctl.workflow.site_job import SiteJob, SiteOutcome, outcome_event, report_outcome, run_site_job


class UnresolvedReference(Exception):
    """A name (or claim code) that should have an id by now has none."""


class StepFailed(Exception):
    """A change could not be made; carries the step for the site's record."""

    def __init__(self, change: Change, message: str) -> None:
        super().__init__(message)
        self.change = change


@dataclass
class ApplyResult:
    """What an apply did: sites done and failed (with step and error), writes made."""

    sites_done: list[str] = field(default_factory=list)
    sites_pending: dict[str, list[str]] = field(default_factory=dict)  # site -> ordered devices not shipped yet
    sites_failed: dict[str, tuple[int, str]] = field(default_factory=dict)
    org_failed: dict[str, str] = field(default_factory=dict)
    writes: int = 0
    cancelled: bool = False  # someone asked to stop: the sites not started were left alone
    deletes: DeleteOutcome = field(default_factory=DeleteOutcome)  # made last (workflow.delete)

    @property
    def ok(self) -> bool:
        return not self.sites_failed and not self.org_failed and not self.cancelled and not self.deletes.failed


class Applier:
    """Runs one plan against one org."""

    def __init__(self, mist: MistApi, records: Records, desired: DesiredState, live: LiveState,
                 *, concurrency: int = 8, progress: Progress | None = None) -> None:
        self.mist = mist
        self.records = records
        self.desired = desired
        self.org_id = live.org_id
        self.concurrency = max(1, concurrency)
        self.progress: Progress = progress or _no_progress
        self.ids = _ids_from_live(live)
        self.claims = Claims()
        self.result = ApplyResult()

    async def run(self, plan: Plan) -> ApplyResult:
        """Apply every change of the plan; returns what happened (exceptions are recorded, not raised)."""
        if not await self.prepare(plan):
            return self.result
        await self._sites(plan)
        await self.bind(plan)
        return self.result

    async def prepare(self, plan: Plan) -> bool:
        """The org-level writes in rounds, the batched claims beside them; False when an org-level change failed.

        Each round holds the kinds whose objects name only kinds of earlier rounds (`domain.org_rounds`): 4
        round trips instead of 12. The claims name no org object, so they are made meanwhile; both always run
        to their end, then a claim's failure is raised. After it, `site_jobs(plan)` gives each site's job (here
        or on other workers), then `bind(plan)`.
        """
        org_changes = [c for c in plan.changes if c.phase == "org" and c.writes]
        claims = [c for c in plan.changes if c.kind in ("claims", ORDERS)]
        await all_ended(self._org_rounds(org_changes), self._claims(claims))
        await self.records.count({"writes": self.result.writes})
        if self.result.org_failed:
            await self._emit({"type": "org_failed", "errors": self.result.org_failed})
            return False
        return True

    async def bind(self, plan: Plan) -> None:
        """Late bindings: WLAN templates that apply to sites this run created."""
        changes = [c for c in plan.changes if c.phase == "bind" and c.writes]
        for change in changes:
            await self._guarded_org(change)
        if changes:
            await self.records.count({"writes": len(changes)})

    # -- org level -------------------------------------------------------------------------------

    async def _org_rounds(self, org_changes: list[Change]) -> None:
        for kinds in ORG_ROUNDS:
            await self._org_round({kind: [c for c in org_changes if c.kind == kind.key] for kind in kinds})

    async def _org_round(self, todo: dict[Kind, list[Change]]) -> None:
        """One round's kinds together, under one gate; each kind's step event once the round has ended, with
        the seconds from the round's start to the end of that kind's last write."""
        gate = asyncio.Semaphore(self.concurrency)
        started = time.monotonic()
        ended: dict[str, float] = {}

        async def one(change: Change) -> None:
            async with gate:
                await self._guarded_org(change)
            ended[change.kind] = time.monotonic()

        await asyncio.gather(*(one(c) for changes in todo.values() for c in changes))
        for kind, changes in todo.items():
            if not changes:
                continue
            failed = sum(f"{c.kind}:{c.key}" in self.result.org_failed for c in changes)
            await self._emit({"type": "step", "step": kind.step, "kind": kind.key, "changes": len(changes),
                              "applied": len(changes) - failed, "failed": failed,
                              "seconds": round(ended.get(kind.key, started) - started, 3)})

    async def _guarded_org(self, change: Change) -> None:
        try:
            with call_scope(None, change.kind, change.key):
                await self._org_change(change)
        except (MistError, StepFailed, UnresolvedReference) as exc:
            self.result.org_failed[f"{change.kind}:{change.key}"] = str(exc)
            await self.records.step_failed(None, change.step, change.kind, change.key, str(exc))

    async def _org_change(self, change: Change) -> None:
        if change.kind == HUB_GATEWAYS:
            await self._hub_gateways(change)
            return
        kind = K.BY_KEY[change.kind]
        desired = self.desired.org_objects(kind)[change.key]
        body = self._resolve(kind, change.body)
        if change.action == "create":
            if kind is K.PSKS:
                obj = await self.mist.create_org(self.org_id, kind.collection, body, upsert="true")
            else:
                obj = await create_or_find(self.mist, self.org_id, kind, change.key, body,
                                           names=self._name_lists(kind))
            self.ids.setdefault(kind.key, {})[change.key] = str(obj["id"])
        else:
            mist_id = change.mist_id or self.ids.get(kind.key, {}).get(change.key)
            if mist_id is None:
                raise StepFailed(change, f"{kind.title} {change.key!r} has no id to update")
            if kind is K.HUB_PROFILES:  # Mist picks the profile's schema by `type`, even on a partial PUT
                body = {"type": "gateway", **body}
            obj = await self.mist.update_org(self.org_id, kind.collection, mist_id, body)
        self.result.writes += 1
        await self.records.step_done(None, change.step, change.kind, change.key, str(obj["id"]),
                                     desired.hash(), written=obj)

    async def _hub_gateways(self, change: Change) -> None:
        """Assign a hub profile to its hub gateways; a MAC Mist did not take fails the change, named."""
        profile_id = change.mist_id or self.ids.get(K.HUB_PROFILES.key, {}).get(change.key)
        if profile_id is None:
            raise StepFailed(change, f"hub profile {change.key!r} has no id: it was not created")
        macs = [str(m) for m in change.body.get("macs", [])]
        answer = await self.mist.assign_deviceprofile(self.org_id, profile_id, macs)
        self.result.writes += 1
        done = {normalise_mac(m) for m in answer.success}
        left = [m for m in macs if m not in done]
        if left:
            raise StepFailed(change, f"hub profile {change.key!r} was not assigned to {', '.join(left)}: the org's "
                             "inventory holds no gateway with that MAC (claim it at a site first)")
        await self.records.step_done(None, change.step, HUB_GATEWAYS, change.key, profile_id,
                                     canonical_hash(sorted(macs)))

    def _name_lists(self, kind: Kind) -> dict[str, list[dict[str, Any]]]:
        """Live-shaped stubs of WLAN templates, so WLAN and policy keys resolve in a look-up."""
        if kind.identity == "name":
            return {}
        tmpl = self.ids.get(K.WLAN_TEMPLATES.key, {})
        return {K.WLAN_TEMPLATES.key: [{"id": i, "name": n} for n, i in tmpl.items()]}

    def _resolve(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        """Names of managed objects -> their Mist ids; a name still unknown is an error."""

        def to_id(target: Kind, name: Any) -> Any:
            if isinstance(name, str) and name.startswith("id:"):
                return name[3:]
            found = self.ids.get(target.key, {}).get(str(name))
            if found is None:
                raise UnresolvedReference(f"{target.title} {name!r} does not exist in the org yet")
            return found

        return rewrite_refs(body, REFS.get(kind.key, ()), to_id)

    # -- devices ------------------------------------------------------------------------------------

    async def _claims(self, changes: list[Change]) -> None:
        """Claim codes in batches, and orders by activation code (see `workflow.claims`)."""
        self.result.writes += await claim_all(self.mist, self.records, self.claims, changes)

    # -- sites --------------------------------------------------------------------------------------

    def site_jobs(self, plan: Plan) -> list[SiteJob]:
        """One job per site of the plan, names resolved to ids (call after the org steps and claims)."""
        per_site: dict[str, list[Change]] = {}
        for change in plan.changes:
            if change.site is not None:
                per_site.setdefault(change.site, []).append(change)
        return [self._job(name, changes) for name, changes in per_site.items()]

    def _job(self, name: str, changes: list[Change]) -> SiteJob:
        ds = self.desired.sites[name]
        by_kind = {c.kind: c for c in changes}
        site = by_kind.get("sites")
        where = ds.site.body.get("latlng") or {}
        job = SiteJob(self.org_id, name, zone=ds.zone, number=ds.number, site_hash=ds.site.hash(),
                      vars_hash=canonical_hash(ds.vars), ip_plan=self.desired.ip_plan,
                      zone_name=ds.vars.get("zone_name"),
                      latlng=[where["lat"], where["lng"]] if "lat" in where and "lng" in where else None)
        try:
            if site is not None and site.writes:
                job.action = site.action
                job.body = self._resolve(K.SITES, site.body)
            job.site_id = site.mist_id if site is not None else None
            if "site_vars" in by_kind and by_kind["site_vars"].writes:
                job.vars = dict(ds.vars)
            self.claims.fill(job, by_kind)
        except UnresolvedReference as exc:
            job.error, job.error_step = str(exc), 2 if job.action == "noop" or job.body else 1
        return job

    async def _sites(self, plan: Plan) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job: SiteJob) -> None:
            async with gate:
                if await self.records.cancelled():
                    return
                outcome = await run_site_job(self.mist, self.records, job)  # its records all written
            await self.finish_site(outcome)  # reported out of the slot: the next site starts meanwhile

        await asyncio.gather(*(one(job) for job in self.site_jobs(plan)))

    async def finish_site(self, outcome: SiteOutcome) -> None:
        """Count a site's outcome into the result, the run's counters and its event stream."""
        self.result.writes += outcome.writes
        if outcome.site_id:
            self.ids.setdefault(K.SITES.key, {})[outcome.site] = outcome.site_id
        if outcome.ok and outcome.pending:
            self.result.sites_pending[outcome.site] = list(outcome.pending)
        elif outcome.ok:
            self.result.sites_done.append(outcome.site)
        else:
            self.result.sites_failed[outcome.site] = (outcome.step, str(outcome.error))
        event = outcome_event(outcome)
        self.progress(event)
        await report_outcome(self.records, outcome)

    async def _emit(self, event: dict[str, Any]) -> None:
        """Tell the display and the run's event stream."""
        self.progress(event)
        await self.records.event(event)


def _ids_from_live(live: LiveState) -> dict[str, dict[str, str]]:
    index = Index(live)
    return {
        kind: {key: str(objs[0]["id"]) for key, objs in keyed.items() if len(objs) == 1}
        for kind, keyed in index.by_key.items()
    }


def _no_progress(event: dict[str, Any]) -> None:
    del event
