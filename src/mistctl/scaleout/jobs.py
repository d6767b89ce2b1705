"""The three jobs of a queued deployment, run by `mistctl worker` (see `mistctl.scaleout.queue` for the layout).

* `deploy(run_id)`: takes the run's locks (the org's, waited for; then its sites at once), plans against the
  live org, runs the org-level steps and the batched claims (`Applier.prepare`), then queues one `site` job per
  `SiteJob` and records the sites expected and the late bindings.
* `site(run_id, job)`: converges one site (`run_site_job`), reports it (event and counters), and marks it
  done in the run's book; the job that finds every expected site done queues `finish`.
* `finish(run_id)`: the late WLAN-template bindings, then (queued with consent, every site done) the plan's
  deletes (`mistctl.scaleout.deletes`), the run's final status, the locks released.

Every job may run twice (a worker killed mid-job is replaced, see `mistctl.scaleout.worker`): `deploy` re-plans from
the live org; a retried `site` job whose first try may have created the site looks it up by name first,
and the book's sets make sure a site is counted once and `finish` queued once (its job id is fixed).
Cancellation (`store.request_cancel`) is read by each site job before it starts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.worker import Retry

from mistctl.domain import kinds as K
from mistctl.domain.diff import Index, LiveState
from mistctl.domain.fleet import Fleet
from mistctl.domain.plan import Change, Plan
from mistctl.mist.client import MistClient
from mistctl.mist.errors import MistError
from mistctl.scaleout.deletes import queued_deletes
from mistctl.scaleout.locks import REFRESH_EVERY, release_run_locks, renew_run_locks, take_run_locks
from mistctl.scaleout.queue import RunBook
from mistctl.scaleout.seal import SealError
from mistctl.scaleout.site_records import SiteRecords
from mistctl.scaleout.state import WorkerState, job_lease, state_of
from mistctl.store.errors import StoreUnavailable
from mistctl.store.models import Run, utcnow
from mistctl.store.redis_retry import LOST
from mistctl.workflow.apply import Applier
from mistctl.workflow.deploy import (
    CallLedger,
    Planned,
    PlanRefused,
    check_problems,
    check_saved,
    desired_state,
    plan_fleet,
)
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records
from mistctl.workflow.run_images import record_before_images
from mistctl.workflow.runlock import Busy
from mistctl.workflow.site_job import SiteJob, SiteOutcome, outcome_event, run_site_job, site_counter

log = logging.getLogger("mistctl.worker")

TRIES = 5  # a job started this many times without finishing (its workers died) gives up, saying so
STORE_RETRY = 5.0  # seconds before a job that lost Redis is tried again


class _Stop(Exception):
    """The run ends here, with this status and why."""

    def __init__(self, status: str, message: str | None) -> None:
        super().__init__(message or status)
        self.status, self.message = status, message


Work = Callable[[WorkerState, Run], Awaitable[None]]


async def _guard(ctx: dict[str, Any], run_id: str, work: Work, *, run_tries: bool = True,
                 read: Callable[[RunBook], Awaitable[Run | None]] | None = None) -> None:
    """Hold the lease; run `work` on a live run; a lost Redis is retried, a `_Stop` or a bug ends the run.

    `run_tries`: a job interrupted too often ends the run (a site job fails only its site instead).
    `read`: how the run is read (a site job reads more in the same round trip); else `RunBook.run`.
    """
    w = state_of(ctx)
    async with job_lease(ctx):
        try:
            book = w.book(run_id)
            run = await (read(book) if read is not None else book.run())
            if run is None or run.is_terminal:
                return
            if run_tries and ctx["job_try"] > TRIES:
                raise _Stop("failed", f"a job of this run was interrupted {TRIES} times (its workers "
                                      "stopped); deploy the fleet again to resume")
            await work(w, run)
        except (StoreUnavailable, *LOST) as exc:  # the book's own calls raise redis' errors unwrapped
            log.warning("run %s: %s; trying again in %g s", run_id, exc, STORE_RETRY)
            raise Retry(defer=STORE_RETRY) from None
        except _Stop as stop:
            await _end(w, run_id, stop.status, stop.message)
        except Exception as exc:  # a bug must not leave the run "running" forever
            log.exception("run %s: job %s failed", run_id, ctx.get("job_id"))
            why = f"internal error in {ctx.get('job_id')}: {type(exc).__name__}: {exc}"
            await _end(w, run_id, "failed", why)


@asynccontextmanager
async def _mist(w: WorkerState, run: Run, org_id: str, counts: dict[str, int] | None = None,
                site: _SiteStart | None = None) -> AsyncIterator[tuple[MistClient, Records]]:
    """A Mist client and the run's records for one job: its audit is flushed and its calls counted after.

    `counts`: when the job ends well its calls go there instead (a site job adds them to the run's counters
    with its done mark, one round trip less); when it raises they are counted at once. `site`: a site job's
    start (its records know its site's before-image).
    """
    ledger = CallLedger()
    ownership = await w.book(run.id).ownership()  # what it writes is recorded under its owner
    extra: dict[str, Any] = {} if site is None else {"site": site.name, "image": site.image}
    kind = Records if site is None else SiteRecords
    records = kind(w.store, org_id, run.id, actor=run.requested_by, ledger=ledger,
                   owner=ownership.owner if ownership else None, **extra)
    try:
        yield await w.ready_client(ledger), records
    except BaseException:
        counts = None
        raise
    finally:
        await records.flush_audit()
        if counts is None:
            await w.store.incr_run_counts(run.id, {"calls": ledger.total})
        else:
            counts["calls"] = ledger.total


# -- deploy -------------------------------------------------------------------------------------------

async def deploy(ctx: dict[str, Any], run_id: str) -> None:
    """Plan, converge the org level, queue the site jobs."""
    await _guard(ctx, run_id, lambda w, run: _deploy(w, ctx, run))


async def _deploy(w: WorkerState, ctx: dict[str, Any], run: Run) -> None:
    if run.cancel_requested:
        raise _Stop("cancelled", "cancelled before it started" if run.started_at is None else "cancelled")
    book = w.book(run.id)
    opts = await book.options()
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        raise _Stop("failed", str(exc)) from None
    try:
        await take_run_locks(w.store, book, run, [s.name for s in fleet.sites])
    except Busy as exc:
        raise _Stop("failed", str(exc)) from None
    await w.store.set_run_fields(run.id, status="running", started_at=utcnow())
    async with _mist(w, run, run.org_id) as (mist, records):
        planned = await _plan(mist, w, fleet, run, opts)
        await record_before_images(w.store, run.id, planned.plan, planned.live)  # write-ahead, for rollback
        applier = Applier(mist, records, planned.desired, planned.live, concurrency=opts["concurrency"])
        ok = await applier.prepare(planned.plan)
    if not ok:
        raise _Stop("failed", "; ".join(f"{k}: {v}" for k, v in applier.result.org_failed.items())[:2000])
    await _queue_sites(w, ctx, run, applier.site_jobs(planned.plan), planned.plan)


async def _plan(mist: Any, w: WorkerState, fleet: Fleet, run: Run, opts: dict[str, Any]) -> Planned:
    with contextlib.suppress(MistError):  # learn the token's real count; the plan reports a dead Mist
        await mist.sync_budget()
    try:
        planned = await plan_fleet(mist, w.store, fleet, run.org_id, concurrency=opts["concurrency"],
                                   ownership=opts["ownership"])
        if opts["saved"] and not opts["checked"]:
            check_saved(opts["saved"], planned.plan)
        check_problems(planned.plan)
    except MistError as exc:
        raise _Stop("failed", f"could not read the org from Mist: {exc}") from None
    except PlanRefused as exc:
        raise _Stop("failed", str(exc)) from None
    await w.book(run.id).mark_checked()
    await w.store.set_run_fields(run.id, plan=planned.plan.to_json(), fleet_hash=planned.plan.fleet_hash)
    return planned


async def _queue_sites(w: WorkerState, ctx: dict[str, Any], run: Run, jobs: list[SiteJob],
                       plan: Plan) -> None:
    book = w.book(run.id)
    binds = [c.to_json() for c in plan.changes if c.phase == "bind"]
    added = await book.expect([j.site for j in jobs], binds)  # before any job is queued: none ends early
    if added:
        await w.store.incr_run_counts(run.id, {"sites_total": added})
    queue = w.queue(ctx)
    await queue.enqueue_sites(run.id, jobs)
    if await book.mark_enqueued():
        await queue.enqueue_finish(run.id)


# -- site ---------------------------------------------------------------------------------------------

@dataclass
class _SiteStart:
    """What a site job read with its run (`RunBook.site_start`)."""

    name: str  # the site
    done: bool = False  # finished by an earlier try that died before arq heard of it
    renew: bool = False  # this job renews the run's locks
    image: str | None = None  # the site's before-image as stored


async def site(ctx: dict[str, Any], run_id: str, job_data: dict[str, Any]) -> None:
    """Converge one site of a run; the last one queues `finish`."""
    job = SiteJob.from_json(job_data)
    start = _SiteStart(job.site)

    async def read(book: RunBook) -> Run | None:
        run, start.done, start.renew, start.image = await book.site_start(job.site, REFRESH_EVERY)
        return run

    await _guard(ctx, run_id, lambda w, run: _site(w, ctx, run, job, start), run_tries=False, read=read)


async def _site(w: WorkerState, ctx: dict[str, Any], run: Run, job: SiteJob, start: _SiteStart) -> None:
    book = w.book(run.id)
    if start.done:
        if start.renew:
            await book.skip_lock_refresh()
        last = await book.all_done()
    else:
        await renew_run_locks(w.store, book, start.renew)
        event, counts, failure = await _run_site(w, run, job, ctx["job_try"], start)
        added, last = await book.mark_done(job.site, w.name, failure, counts, event)
        if not added:  # done by an earlier try: this one's calls still count
            await w.store.incr_run_counts(run.id, {"calls": counts["calls"]})
    if last:
        await w.queue(ctx).enqueue_finish(run.id)


async def _run_site(w: WorkerState, run: Run, job: SiteJob, tries: int,
                    start: _SiteStart) -> tuple[dict[str, Any], dict[str, int], str | None]:
    """Run (or skip, when cancelled) the site's job: its event, its counts and its failure, if any.

    Reported like `report_outcome`, but counted by `RunBook.mark_done` with the site's done mark (its
    calls too).
    """
    counts: dict[str, int] = {}
    async with _mist(w, run, job.org_id, counts, start) as (mist, records):
        if run.cancel_requested:  # read as this job started
            counts["sites_cancelled"] = 1
            event: dict[str, Any] = {"type": "site_cancelled", "site": job.site}
            failure = None
        else:
            outcome = await _converge_site(mist, records, job, tries)
            counts.update({site_counter(outcome): 1, "writes": outcome.writes})
            failure = None if outcome.ok else f"step {outcome.step}: {outcome.error}"
            event = outcome_event(outcome)
    return event, counts, failure


async def _converge_site(mist: MistApi, records: Records, job: SiteJob, tries: int) -> SiteOutcome:
    if tries > TRIES:  # its workers keep dying on it: the site fails, the run goes on
        job.error, job.error_step = f"its job was interrupted {TRIES} times (its workers stopped)", 1
    elif tries > 1 and job.action == "create":
        try:
            job = await _resumed(mist, job)
        except MistError as exc:
            job.error, job.error_step = f"could not check whether an earlier try created the site: {exc}", 1
    return await run_site_job(mist, records, job)


async def _resumed(mist: MistApi, job: SiteJob) -> SiteJob:
    """A retried job whose first try may have created the site updates it, never POSTs a second one."""
    sites = await mist.list_org(job.org_id, K.SITES.collection)
    found = Index(LiveState(job.org_id, {K.SITES.key: sites})).by_key[K.SITES.key].get(job.site, [])
    if found:
        job.action, job.site_id = "update", str(found[0]["id"])
    return job


# -- finish -------------------------------------------------------------------------------------------

async def finish(ctx: dict[str, Any], run_id: str) -> None:
    """Late bindings, the final status, the locks released."""
    await _guard(ctx, run_id, _finish)


async def _finish(w: WorkerState, run: Run) -> None:
    book = w.book(run.id)
    opts = await book.options()
    binding = opts["binds"] and not run.cancel_requested
    bind_errors = await _bind(w, run, book, opts["binds"]) if binding else {}
    failures = await book.failures()
    if opts["consent"].allow_delete and not (run.cancel_requested or failures or bind_errors):
        bind_errors = await _deletes(w, run, book, opts)
    counts = await w.store.incr_run_counts(run.id, {})  # adds nothing: the counts as they are now
    raise _Stop(_status(run, counts, failures, bind_errors), _summary(failures, bind_errors))


async def _bind(w: WorkerState, run: Run, book: RunBook, binds: list[dict[str, Any]]) -> dict[str, str]:
    """WLAN templates that apply to sites this run created, and hub profiles to their gateways, now."""
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        return {"bindings": str(exc)}
    async with _mist(w, run, run.org_id) as (mist, records):
        try:
            kinds = (K.SITE_GROUPS, K.SITES, K.WLAN_TEMPLATES, K.HUB_PROFILES)  # hub profiles: their gateways
            live = LiveState(run.org_id, {k.key: await mist.list_org(run.org_id, k.collection) for k in kinds})
            applier = Applier(mist, records, desired_state(fleet, with_sites=False), live)
            await applier.bind(Plan(run.org_id, run.fleet_hash, "", [Change(**c) for c in binds]))
            return applier.result.org_failed
        except MistError as exc:
            return {"bindings": f"could not read the org from Mist: {exc}"}


async def _deletes(w: WorkerState, run: Run, book: RunBook, opts: dict[str, Any]) -> dict[str, str]:
    """The plan's deletes under the run's consent, after every site; the failed ones (`delete <what>`: why)."""
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        return {"deletes": str(exc)}
    await renew_run_locks(w.store, book)
    async with _mist(w, run, run.org_id) as (mist, records):
        out = await queued_deletes(mist, records, w.store, fleet, opts["consent"], concurrency=opts["concurrency"],
                                   ownership=opts["ownership"])
    await w.store.publish_event(run.id, {"type": "deletes", "deleted": out.deleted, "kept": out.kept,
                                         "failed": out.failed, "released": out.released})
    return {f"delete {what}": why for what, why in out.failed.items()}


def _status(run: Run, counts: dict[str, int], failures: dict[str, str], bind_errors: dict[str, str]) -> str:
    """As in-process (`apply_planned`): failed when nothing good came of it, partial when some did."""
    if run.cancel_requested:
        return "cancelled"
    if bind_errors or (failures and not counts.get("sites_done")):
        return "failed"
    return "partial" if failures else "completed"


def _summary(failures: dict[str, str], bind_errors: dict[str, str]) -> str | None:
    parts = [f"{k}: {v}" for k, v in bind_errors.items()]
    parts += [f"site {s} {why}" for s, why in sorted(failures.items())]
    return "; ".join(parts)[:2000] or None


async def _end(w: WorkerState, run_id: str, status: str, error: str | None) -> None:
    """Record the run's end, tell its event stream, release its locks, drop its sealed fleet."""
    await w.store.set_run_fields(run_id, status=status, finished_at=utcnow(), error=error)
    await w.store.publish_event(run_id, {"type": "finished", "status": status})
    book = w.book(run_id)
    await release_run_locks(w.store, book)
    await book.close()
    log.info("run %s %s", run_id, status)
