"""The service functions behind the Day 2 routes: the same workflow functions as the CLI's Day 2 commands.

A rollout runs in the background like a deployment (`Deployments.spawn`), holding its sites' locks
for its whole length so no deployment changes them meanwhile; its report is kept in the run's plan.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from mistctl.api.auth import Access
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.api.jobs import LOCK_TTL
from mistctl.api.schemas_day2 import PskRotateResponse, RotatedPsk, UpgradeRequest
from mistctl.api.services import design_owner
from mistctl.domain.durations import parse_duration
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership
from mistctl.errors import UserError
from mistctl.store.models import Run, new_run_id
from mistctl.workflow import drift, psk
from mistctl.workflow.assure import HealthReport, assess
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import CallLedger, PlanRefused
from mistctl.workflow.rollout import RolloutOptions, run_rollout
from mistctl.workflow.rollout_io import Polling
from mistctl.workflow.runlock import holder_line, org_run

FIX_ORG_WAIT = 30.0  # seconds a drift fix waits for the org lock before answering 409


def duration(text: str, what: str) -> float:
    """Seconds in a duration field; a 422 naming the field when it is not one."""
    try:
        return parse_duration(text, what=what)
    except ValueError as exc:
        raise UserError(str(exc)) from None


async def health(ctx: AppContext, access: Access, *, site: str | None, threshold: float,
                 metrics: list[str] | None) -> HealthReport:
    """Every site's SLEs (or one site's, in detail), recorded in the state store."""
    mist = ctx.client(access.tokens)
    names = [site] if site else None
    return await assess(mist, ctx.store, access.org_id, names, threshold=threshold, metrics=metrics,
                        detail=names or ())


def rollout_options(req: UpgradeRequest) -> RolloutOptions:
    """The workflow's options from the request (durations parsed, waves checked)."""
    opts = RolloutOptions(version=req.version or "", device_type=req.device_type, waves=req.waves, by=req.by,
                          soak=duration(req.soak, "soak"), threshold=req.threshold, max_drop=req.max_drop,
                          polling=Polling(budget=duration(req.timeout, "timeout")), dry_run=req.dry_run,
                          rollback=req.rollback, rollback_of=req.rollback_of)
    opts.check()
    return opts


async def upgrade_dry_run(ctx: AppContext, access: Access, fleet: Fleet, opts: RolloutOptions) -> dict[str, Any]:
    """The waves a rollout would make (reads only)."""
    mist = ctx.client(access.tokens)
    report = await run_rollout(mist, ctx.store, access.org_id, [s.name for s in fleet.sites], opts, ledger=None,
                               actor=access.actor)
    return report.to_json()


async def enqueue_upgrade(ctx: AppContext, access: Access, fleet: Fleet, opts: RolloutOptions) -> Run:
    """Record an `upgrade` run, lock the fleet's sites (409 when one is busy) and roll out in the background."""
    run_id = new_run_id()
    sites = [s.name for s in fleet.sites]
    names = await ctx.locks.take_sites(access.org_id, sites, run_id)
    try:
        run = await ctx.store.create_run(Run(id=run_id, kind="upgrade", org_id=access.org_id,
                                             requested_by=access.actor, plan={"version": opts.version}))
    except BaseException:
        await ctx.locks.release(names, run_id)
        raise
    ctx.deployments.spawn(run_id, _roll(ctx, access, sites, opts, run, names))
    return run


async def _roll(ctx: AppContext, access: Access, sites: list[str], opts: RolloutOptions, run: Run,
                names: list[str]) -> None:
    async with ctx.locks.holding(names, run.id):
        ledger = CallLedger()
        await run_rollout(ctx.client(access.tokens, ledger), ctx.store, access.org_id, sites, opts,
                          ledger=ledger, actor=access.actor, run=run)


async def rotate(ctx: AppContext, access: Access, *, names: list[str], every: bool, grace: str,
                 force: bool) -> PskRotateResponse:
    """Rotate PSKs; the new passphrases are in this answer only."""
    ledger = CallLedger()
    outcome = await psk.rotate_psks(ctx.client(access.tokens, ledger), ctx.store, access.org_id, names=names,
                                    every=every, grace=duration(grace, "grace"), force=force, actor=access.actor,
                                    ledger=ledger)
    rotated = [RotatedPsk(name=r.name, ssid=r.ssid, passphrase=r.passphrase.get_secret_value(),
                          old_passphrase_until=r.grace_until) for r in outcome.rotated]
    return PskRotateResponse(run_id=outcome.run_id, grace_seconds=outcome.grace_seconds, rotated=rotated,
                             failed=outcome.failed)


async def finish(ctx: AppContext, access: Access, *, names: list[str], every: bool,
                 force: bool) -> psk.FinishOutcome:
    """Remove old passphrases whose grace period is over."""
    ledger = CallLedger()
    return await psk.finish_rotations(ctx.client(access.tokens, ledger), ctx.store, access.org_id, names=names,
                                      every=every, force=force, actor=access.actor, ledger=ledger)


async def drift_report(ctx: AppContext, access: Access, fleet: Fleet | None,
                       ownership: Ownership | None = None) -> dict[str, Any]:
    """Drift of the org against a fleet (or, without one, the service's design: its org objects)."""
    mist = ctx.client(access.tokens)
    compared = fleet if fleet is not None else await run_in_threadpool(ctx.design.fleet)  # off the loop
    owner = ownership if fleet is not None else design_owner(ctx)
    report = await drift.detect_drift(mist, ctx.store, compared, access.org_id, concurrency=ctx.concurrency,
                                      org_only=fleet is None, ownership=owner)
    scope = "fleet" if fleet is not None else f"design {ctx.design.source} (org objects)"
    return {**report.to_json(), "compared_with": scope}


async def fix_drift(ctx: AppContext, access: Access, fleet: Fleet, consent: DeleteConsent,
                    ownership: Ownership | None = None, *, org_only: bool = False) -> dict[str, Any]:
    """Detect and fix drift under the org lock (409 when busy); removals only as `consent` allows.

    `org_only`: `fleet` is the service's design (org objects, no sites), as the console's drift fix uses it.
    The answer's `fix` is None when there was nothing to fix (no run was made)."""
    run_id = new_run_id()
    ledger = CallLedger()
    mist = ctx.client(access.tokens, ledger)
    async with org_run(ctx.store, access.org_id, run_id, holder=holder_line("the service", access.actor),
                       wait=FIX_ORG_WAIT, ttl=LOCK_TTL) as lease:
        report = await drift.detect_drift(mist, ctx.store, fleet, access.org_id, concurrency=ctx.concurrency,
                                          org_only=org_only, ownership=ownership)
        scope = f"design {ctx.design.source} (org objects)" if org_only else "fleet"
        answer: dict[str, Any] = {**report.to_json(), "compared_with": scope, "fix": None}
        if not report.drifted:
            return answer
        await lease.ensure(access.org_id)  # reading the org may have outlasted the lock's lifetime: 409
        try:
            result = await drift.fix_drift(mist, ctx.store, report, ledger=ledger, actor=access.actor,
                                           concurrency=ctx.concurrency, run_id=run_id, consent=consent)
        except PlanRefused as exc:
            raise ApiError(409, str(exc)) from None
    out = result.deletes
    answer["fix"] = {"run_id": run_id, "ok": result.ok, "writes": result.writes, "deleted": out.deleted,
                     "kept": out.kept, "failed": {**out.failed, **result.org_failed}, "calls": ledger.total}
    return answer
