"""What every job of one worker process shares (`WorkerState`), and the short lease each job holds.

A worker that dies (SIGKILL, a lost machine) must not hold its jobs for long: arq marks a started job
"in progress" for the job's timeout, which must stay long here (a job may wait an hour for Mist's rate
window). So every job holds a short lease instead: arq's in-progress key is set to `lease` seconds as the
worker takes the job, and it is renewed every third of that while the job runs (`Leases`, for all the
worker's running jobs at once). When the worker dies the
key expires, and the next poll of any other worker starts the job again (arq's retry: the job never left
the queue).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.errors import UserError
from mistctl.mist.budget import CallBudget
from mistctl.mist.budget_redis import shared_budget
from mistctl.mist.client import MistClient
from mistctl.mist.clock import Clock, SystemClock
from mistctl.mist.http import build_http_client, default_limits
from mistctl.mist.owners import Owner
from mistctl.mist.target import client_for, resolve_target, timeout_for
from mistctl.scaleout.queue import DeploymentQueue, RunBook
from mistctl.store.factory import open_store
from mistctl.store.redis_retry import LOST
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.deploy import CallLedger

log = logging.getLogger("mistctl.worker")

DEFAULT_LEASE = 10.0  # seconds before a dead worker's job is started again elsewhere


@dataclass
class WorkerState:
    """What every job of one worker process shares."""

    settings: Settings
    store: RedisStore
    http: httpx.AsyncClient
    tokens: list[SecretStr] = field(repr=False)
    budget: CallBudget
    clock: Clock
    lease: float = DEFAULT_LEASE
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    owners: dict[str, Owner] = field(default_factory=dict, repr=False)  # one admin's tokens: one budget

    def client(self, ledger: CallLedger, budget: CallBudget | None = None) -> MistClient:
        """A Mist client over the shared pool and budget (or `budget`, a job's view of it: `JobBudget`)
        whose calls feed `ledger`."""
        return client_for(self.http, self.tokens, self.settings, clock=self.clock, budget=budget or self.budget,
                          on_call=ledger.on_call, owners=self.owners)

    async def ready_client(self, ledger: CallLedger, budget: CallBudget | None = None) -> MistClient:
        """`client`, its tokens' owners known: the first job asks ``GET /self`` (once per token per process)
        while the jobs started with it wait for the answer instead of each asking it too."""
        mist = self.client(ledger, budget)
        if any(key not in self.owners for key in mist.token_keys):
            async with self._owner_lock:
                await mist.group_tokens()  # asks only for tokens still unknown (none once the first answered)
        return mist

    _owner_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    books: dict[str, RunBook] = field(default_factory=dict, repr=False)
    leases: Leases = field(init=False, repr=False)  # the running jobs' in-progress keys, renewed together

    def __post_init__(self) -> None:
        self.leases = Leases(self.lease)

    def book(self, run_id: str) -> RunBook:
        """The run's book (kept: building one registers its script, a SHA-1 over its text, per job)."""
        found = self.books.get(run_id)
        if found is None:
            if len(self.books) >= 64:  # runs of long-gone deployments
                self.books.clear()
            found = self.books[run_id] = RunBook(self.store, run_id)
        return found

    def queue(self, ctx: dict[str, Any]) -> DeploymentQueue:
        """The queue, over the arq pool the worker polls with."""
        pool: ArqRedis = ctx["redis"]
        return DeploymentQueue(self.store, pool)


@asynccontextmanager
async def open_worker_state(settings: Settings, *, lease: float = DEFAULT_LEASE, jobs: int = 8,
                            transport: httpx.AsyncBaseTransport | None = None,
                            clock: Clock | None = None) -> AsyncIterator[WorkerState]:
    """Store, Mist pool and budget for a worker; `UserError` when the settings cannot serve one."""
    if not (settings.mist_host or settings.tokens()):  # resolving would start the built-in twin here
        raise UserError("a worker needs a Mist it can share with other processes: set MIST_HOST and "
                        "MIST_APITOKEN (a Mist cloud, or a twin served with `mistctl twin serve`)")
    target = resolve_target(settings)
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(open_store(settings.mistctl_state))
        if not isinstance(store, RedisStore):
            raise UserError("a worker takes its jobs from Redis: set MISTCTL_STATE=redis://host:6379/0, the "
                            "same URL as the service and the CLI that queue deployments")
        await store.ping()
        budget = shared_budget(store, settings, clock)
        assert budget is not None  # a Redis store always has one
        http = await stack.enter_async_context(build_http_client(
            target.base_url, transport=transport, timeout=timeout_for(settings),
            limits=default_limits(jobs + settings.mist_concurrency)))
        state = WorkerState(settings, store, http, list(target.tokens), budget, clock, lease)
        try:
            yield state
        finally:
            state.leases.close()


def state_of(ctx: dict[str, Any]) -> WorkerState:
    """The worker's shared state, from an arq job context."""
    found: WorkerState = ctx["mistctl"]
    return found


class Leases:
    """The in-progress keys of the jobs a worker runs, renewed together: every third of the lease, one
    pipeline of PEXPIREs for all of them (one task per worker, not one per job), while any is held."""

    def __init__(self, lease: float) -> None:
        self.lease = lease
        self.keys: dict[str, ArqRedis] = {}  # key -> the pool that took it (arq's)
        self._task: asyncio.Task[None] | None = None

    def hold(self, key: str, pool: ArqRedis) -> None:
        """Renew `key` from now on (its job runs; the worker set it to `lease` as it took the job)."""
        self.keys[key] = pool
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._renew())

    def release(self, key: str) -> None:
        self.keys.pop(key, None)

    def close(self) -> None:
        """Stop renewing (the worker stops)."""
        if self._task is not None:
            self._task.cancel()

    async def _renew(self) -> None:
        ms = max(1, int(self.lease * 1000))
        while True:
            await asyncio.sleep(self.lease / 3)
            if not self.keys:
                return  # the next `hold` starts another
            pools: dict[int, tuple[ArqRedis, list[str]]] = {}
            for key, pool in self.keys.items():
                pools.setdefault(id(pool), (pool, []))[1].append(key)
            for pool, keys in pools.values():
                try:
                    async with pool.pipeline(transaction=False) as pipe:
                        for key in keys:
                            pipe.pexpire(key, ms)
                        await pipe.execute()
                except LOST:  # Redis is away for long: the jobs go on; their leases are renewed once it is back
                    log.warning("cannot renew the leases of %d job(s) (Redis is unreachable)", len(keys))


@asynccontextmanager
async def job_lease(ctx: dict[str, Any]) -> AsyncIterator[None]:
    """Hold the running job's in-progress key for `lease` seconds at a time (see the module docstring).

    The worker set it to `lease` as it took the job (`worker.create_worker`): the worker's `Leases` renew
    it every third of the lease until the job ends."""
    leases = state_of(ctx).leases
    key = in_progress_key_prefix + str(ctx["job_id"])
    leases.hold(key, ctx["redis"])
    try:
        yield
    finally:
        leases.release(key)
