"""The locks of a queued run, held by whichever worker runs its jobs (the lock owner is the run id).

The same locks as every run's (`mistctl.workflow.runlock`): the org's, waited for (one run per org,
whoever starts it: the CLI, the service, a worker), then every site of the fleet (one held by a
single-site request of the service fails the run, naming it). They are taken by the deploy job before
it plans, renewed (with the run's heartbeat) by the run's site jobs and released when the run ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from mistctl.scaleout.queue import RunBook
from mistctl.store.models import LockInfo, Run, utcnow
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.runlock import Busy, RunLease, org_lock, site_lock, wait_for_lock

RUN_LOCK_TTL = 600.0  # seconds; the run's site jobs renew the locks every third of it
ORG_WAIT = 24 * 3600.0  # a queued deployment waits for the org as long as it takes
ORG_POLL = 0.5


async def take_run_locks(store: RedisStore, book: RunBook, run: Run, sites: Sequence[str]) -> None:
    """The org's lock, waited for, then the run's sites' (`mistctl.workflow.runlock`: the org first,
    everywhere); `Busy` names the holder of one that stays held. The run's heartbeat starts."""
    run_id, org_id = book.run_id, run.org_id
    names = [org_lock(org_id), *(site_lock(org_id, s) for s in sites)]
    await book.set_locks(names)  # before waiting: whatever ends the run releases what it holds
    holder = _holder(run)
    async def waiting(info: LockInfo) -> None:  # the run's followers (CLI, console) hear for whom it waits
        await store.publish_event(run_id, {"type": "waiting_for_lock", "lock": info.name, "run_id": info.owner,
                                           "holder": info.holder})

    held = await wait_for_lock(store, names[0], run_id, holder=holder, ttl=RUN_LOCK_TTL, wait=ORG_WAIT,
                               poll=ORG_POLL, on_wait=waiting)
    if held is not None:
        raise Busy.of(org_id, None, held if held.owner else None)
    taken = await store.acquire_locks(names[1:], run_id, RUN_LOCK_TTL, holder=holder)
    busy = [(site, name) for site, name, ok in zip(sites, names[1:], taken, strict=True) if not ok]
    if busy:  # a single-site request of the service holds it (they never wait): fail, naming it
        raise Busy.of(org_id, busy[0][0], await store.get_lock(busy[0][1]))
    await store.set_run_fields(run_id, heartbeat_at=utcnow())


def _holder(run: Run) -> str:
    # No host or pid: any worker may carry the run on (and renew its locks) after this one stops.
    return f"a queued run by {run.requested_by}, on the mistctl workers, since {utcnow():%Y-%m-%d %H:%M:%S} UTC"


async def ensure_run_locks(store: RedisStore, book: RunBook, run: Run) -> None:
    """Before the run's first write (planning may have outlasted the locks' lifetime): renew them now, a lapsed
    one taken again if free; `LockLost` naming the run that took one meanwhile (`RunLease.ensure`)."""
    names = list((await book.options())["locks"])
    await RunLease(store, book.run_id, RUN_LOCK_TTL, names, holder=_holder(run)).ensure(run.org_id)


REFRESH_EVERY = RUN_LOCK_TTL / 3


async def renew_run_locks(store: RedisStore, book: RunBook, due: bool | None = None, *,
                          run: Run | None = None) -> None:
    """Keep the run's locks alive while its site jobs run (one job per third of the TTL does it).

    `due`: whether this job took the turn already (`RunBook.site_start`); None: ask the book. With `run`, a
    lapsed lock is taken again if free, and `LockLost` is raised when another run took it (the run stops)."""
    if due or (due is None and await book.lock_refresh_due(REFRESH_EVERY)):
        names = (await book.options())["locks"]
        if run is None:
            await store.refresh_locks(names, book.run_id, RUN_LOCK_TTL)
            await store.set_run_fields(book.run_id, heartbeat_at=utcnow())
            return
        lease = RunLease(store, book.run_id, RUN_LOCK_TTL, list(names), holder=_holder(run))
        await lease.beat()  # one round trip while every lock is still ours
        await store.set_run_fields(book.run_id, heartbeat_at=utcnow())
        lost = lease.lost_error(run.org_id, written=True, note=(
            "; the sites not done yet are left: deploy again once that run has finished to resume"))
        if lost is not None:
            raise lost


async def release_run_locks(store: RedisStore, book: RunBook) -> None:
    """Release what the run holds (a lock another run holds is left alone)."""
    names = (await book.options())["locks"]
    await store.release_locks(names, book.run_id)
