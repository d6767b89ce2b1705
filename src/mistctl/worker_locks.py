"""The locks of a queued run, held by whichever worker runs its jobs (the lock owner is the run id).

The same locks as the service's (`mistctl.api.jobs`): every site of the fleet at once (one held by another
run fails the run, naming it) and the org's, waited for, because the org-level objects are shared. They
are taken by the deploy job, renewed by the run's site jobs and released when the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from mistctl.api.jobs import Busy, Locks, org_lock, site_lock
from mistctl.queue import RunBook
from mistctl.store.port import StateStore

RUN_LOCK_TTL = 600.0  # seconds; the run's site jobs renew the locks every third of it
ORG_WAIT = 24 * 3600.0  # a queued deployment waits for the org as long as it takes
ORG_POLL = 0.5
CHUNK = 100  # Redis round trips in flight at once when one job queues or locks many sites
_T = TypeVar("_T")


async def take_run_locks(store: StateStore, book: RunBook, org_id: str, sites: Sequence[str]) -> None:
    """The run's site locks at once, then the org's, waited for; `Busy` names what another run holds."""
    run_id = book.run_id
    names = [site_lock(org_id, s) for s in sites]
    taken = await chunked(lambda n: store.acquire_lock(n, run_id, RUN_LOCK_TTL), names)
    org = org_lock(org_id)
    await book.set_locks([*names, org])  # before waiting: whatever ends the run releases what it holds
    busy = [site for site, ok in zip(sites, taken, strict=True) if not ok]
    if busy:
        raise Busy(org_id, busy[0], None)
    await Locks(store, ttl=RUN_LOCK_TTL, poll=ORG_POLL).take_org(org_id, run_id, wait=ORG_WAIT)


async def renew_run_locks(store: StateStore, book: RunBook) -> None:
    """Keep the run's locks alive while its site jobs run (one job per third of the TTL does it)."""
    if await book.lock_refresh_due(RUN_LOCK_TTL / 3):
        names = (await book.options())["locks"]
        await chunked(lambda n: store.refresh_lock(n, book.run_id, RUN_LOCK_TTL), names)


async def release_run_locks(store: StateStore, book: RunBook) -> None:
    """Release what the run holds (a lock another run holds is left alone)."""
    names = (await book.options())["locks"]
    await chunked(lambda n: store.release_lock(n, book.run_id), names)


async def chunked(call: Callable[[_T], Awaitable[Any]], items: Sequence[_T]) -> list[Any]:
    """`call` on every item, `CHUNK` at a time (one by one, thousands of sites cost seconds)."""
    results: list[Any] = []
    for i in range(0, len(items), CHUNK):
        results += await asyncio.gather(*(call(item) for item in items[i:i + CHUNK]))
    return results
