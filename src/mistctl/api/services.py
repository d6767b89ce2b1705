"""The service functions behind the single-site and per-step routes (routes only translate HTTP).

Each takes the locks it needs (the site's without waiting, the org's waiting), builds a Mist client of
its own (its call ledger feeds the run's audit log), and converges part of the org design through the
same engine as `mistctl apply`. Workflow failures are answers (status "failed", the step and why), not
errors: the next call resumes from the live org.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool

from mistctl.api.auth import Access
from mistctl.api.budget_waits import budget_wait_events
from mistctl.api.context import AppContext
from mistctl.api.place_guard import place_lock, refuse_held_place
from mistctl.api.schemas import (
    ConvergedObject,
    FullStackRequest,
    FullStackResponse,
    ObjectAction,
    SiteRequest,
    StepResponse,
)
from mistctl.domain import kinds as K
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership, design_ownership
from mistctl.domain.plan import Change
from mistctl.store.models import new_run_id
from mistctl.workflow.deploy import CallLedger, desired_state
from mistctl.workflow.read import org_objects_recorded
from mistctl.workflow.runlock import RunLease, holder_line
from mistctl.workflow.single_site import Converged, RunInfo, Scope, SiteSpec, converge

#: The per-step routes: the step number, and the org kinds the step converges.
STEP_KINDS: dict[int, tuple[str, ...]] = {
    3: (K.APPLICATIONS.key,),
    4: (K.NETWORKS.key,),
    5: (K.HUB_PROFILES.key,),
    6: (K.GATEWAY_TEMPLATES.key,),
    7: (K.SWITCH_TEMPLATES.key,),
    8: (K.SITE_GROUPS.key, K.WLAN_TEMPLATES.key),  # site groups: what WLAN templates apply to
    9: (K.RF_TEMPLATES.key,),
    10: (K.WLANS.key,),
    11: (K.LABELS.key,),
    12: (K.WLAN_POLICIES.key,),
    13: (K.PSKS.key,),
}
#: The org kinds a site object names (site groups and its templates): converged with the site.
SITE_KINDS = (K.SITE_GROUPS.key, K.GATEWAY_TEMPLATES.key, K.SWITCH_TEMPLATES.key, K.RF_TEMPLATES.key)
_ACTIONS: dict[str, ObjectAction] = {"create": "created", "update": "updated", "noop": "unchanged"}


def design_owner(ctx: AppContext, take: bool = False) -> Ownership:
    """The service's design as an owner: `design:<its name:>`, else `design:<its file's stem>`."""
    name = ctx.design.data.get("name")
    return design_ownership(name if isinstance(name, str) else None, ctx.design.source, take=take)


def site_spec(req: SiteRequest) -> SiteSpec:
    """The site a request describes."""
    devices = req if isinstance(req, FullStackRequest) else None
    return SiteSpec(req.site_name, req.zone_id, req.site_id,
                    serials=list(devices.device_serials) if devices else [],
                    claim_codes=list(devices.claim_codes) if devices else [],
                    address=req.address, country_code=req.country_code, timezone=req.timezone,
                    vars=dict(req.vars))


@asynccontextmanager
async def locked(ctx: AppContext, org_id: str, sites: list[str], *, actor: str,
                 org_wide: bool = True) -> AsyncIterator[RunLease]:
    """Hold the sites' locks (409 when one is busy) and the org's (waited for); yields the lease (its owner
    is the run id), to check before the first write (`converge` does).

    `org_wide=False`: work that touches no org-level object (devices) does not wait for the org. A fleet
    run holding the org waits only seconds for a site (`mistctl.workflow.runlock`): no two wait for long.
    """
    run_id = new_run_id()
    holder = holder_line("the service", actor)
    names = await ctx.locks.take_sites(org_id, sites, run_id, holder=holder)
    try:
        if org_wide:
            names.append(await ctx.locks.take_org(org_id, run_id, holder=holder))
    except BaseException:
        await ctx.locks.release(names, run_id)
        raise
    async with ctx.locks.holding(names, run_id, holder=holder) as lease:
        yield lease


async def run_converge(ctx: AppContext, access: Access, fleet: Fleet, scope: Scope, info: RunInfo,
                       concurrency: int | None = None, background: bool = False, *,
                       lease: RunLease | None = None) -> Converged:
    """Converge under the caller's token, with a ledger of its own and the metrics' step timer.

    A request waits a bounded time for a spent call budget (then 503); a `background` run waits for the
    reset, its events saying "waiting for the rate budget".
    """
    ledger = CallLedger()
    waits = budget_wait_events(ctx.store, info.id, ctx.clock) if background else None
    mist = ctx.client(access.tokens, ledger, on_wait=waits, background=background)
    done = await converge(mist, ctx.store, fleet, access.org_id, scope, info, ledger=ledger,
                          concurrency=concurrency or ctx.concurrency, progress=ctx.metrics.step_timer(),
                          lease=lease)
    if not done.ok and mist.rate_limited is not None:
        raise mist.rate_limited  # the budget, not the design, stopped it: 503 with Retry-After
    return done


async def deploy_full_stack(ctx: AppContext, access: Access,
                            req: FullStackRequest) -> tuple[FullStackResponse, str]:
    """The 13 steps for one site of the design; answers where it stands, and the run id."""
    spec = site_spec(req)
    fleet = await run_in_threadpool(ctx.design.fleet, [spec.fleet_site()])  # CPU: off the loop
    await refuse_held_place(ctx.store, access.org_id, spec, fleet)  # 409: another site holds the place
    org_done = await org_objects_recorded(ctx.store, access.org_id, desired_state(fleet, only_site=spec.name))
    names = [spec.name, place_lock(spec)]
    async with locked(ctx, access.org_id, names, actor=access.actor, org_wide=not org_done) as lease:
        run_id = lease.owner
        scope = Scope(only_site=spec.name, trust_records=True, ownership=design_owner(ctx, req.take_ownership))
        done = await run_converge(ctx, access, fleet, scope, RunInfo(run_id, "deploy-site", access.actor),
                                  lease=lease)
    step = K.TOTAL_STEPS if done.ok else done.failed_step or 1
    message = (f"13-Step Workflow Executed Successfully for {spec.name}" if done.ok else
               f"Step {step} ({K.STEP_NAMES.get(step, 'site')}) failed for {spec.name}: {done.error}; "
               "call again to resume once it is fixed")
    answer = FullStackResponse(site_id=f"{spec.zone}-{spec.number}", status=done.status, current_step=step,
                               total_steps=K.TOTAL_STEPS, message=message)
    return answer, run_id


async def converge_step(ctx: AppContext, access: Access, step: int, *, take: bool = False) -> StepResponse:
    """One org-level step of the design: its objects, created or updated as needed."""
    kinds = STEP_KINDS[step]
    fleet = await run_in_threadpool(ctx.design.fleet)
    async with locked(ctx, access.org_id, [], actor=access.actor) as lease:
        info = RunInfo(lease.owner, f"step-{K.STEP_NAMES[step]}", access.actor, record_empty=False)
        scope = Scope(only_kinds=kinds, with_sites=False, ownership=design_owner(ctx, take))
        done = await run_converge(ctx, access, fleet, scope, info, lease=lease)
    return await _step_answer(ctx, access, step, kinds, done)


async def converge_site(ctx: AppContext, access: Access, req: SiteRequest, *,
                        with_vars: bool) -> StepResponse:
    """Step 1 for one site: the site object (with the groups and templates it names) and its variables."""
    spec = site_spec(req)
    fleet = await run_in_threadpool(ctx.design.fleet, [spec.fleet_site(with_devices=False)])
    await refuse_held_place(ctx.store, access.org_id, spec, fleet)
    async with locked(ctx, access.org_id, [spec.name, place_lock(spec)], actor=access.actor) as lease:
        scope = Scope(only_site=spec.name, only_kinds=SITE_KINDS, trust_records=True,
                      ownership=design_owner(ctx, req.take_ownership))
        done = await run_converge(ctx, access, fleet, scope,
                                  RunInfo(lease.owner, "site", access.actor, record_empty=False), lease=lease)
    answer = await _step_answer(ctx, access, 1, (*SITE_KINDS, K.SITES.key, "site_vars"), done)
    if with_vars and done.planned is not None and spec.name in done.planned.desired.sites:
        answer.variables = dict(done.planned.desired.sites[spec.name].vars)
    return answer


async def _step_answer(ctx: AppContext, access: Access, step: int, kinds: tuple[str, ...],
                       done: Converged) -> StepResponse:
    changes = [c for c in done.planned.plan.changes if c.kind in kinds] if done.planned else []
    objects: dict[tuple[str, str], ConvergedObject] = {}
    known: dict[str, dict[str, str]] = {}
    for change in changes:
        kind = K.SITES.key if change.kind == "site_vars" else change.kind
        if kind not in known:
            refs = await ctx.store.get_objects(access.org_id, kind)
            known[kind] = {k: ref.mist_id for k, ref in refs.items()}
        obj = _object(change, known[kind], done)
        before = objects.get((obj.kind, obj.name))
        if before is None or before.action == "unchanged":
            objects[(obj.kind, obj.name)] = obj
    name = K.STEP_NAMES[step]
    counts = [sum(o.action == a for o in objects.values()) for a in ("created", "updated", "unchanged")]
    message = (f"Step {step} ({name}): {counts[0]} created, {counts[1]} updated, {counts[2]} unchanged"
               if done.ok else f"Step {step} ({name}) failed: {done.error}{_hint(done.error)}")
    return StepResponse(step=step, name=name, status=done.status, message=message,
                        run_id=done.run.id if done.run else None, objects=list(objects.values()))


def _object(change: Change, known: dict[str, str], done: Converged) -> ConvergedObject:
    result = done.result
    failed = f"{change.kind}:{change.key}" in result.org_failed or change.site in result.sites_failed
    action: ObjectAction = "failed" if failed else _ACTIONS.get(change.action, "updated")
    if change.phase == "bind" and not failed:
        action = "updated"
    return ConvergedObject(kind=change.kind, name=change.key, mist_id=change.mist_id or known.get(change.key),
                           action=action)


def _hint(error: str | None) -> str:
    if error and "does not exist in the org yet" in error:
        return "; converge the earlier steps first (their routes, or POST /orchestrator/deploy-full-stack)"
    return ""
