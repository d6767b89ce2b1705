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
from typing import Any

from mistctl.domain import kinds as K
from mistctl.domain.diff import Index, LiveState
from mistctl.domain.fleet import Fleet
from mistctl.domain.plan import Plan
from mistctl.mist.errors import MistError
from mistctl.scaleout.claim import FINISHED
from mistctl.scaleout.finish_job import finish
from mistctl.scaleout.jobguard import TRIES, SiteStart, Stop, guard, job_mist
from mistctl.scaleout.locks import REFRESH_EVERY, ensure_run_locks, renew_run_locks, take_run_locks
from mistctl.scaleout.queue import RunBook, queue_name
from mistctl.scaleout.seal import SealError
from mistctl.scaleout.site_records import SiteRecords
from mistctl.scaleout.state import WorkerState
from mistctl.store.models import Run, utcnow
from mistctl.store.redis_batch import Write
from mistctl.workflow.apply import Applier
from mistctl.workflow.deploy import Planned, PlanRefused, check_problems, check_saved, plan_fleet
from mistctl.workflow.ports import MistApi
from mistctl.workflow.records import Records
from mistctl.workflow.run_images import record_before_images
from mistctl.workflow.runlock import Busy
from mistctl.workflow.site_job import SiteJob, SiteOutcome, outcome_event, run_site_job, site_counter

__all__ = ["deploy", "finish", "site"]

# -- deploy -------------------------------------------------------------------------------------------

async def deploy(ctx: dict[str, Any], run_id: str) -> None:
    """Plan, converge the org level, queue the site jobs."""
    await guard(ctx, run_id, lambda w, run: _deploy(w, ctx, run))


async def _deploy(w: WorkerState, ctx: dict[str, Any], run: Run) -> None:
    if run.cancel_requested:
        raise Stop("cancelled", "cancelled before it started" if run.started_at is None else "cancelled")
    book = w.book(run.id)
    opts = await book.options()
    try:
        fleet = await book.fleet(w.tokens)
    except SealError as exc:
        raise Stop("failed", str(exc)) from None
    try:
        await take_run_locks(w.store, book, run, [s.name for s in fleet.sites])
    except Busy as exc:
        raise Stop("failed", str(exc)) from None
    await w.store.set_run_fields(run.id, status="running", started_at=utcnow())
    async with job_mist(w, run, run.org_id) as (mist, records):
        planned = await _plan(mist, w, fleet, run, opts)
        try:
            await ensure_run_locks(w.store, book, run)  # before its first write
        except Busy as exc:  # LockLost: another run took a lock that lapsed while it planned
            raise Stop("failed", str(exc)) from None
        await record_before_images(w.store, run.id, planned.plan, planned.live)  # write-ahead, for rollback
        applier = Applier(mist, records, planned.desired, planned.live, concurrency=opts["concurrency"])
        ok = await applier.prepare(planned.plan)
    if not ok:
        raise Stop("failed", "; ".join(f"{k}: {v}" for k, v in applier.result.org_failed.items())[:2000])
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
        raise Stop("failed", f"could not read the org from Mist: {exc}") from None
    except PlanRefused as exc:
        raise Stop("failed", str(exc)) from None
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

async def site(ctx: dict[str, Any], run_id: str, job_data: dict[str, Any]) -> None:
    """Converge one site of a run; the last one queues `finish`."""
    job = SiteJob.from_json(job_data)
    start = SiteStart(job.site)

    async def read(book: RunBook) -> Run | None:
        run, start.done, start.renew, start.image = await book.site_start(job.site, REFRESH_EVERY)
        return run

    await guard(ctx, run_id, lambda w, run: _site(w, ctx, run, job, start), run_tries=False, read=read)


async def _site(w: WorkerState, ctx: dict[str, Any], run: Run, job: SiteJob, start: SiteStart) -> None:
    book = w.book(run.id)
    if start.done:
        if start.renew:
            await book.skip_lock_refresh()
        last = await book.all_done()
    else:
        try:
            await renew_run_locks(w.store, book, start.renew, run=run)
        except Busy as exc:  # LockLost: another run took a lock of this run's: it stops, this site not done
            raise Stop("failed", str(exc)) from None
        event, counts, failure, writes = await _run_site(w, run, job, ctx["job_try"], start)
        added, last, finished = await book.mark_done(job.site, w.name, failure, counts, event, writes,
                                                     job=(ctx["job_id"], queue_name(w.store)))
        if finished and FINISHED in ctx:  # arq need not finish it (`ClaimingWorker.finish_job`; were it
            ctx[FINISHED].add(ctx["job_id"])  # to, it would only delete and remove what is gone already)
        if not added:  # done by an earlier try: this one's calls still count
            await w.store.incr_run_counts(run.id, {"calls": counts["calls"]})
    if last:
        await w.queue(ctx).enqueue_finish(run.id)


async def _run_site(w: WorkerState, run: Run, job: SiteJob, tries: int,
                    start: SiteStart) -> tuple[dict[str, Any], dict[str, int], str | None, list[Write]]:
    """Run (or skip, when cancelled) the site's job: its event, its counts, its failure, if any, and its
    records' writes (`SiteRecords`).

    Reported like `report_outcome`, but counted by `RunBook.mark_done` with the site's done mark (its
    calls and its records too).
    """
    counts: dict[str, int] = {}
    calls = job.writes + (tries > 1 and job.action == "create")  # a retried create first looks the site up
    async with job_mist(w, run, job.org_id, counts, start, calls) as (mist, records):
        if run.cancel_requested:  # read as this job started
            counts["sites_cancelled"] = 1
            event: dict[str, Any] = {"type": "site_cancelled", "site": job.site}
            failure = None
        else:
            outcome = await _converge_site(mist, records, job, tries)
            counts.update({site_counter(outcome): 1, "writes": outcome.writes})
            failure = None if outcome.ok else f"step {outcome.step}: {outcome.error}"
            event = outcome_event(outcome)
    return event, counts, failure, records.take() if isinstance(records, SiteRecords) else []


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
