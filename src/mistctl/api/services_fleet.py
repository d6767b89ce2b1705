"""The service functions behind the fleet, inventory and probe routes.

`enqueue_deployment` is the one way a deployment starts: today an asyncio task in this process
(`Deployments.spawn`); the scale-out work swaps it for a queue without touching the routes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool

from mistctl.api.auth import Access
from mistctl.api.context import AppContext
from mistctl.api.errors import ApiError
from mistctl.api.fleet_body import files_reader
from mistctl.api.jobs import LOCK_TTL
from mistctl.api.schemas import DevicesResponse, FleetRequest, PrivilegeView, ProbeCheck, ProbeResponse
from mistctl.api.services import locked, run_converge
from mistctl.bootstrap import Services
from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership, fleet_ownership
from mistctl.domain.parse import parse_fleet
from mistctl.domain.targets import Target
from mistctl.mist.budget import token_fingerprint
from mistctl.mist.probe import probe
from mistctl.scaleout.queue import queue_deployment
from mistctl.store.models import Run, utcnow
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import CallLedger, fleet_hash, plan_fleet
from mistctl.workflow.records import Records
from mistctl.workflow.runlock import Busy, holder_line, org_run, site_lock
from mistctl.workflow.single_site import RunInfo, Scope
from mistctl.workflow.site_devices import DevicesOutcome, DeviceWanted, place_devices

DEPLOYMENT_ORG_WAIT = 24 * 3600.0  # a background deployment waits for the org as long as it takes


async def parse_fleet_body(fleet: str | dict[str, Any], files: Mapping[str, str] | None = None) -> Fleet:
    """A fleet from a request: YAML (or JSON) text, or the content as an object; `FleetInvalid` otherwise.
    The CSV files it names are read from `files` (sent with it), never from the disk.

    Parsing and validating is CPU work (a 100,000-site fleet takes seconds): it runs in a worker
    thread, so the event loop keeps answering other requests (`/healthz` included) meanwhile.
    """
    return await run_in_threadpool(_parse_body, fleet, files)


def _parse_body(fleet: str | dict[str, Any], files: Mapping[str, str] | None) -> Fleet:
    text = fleet if isinstance(fleet, str) else yaml.safe_dump(fleet, sort_keys=False)
    return parse_fleet(text, source="fleet", read_file=files_reader(files))


def ownership_of(fleet: Fleet, req: FleetRequest) -> Ownership:
    """Who a posted fleet writes as: its `name:`, else the uploaded file's name, else `fleet:unnamed`."""
    return fleet_ownership(fleet.name, req.fleet_file, take=req.take_ownership)


async def plan_document(ctx: AppContext, access: Access, fleet: Fleet, ownership: Ownership | None = None,
                        target: Target | None = None) -> dict[str, Any]:
    """The plan of a fleet (or of a target's part of it) against the live org, as `mistctl plan --json`
    prints it (with its ETA). Its `problems` list the conflicts (fatal): duplicates in the live org, another
    owner's objects."""
    ledger = CallLedger()
    mist = ctx.client(access.tokens, ledger)
    planned = await plan_fleet(mist, ctx.store, fleet, access.org_id, concurrency=ctx.concurrency,
                               ownership=ownership, target=target)
    svc = Services(ctx.settings, ctx.target, ctx.store, mist, ledger, access.org_id,
                   concurrency=ctx.concurrency, actor=access.actor)
    eta = await svc.eta(planned.plan)
    return planned.plan.to_json() | {"eta_seconds": round(eta, 1)}


async def enqueue_deployment(ctx: AppContext, access: Access, fleet: Fleet, *,
                             saved: dict[str, Any] | None = None, concurrency: int = 8,
                             consent: DeleteConsent | None = None, ownership: Ownership | None = None,
                             target: Target | None = None) -> Run:
    """Record a deployment run (409 when one of its sites is being deployed) and start it in the background.

    The run takes the org lock (waited for) and its sites' in the background (here, or on a worker).
    Queued with its consent, a worker makes its deletes (after its sites: `mistctl.scaleout.deletes`).
    A targeted run (`domain/targets.py`) runs here, never on the workers.
    """
    sites = [s.name for s in fleet.sites]
    await check_sites_free(ctx, access.org_id, sites)
    run = await ctx.store.create_run(Run(kind="apply", org_id=access.org_id, fleet_hash=fleet_hash(fleet),
                                         requested_by=access.actor))
    if target is None and await queue_deployment(ctx.store, run, fleet, access.tokens, ctx.server_tokens,
                                                 saved=saved, concurrency=concurrency, consent=consent,
                                                 ownership=ownership):
        return run  # on Redis the workers run it (mistctl.scaleout.queue); they take the locks
    scope = Scope(saved_plan=saved, consent=consent or DeleteConsent(), ownership=ownership, target=target)
    ctx.deployments.spawn(run.id, _deploy(ctx, access, fleet, run, scope, concurrency))
    return run


