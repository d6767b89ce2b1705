"""Locks and background deployments of the service.

Locks (in the state store, so every process sharing it agrees; see `mistctl.workflow.runlock`):
`org:{org_id}` is waited for, because a run of the org (its org-level objects are shared by every site)
must not run beside another: two would create duplicates. `site:{org_id}:{site}` is taken without
waiting (a second request for a site being deployed answers 409, naming the run). Held locks are
refreshed while the work runs.

Deployments run as asyncio tasks of the server process (`Deployments.spawn`); on shutdown they are
cancelled and their runs marked cancelled (a new deployment of the same fleet resumes them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mistctl.store.models import utcnow
from mistctl.store.port import StateStore
from mistctl.workflow.runlock import Busy, RunLease, org_lock, site_lock, wait_for_lock

log = logging.getLogger("mistctl.api.jobs")

LOCK_TTL = 120.0  # seconds; refreshed every third of it while held
ORG_WAIT = 300.0  # seconds a request waits for the org lock before answering 409
POLL = 0.2
__all__ = ["Busy", "Deployments", "Locks", "org_lock", "site_lock"]

STOPPED = "the service stopped during this deployment; start it again to resume where it stopped"


class Locks:
    """Site and org locks in the state store (`mistctl.workflow.runlock`), with the runs holding them."""

    def __init__(self, store: StateStore, ttl: float = LOCK_TTL, poll: float = POLL) -> None:
        self.store = store
        self.ttl = ttl
        self.poll = poll
        self.holders: dict[str, str] = {}

    async def take_sites(self, org_id: str, sites: Sequence[str], owner: str, *, holder: str = "") -> list[str]:
        """Take every site's lock or none: `Busy` names the first site held by another run."""
        taken: list[str] = []
        for site in dict.fromkeys(sites):
            name = site_lock(org_id, site)
            if not await self.store.acquire_lock(name, owner, self.ttl, holder=holder):
                await self.release(taken, owner)
                raise Busy.of(org_id, site, await self.store.get_lock(name))
            self.holders[name] = owner
            taken.append(name)
        return taken

    async def take_org(self, org_id: str, owner: str, wait: float = ORG_WAIT, *, holder: str = "") -> str:
        """Wait (up to `wait` seconds) for the org lock; `Busy` names who holds it when it stays held."""
        name = org_lock(org_id)
        held = await wait_for_lock(self.store, name, owner, holder=holder, ttl=self.ttl, wait=wait,
                                   poll=self.poll)
        if held is not None:
            raise Busy.of(org_id, None, held if held.owner else None)
        self.holders[name] = owner
        return name

    async def release(self, names: Sequence[str], owner: str) -> None:
        """Release locks this owner holds."""
        for name in names:
            await self.store.release_lock(name, owner)
            if self.holders.get(name) == owner:
                del self.holders[name]

    async def release_all(self) -> None:
        """Release every lock this process holds (on shutdown); a store that is gone leaves them to expire."""
        for name, owner in list(self.holders.items()):
            with contextlib.suppress(Exception):
                await self.store.release_lock(name, owner)
            self.holders.pop(name, None)

    @asynccontextmanager
    async def holding(self, names: list[str], owner: str, run_id: str | None = None,
                      holder: str = "") -> AsyncIterator[RunLease]:
        """Keep the locks (and the run's heartbeat) alive while the block runs; release them after. The lease
        yielded is checked (`ensure`) before the run's first write, and stops the writes a lost lock covers."""
        lease = RunLease(self.store, owner, self.ttl, list(names), run_id, holder=holder)
        refresher = asyncio.create_task(lease.keep_alive())
        try:
            yield lease
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            await self.release(names, owner)


class Deployments:
    """Background deployments of this process, by run id."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, run_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background (it records its own outcome in the run)."""
        task = asyncio.create_task(work, name=f"deployment {run_id}")
        self.tasks[run_id] = task
        task.add_done_callback(lambda t: self._done(run_id, t))

    def _done(self, run_id: str, task: asyncio.Task[None]) -> None:
        self.tasks.pop(run_id, None)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("deployment %s stopped: %s", run_id, type(exc).__name__, exc_info=exc,
                      extra={"run_id": run_id})

    async def wait(self, run_id: str) -> None:
        """Wait for one deployment to end (it may have ended already)."""
        task = self.tasks.get(run_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    async def shutdown(self) -> None:
        """Cancel the running deployments and mark their runs cancelled."""
        running = dict(self.tasks)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        for run_id in running:
            with contextlib.suppress(Exception):
                await self.store.update_run(run_id, status="cancelled", finished_at=utcnow(), error=STOPPED)
