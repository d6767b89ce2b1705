"""What every job of a queued deployment shares (`mistctl.scaleout.jobs`, `mistctl.scaleout.finish_job`): the
guard that holds the job's lease and ends the run on a `Stop` or a bug, the Mist client and records of one job,
and the run's end (status, event, locks released, sealed fleet dropped)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.worker import Retry

from mistctl.mist.budget_batch import JobBudget
from mistctl.mist.client import MistClient
from mistctl.scaleout.locks import release_run_locks
from mistctl.scaleout.queue import RunBook
from mistctl.scaleout.site_records import SiteRecords
from mistctl.scaleout.state import WorkerState, job_lease, state_of
from mistctl.store.errors import StoreUnavailable
from mistctl.store.models import Run, utcnow
from mistctl.store.redis_retry import LOST
from mistctl.workflow.deploy import CallLedger
from mistctl.workflow.records import Records

log = logging.getLogger("mistctl.worker")

TRIES = 5  # a job started this many times without finishing (its workers died) gives up, saying so
STORE_RETRY = 5.0  # seconds before a job that lost Redis is tried again


class Stop(Exception):
    """The run ends here, with this status and why."""

    def __init__(self, status: str, message: str | None) -> None:
        super().__init__(message or status)
        self.status, self.message = status, message


Work = Callable[[WorkerState, Run], Awaitable[None]]


async def guard(ctx: dict[str, Any], run_id: str, work: Work, *, run_tries: bool = True,
                 read: Callable[[RunBook], Awaitable[Run | None]] | None = None) -> None:
    """Hold the lease; run `work` on a live run; a lost Redis is retried, a `Stop` or a bug ends the run.

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
                raise Stop("failed", f"a job of this run was interrupted {TRIES} times (its workers "
                                      "stopped); deploy the fleet again to resume")
            await work(w, run)
        except (StoreUnavailable, *LOST) as exc:  # the book's own calls raise redis' errors unwrapped
            log.warning("run %s: %s; trying again in %g s", run_id, exc, STORE_RETRY)
            raise Retry(defer=STORE_RETRY) from None
        except Stop as stop:
            await end_run(w, run_id, stop.status, stop.message)
        except Exception as exc:  # a bug must not leave the run "running" forever
            log.exception("run %s: job %s failed", run_id, ctx.get("job_id"))
            why = f"internal error in {ctx.get('job_id')}: {type(exc).__name__}: {exc}"
            await end_run(w, run_id, "failed", why)


@asynccontextmanager
async def job_mist(w: WorkerState, run: Run, org_id: str, counts: dict[str, int] | None = None,
                   site: SiteStart | None = None, calls: int = 0) -> AsyncIterator[tuple[MistClient, Records]]:
    """A Mist client and the run's records for one job: its audit is flushed and its calls counted after.

    `counts`: when the job ends well its calls go there instead (a site job adds them to the run's counters
    with its done mark, one round trip less); when it raises they are counted at once. `site`: a site job's
    start (its records know its site's before-image, and hold their writes for the done mark: `SiteRecords`;
    when it raises they are written at once); its client then takes its `calls` from the shared budget
    at once (`JobBudget`), settled with those writes.
    """
    ledger = CallLedger()
    ownership = await w.book(run.id).ownership()  # what it writes is recorded under its owner
    owner = ownership.owner if ownership else None
    records = (Records(w.store, org_id, run.id, actor=run.requested_by, ledger=ledger, owner=owner)
               if site is None else
               SiteRecords(w.store, org_id, run.id, actor=run.requested_by, ledger=ledger, owner=owner,
                           site=site.name, image=site.image))
    budget = None
    if isinstance(records, SiteRecords):
        budget = JobBudget(w.budget, w.clock, calls, send=records.held.send_early)
        if budget.batching:  # its "provisioning" state goes with the batch's round trip
            records.held.hold_early()
    try:
        yield await w.ready_client(ledger, budget), records
    except BaseException:
        counts = None
        raise
    finally:
        await records.flush_audit()
        if isinstance(records, SiteRecords):
            for call in budget.settle_calls() if budget is not None else ():
                records.held.run_script(call)
            if counts is None:
                await records.write_held()
        if counts is None:
            await w.store.incr_run_counts(run.id, {"calls": ledger.total})
        else:
            counts["calls"] = ledger.total


@dataclass
class SiteStart:
    """What a site job read with its run (`RunBook.site_start`)."""

    name: str  # the site
    done: bool = False  # finished by an earlier try that died before arq heard of it
    renew: bool = False  # this job renews the run's locks
    image: str | None = None  # the site's before-image as stored


async def end_run(w: WorkerState, run_id: str, status: str, error: str | None) -> None:
    """Record the run's end, tell its event stream, release its locks, drop its sealed fleet."""
    await w.store.set_run_fields(run_id, status=status, finished_at=utcnow(), error=error)
    await w.store.publish_event(run_id, {"type": "finished", "status": status})
    book = w.book(run_id)
    await release_run_locks(w.store, book)
    await book.close()
    log.info("run %s %s", run_id, status)