async def check_sites_free(ctx: AppContext, org_id: str, sites: list[str]) -> None:
    """`Busy` (409) naming the run that deploys one of these sites now."""
    for site in dict.fromkeys(sites):
        held = await ctx.store.get_lock(site_lock(org_id, site))
        if held is not None:
            raise Busy.of(org_id, site, held)


async def cancel_deployment(ctx: AppContext, run: Run) -> Run:
    """Ask a run to stop: whichever process runs it (a worker, any replica) skips the sites not started."""
    if run.is_terminal:
        raise ApiError(409, f"run {run.id} has already ended ({run.status}); there is nothing to cancel")
    return await ctx.store.request_cancel(run.id)


async def _deploy(ctx: AppContext, access: Access, fleet: Fleet, run: Run, scope: Scope, concurrency: int) -> None:
    holder = holder_line("the service", access.actor)
    try:
        async with org_run(ctx.store, access.org_id, run.id, holder=holder, wait=DEPLOYMENT_ORG_WAIT,
                           sites=[s.name for s in fleet.sites], ttl=LOCK_TTL) as lease:
            await lease.attach(run)
            info = RunInfo(run.id, run.kind, access.actor)
            await run_converge(ctx, access, fleet, scope, info, concurrency=concurrency,
                               background=True, lease=lease)
    except Busy as exc:
        await ctx.store.update_run(run.id, status="failed", finished_at=utcnow(), error=str(exc))
    except Exception as exc:  # logged by `Deployments`; the run says it stopped, never stays "running"
        error = f"stopped: {type(exc).__name__}: {exc}"
        with contextlib.suppress(Exception):
            await ctx.store.update_run(run.id, status="failed", finished_at=utcnow(), error=error[:500])
        raise


async def place_site_devices(ctx: AppContext, access: Access, site: str,
                             wanted: DeviceWanted) -> DevicesResponse:
    """Step 2 alone: claim and assign devices for a site, recorded as an `inventory` run."""
    async with locked(ctx, access.org_id, [site], actor=access.actor, org_wide=False) as lease:
        run_id = lease.owner
        await ctx.store.create_run(Run(id=run_id, kind="inventory", org_id=access.org_id, status="running",
                                       started_at=utcnow(), requested_by=access.actor))
        ledger = CallLedger()
        records = Records(ctx.store, access.org_id, run_id, actor=access.actor, ledger=ledger)
        try:
            await lease.ensure(access.org_id)  # its first write is next
            outcome = await place_devices(ctx.client(access.tokens, ledger), records, site, wanted)
        except BaseException as exc:
            await ctx.store.update_run(run_id, status="failed", finished_at=utcnow(), error=str(exc)[:500])
            raise
        error = "; ".join(outcome.errors) or (_pending_note(outcome) if outcome.pending else None)
        status = "failed" if not outcome.ok else "partial" if outcome.pending else "completed"
        await ctx.store.update_run(run_id, status=status, finished_at=utcnow(), error=error)
    return _devices_answer(site, outcome, run_id)


def _pending_note(outcome: DevicesOutcome) -> str:
    return f"{len(outcome.pending)} ordered device(s) not shipped yet: call again once they are"


def _devices_answer(site: str, outcome: DevicesOutcome, run_id: str) -> DevicesResponse:
    if outcome.ok:
        message = (f"{len(outcome.assigned)} device(s) assigned to {site}, "
                   f"{len(outcome.already)} already there, {len(outcome.claimed)} code(s) claimed")
        if outcome.pending:
            message += f"; {_pending_note(outcome)}"
    else:
        message = f"Step 2 (devices) failed for {site}: {'; '.join(outcome.errors)}"
    status = "failed" if not outcome.ok else "pending" if outcome.pending else "completed"
    return DevicesResponse(status=status, site_name=site,
                           site_id=outcome.site_id, assigned=outcome.assigned,
                           already_assigned=outcome.already, claimed=outcome.claimed, pending=outcome.pending,
                           errors=outcome.errors, message=message, run_id=run_id)


async def probe_org(ctx: AppContext, tokens: tuple[Any, ...], org_id: str | None) -> ProbeResponse:
    """The reachability probe for the caller's token: reachable, valid, org visible, write privilege."""
    result = await probe(ctx.client(tokens), org_id or ctx.default_org_id)
    usage = result.usage
    return ProbeResponse(
        ok=result.ok, org_id=result.org_id, org_name=result.org_name, who=result.who,
        token=token_fingerprint(tokens[0]),
        checks=[ProbeCheck(name=c.name, ok=c.ok, detail=c.detail) for c in result.rows()],
        privileges=[PrivilegeView(scope=p.scope, role=p.role, org_id=p.org_id, site_id=p.site_id, name=p.name)
                    for p in result.privileges],
        calls_left=max(0, usage.request_limit - usage.requests) if usage else None,
    )
