"""Converge part of a fleet under one recorded run: one site with the org objects, or some org kinds.

The HTTP service's single-site and per-step routes call `converge`; it plans (reading the live org),
refuses a plan with conflicts, records the run and applies it, and answers with the step that failed
and why. The engine is idempotent: a failed call is resumed by calling again, which re-plans from the
live org. `SiteSpec` is what a caller asks for one site, as a fleet-file site mapping.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from mistctl.domain import kinds as K
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership
from mistctl.domain.plan import Problem
from mistctl.domain.targets import Target
from mistctl.mist.errors import MistError
from mistctl.store.models import Run, utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.apply import ApplyResult
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import (
    CallLedger,
    Planned,
    PlanRefused,
    apply_planned,
    check_problems,
    check_saved,
    plan_fleet,
)
from mistctl.workflow.ports import MistApi, Progress
from mistctl.workflow.runlock import LockLost, RunLease

Status = Literal["completed", "failed"]


@dataclass
class SiteSpec:
    """One site as a caller describes it: name, zone, number in the zone, devices and site fields."""

    name: str
    zone: int
    number: int
    serials: list[str] = field(default_factory=list)
    claim_codes: list[str] = field(default_factory=list)
    address: str | None = None
    country_code: str | None = None
    timezone: str | None = None
    vars: dict[str, str] = field(default_factory=dict)

    def fleet_site(self, *, with_devices: bool = True) -> dict[str, Any]:
        """The site as a fleet file writes it (unset fields left to the design's site_defaults)."""
        site: dict[str, Any] = {"name": self.name, "zone": self.zone, "number": self.number}
        optional = {"address": self.address, "country_code": self.country_code, "timezone": self.timezone}
        site.update({k: v for k, v in optional.items() if v is not None})
        if self.vars:
            site["vars"] = dict(self.vars)
        if with_devices:
            devices = [{"serial": s} for s in self.serials] + [{"claim_code": c} for c in self.claim_codes]
            if devices:
                site["devices"] = devices
        return site


@dataclass
class Converged:
    """What `converge` did: completed, or the step that failed and why; the run and the plan."""

    status: Status
    failed_step: int | None = None
    error: str | None = None
    run: Run | None = None
    planned: Planned | None = None
    result: ApplyResult = field(default_factory=ApplyResult)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@dataclass
class Scope:
    """Which part of the fleet to converge (the filters of `plan_fleet`)."""

    only_site: str | None = None
    only_kinds: Collection[str] | None = None
    with_sites: bool = True
    saved_plan: dict[str, Any] | None = None  # apply exactly this plan: refused if the fleet or org changed
    trust_records: bool = False  # skip the list of kinds the store recorded as applied (see `read_live`)
    consent: DeleteConsent = field(default_factory=DeleteConsent)  # a whole fleet's deletes (workflow.delete)
    ownership: Ownership | None = None  # who this run writes as (domain.owners); None: no owner checks
    target: Target | None = None  # only a `--site`/`--kind` target and its dependencies (domain/targets.py)


@dataclass
class RunInfo:
    """How to record the run: its id (chosen before, as the owner of the locks), kind and requester."""

    id: str
    kind: str
    actor: str
    record_empty: bool = True  # False: a plan with nothing to write records no run at all


async def converge(mist: MistApi, store: StateStore, fleet: Fleet, org_id: str, scope: Scope, info: RunInfo,
                   *, ledger: CallLedger, concurrency: int = 8,
                   progress: Progress | None = None, lease: RunLease | None = None) -> Converged:
    """Plan the scoped part of the fleet against the live org, then apply it under a recorded run.

    `lease`: the run's locks, renewed and checked before the first write (planning may have outlasted their
    lifetime): one another run took meanwhile fails the run, naming it, nothing written; one lost while
    writing stops what it covers (`apply_planned`)."""
    run = await _new_run(store, org_id, info) if info.record_empty else None
    try:
        planned = await plan_fleet(mist, store, fleet, org_id, only_site=scope.only_site,
                                   only_kinds=scope.only_kinds, with_sites=scope.with_sites,
                                   concurrency=concurrency, trust_records=scope.trust_records,
                                   ownership=scope.ownership, target=scope.target)
    except MistError as exc:
        return await _refused(store, run, 1, f"could not read the org from Mist: {exc}")
    except Exception as exc:  # e.g. the store went away: the run must not stay pending forever
        await _refused(store, run, 1, f"stopped while reading the org: {type(exc).__name__}: {exc}")
        raise
    try:
        if scope.saved_plan is not None:
            check_saved(scope.saved_plan, planned.plan)
        check_problems(planned.plan)
    except PlanRefused as exc:
        return await _refused(store, run, _problem_step(planned.plan.fatal_problems), str(exc))
    if run is None:
        if planned.plan.is_empty():
            return Converged("completed", planned=planned)
        run = await _new_run(store, org_id, info)
    if lease is not None:
        try:
            await lease.ensure(org_id)
        except LockLost as exc:
            return await _refused(store, run, 1, str(exc))
    await store.update_run(run.id, plan=planned.plan.to_json(), fleet_hash=planned.plan.fleet_hash)
    await store.incr_run_counts(run.id, {"sites_total": len(planned.desired.sites)})
    result = await apply_planned(mist, store, planned, ledger=ledger, run=run, concurrency=concurrency,
                                 progress=progress, consent=scope.consent, lease=lease)
    outcome = _judge(result, planned, scope.only_site)
    outcome.run = run  # a device in no inventory failed its site's step 2 in the apply, named
    return outcome


async def _new_run(store: StateStore, org_id: str, info: RunInfo) -> Run:
    """The run of this id: recorded already (a deployment accepted earlier) or recorded now."""
    found = await store.get_run(info.id)
    if found is not None:
        return found
    return await store.create_run(Run(id=info.id, kind=info.kind, org_id=org_id, requested_by=info.actor))


async def _refused(store: StateStore, run: Run | None, step: int, message: str) -> Converged:
    if run is not None:
        run = await store.update_run(run.id, status="failed", finished_at=utcnow(), error=message)
    return Converged("failed", failed_step=step, error=message, run=run)


def _problem_step(problems: list[Problem]) -> int:
    kind = K.BY_KEY.get(problems[0].kind) if problems else None
    return max(1, kind.step) if kind else 1


def _judge(result: ApplyResult, planned: Planned, site: str | None) -> Converged:
    """The first failure, by step: org-level objects first (sites wait for them), then the site."""
    if result.org_failed:
        where, error = next(iter(result.org_failed.items()))
        kind = K.BY_KEY.get(where.split(":", 1)[0])
        step = max(1, kind.step) if kind else 1
        message = f"{where.replace(':', ' ', 1)}: {error}"
        return Converged("failed", step, message, planned=planned, result=result)
    failed = result.sites_failed.get(site) if site else next(iter(result.sites_failed.values()), None)
    if failed is not None:
        return Converged("failed", failed[0], failed[1], planned=planned, result=result)
    if result.deletes.failed:
        where, error = next(iter(result.deletes.failed.items()))
        return Converged("failed", 1, f"delete {where}: {error}", planned=planned, result=result)
    return Converged("completed", planned=planned, result=result)
