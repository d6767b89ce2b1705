"""The service side of `POST /deployments/{id}/rollback` (and the console's "Roll back" button).

A dry run answers the rollback plan (reads only). The apply form plans first (so a run already rolled
back, or one whose objects all changed since, is answered 409 at once, naming why), records a
`rollback` run and an audit entry naming the caller (a service key's id), then rolls back in the
background under the org lock, planning again once it holds it (as `mistctl rollback RUN --yes`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from mistctl.api.auth import Access
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.api.jobs import LOCK_TTL
from mistctl.errors import UserError
from mistctl.mist.errors import MistError
from mistctl.store.models import AuditEntry, Run, new_run_id, utcnow
from mistctl.workflow.deploy import CallLedger
from mistctl.workflow.rollback import apply_rollback, plan_rollback, prior_rollbacks, rollback_run
from mistctl.workflow.rollback_plan import RollbackPlan
from mistctl.workflow.runlock import Busy, holder_line, org_run

ROLLBACK_ORG_WAIT = 24 * 3600.0  # in the background, waited for as long as it takes (as deployments)


async def rollback_plan_document(ctx: AppContext, access: Access, target: Run, *, force: bool) -> dict[str, Any]:
    """The plan `POST /deployments/{id}/rollback` would apply (reads the live org, writes nothing)."""
    plan = await plan_rollback(ctx.client(access.tokens, CallLedger()), ctx.store, target.id, force=force)
    return plan.to_json()


async def nothing_to_do(ctx: AppContext, plan: RollbackPlan) -> str | None:
    """Why an empty plan has nothing to do (already rolled back, or only conflicts), or None."""
    if not plan.is_empty():
        return None
    if plan.conflicts:
        return (f"nothing to roll back: {len(plan.conflicts)} object(s) changed since run {plan.run_id} "
                f"({', '.join(plan.conflicts)}); pass force to undo them anyway")
    done = [r for r in await prior_rollbacks(ctx.store, plan.run_id) if r.status == "completed"]
    if done:
        return f"run {plan.run_id} was already rolled back by run {done[-1].id}: nothing to do"
    return f"the org is already as it was before run {plan.run_id}: nothing to do"


async def start_rollback(ctx: AppContext, access: Access, target: Run, *, force: bool, path: str) -> Run:
    """Plan, refuse (409) when there is nothing to do, else record the run and roll back in the background."""
    plan = await plan_rollback(ctx.client(access.tokens, CallLedger()), ctx.store, target.id, force=force)
    why = await nothing_to_do(ctx, plan)
    if why is not None:
        raise ApiError(409, why)
    run = await ctx.store.create_run(rollback_run(plan, actor=access.actor, run_id=new_run_id()))
    await ctx.store.append_audit(AuditEntry(run_id=run.id, method="POST", path=path, kind="rollback",
                                            name=target.id, status=202, actor=access.actor))
    ctx.deployments.spawn(run.id, _roll_back(ctx, access, target, run, force))
    return run


async def _roll_back(ctx: AppContext, access: Access, target: Run, run: Run, force: bool) -> None:
    holder = holder_line("the service (rollback)", access.actor)
    ledger = CallLedger()
    try:
        async with org_run(ctx.store, target.org_id, run.id, holder=holder, wait=ROLLBACK_ORG_WAIT,
                           ttl=LOCK_TTL) as lease:
            await lease.attach(run)
            mist = ctx.client(access.tokens, ledger)
            plan = await plan_rollback(mist, ctx.store, target.id, force=force)  # afresh, under the lock
            await lease.ensure(target.org_id)  # planning may have outlasted the lock's lifetime
            await ctx.store.update_run(run.id, plan=plan.to_json())
            await apply_rollback(mist, ctx.store, plan, run=run, ledger=ledger, concurrency=ctx.concurrency)
    except (Busy, MistError, UserError) as exc:  # an outcome, not a bug: the run says it (roll back again)
        await ctx.store.update_run(run.id, status="failed", finished_at=utcnow(),
                                   error=f"{exc}; the rollback can be asked again"[:2000])
    except Exception as exc:  # logged by `Deployments`; the run says it stopped, never stays "running"
        with contextlib.suppress(Exception):
            await ctx.store.update_run(run.id, status="failed", finished_at=utcnow(),
                                       error=f"stopped: {type(exc).__name__}: {exc}"[:500])
        raise
    finally:
        with contextlib.suppress(Exception):
            await ctx.store.incr_run_counts(run.id, {"calls": ledger.total})
