"""`mistctl worker`: an arq worker that runs queued deployments (jobs in `mistctl.scaleout.jobs`).

One worker process holds one state store (Redis), one pooled `httpx.AsyncClient` to Mist and the shared
Redis call budget; each job builds a cheap `MistClient` over them with a call ledger of its own, so every
run keeps its own audit trail. Several workers (on one machine or many) share one deployment.

A worker that dies (SIGKILL, a lost machine) must not hold its jobs for long: arq marks a started job
"in progress" for the job's timeout, which must stay long here (a job may wait an hour for Mist's rate
window). So every job holds a short lease instead: the worker sets arq's in-progress key to `lease`
seconds as it takes the job (`ClaimingWorker`, which takes all it can in one round trip), and it is
renewed every third of that while the job runs (`Leases`: one pipeline for all the worker's running jobs).
When the worker dies the key expires, and the next poll of
any other worker starts the job again (arq's retry: the job never left the queue).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from arq.worker import Worker, func

from mistctl.config import Settings
from mistctl.scaleout.claim import ClaimingWorker
from mistctl.scaleout.jobs import deploy, finish, site
from mistctl.scaleout.queue import (
    DEPLOY,
    FINISH,
    SITE,
    arq_pool,
    job_deserializer,
    job_serializer,
    queue_name,
)
from mistctl.scaleout.state import DEFAULT_LEASE, WorkerState, open_worker_state
from mistctl.store.factory import redis_where
from mistctl.store.redis_retry import LOST, backoff

log = logging.getLogger("mistctl.worker")

JOB_TIMEOUT = 6 * 3600  # a job may wait for the org lock and for Mist's rate windows
POLL_DELAY = 0.05  # seconds between queue polls when every slot is busy or the queue is empty
ARQ_TRIES = 1000  # arq's own cap; the jobs count their tries themselves (and record why they stop)
HEALTH_INTERVAL = 5.0  # seconds between the worker's health-check key updates
RECONNECT_RESET = 30.0  # seconds of polling after which a lost Redis counts as a first failure again


def worker_settings(state: WorkerState, *, jobs: int = 8, burst: bool = False) -> dict[str, Any]:
    """arq `Worker` keyword arguments for the three job functions, on the store's Redis and queue.

    A site job keeps no arq result (its payload serialised once more and written per site): the run's book
    says what became of it, and a site job queued again after it finished (a retried deploy job) finds its
    site done there and does nothing."""

    return {
        "functions": [func(deploy, name=DEPLOY, timeout=JOB_TIMEOUT, max_tries=ARQ_TRIES),
                      func(site, name=SITE, timeout=JOB_TIMEOUT, max_tries=ARQ_TRIES, keep_result=0),
                      func(finish, name=FINISH, timeout=JOB_TIMEOUT, max_tries=ARQ_TRIES)],
        "redis_pool": arq_pool(state.store),
        "queue_name": queue_name(state.store),
        "ctx": {"mistctl": state},
        "max_jobs": jobs,
        "burst": burst,
        "poll_delay": POLL_DELAY,
        "job_timeout": JOB_TIMEOUT,
        "keep_result": 3600,
        "max_tries": ARQ_TRIES,
        "health_check_interval": HEALTH_INTERVAL,
        "job_serializer": job_serializer,
        "job_deserializer": job_deserializer,
        "log_results": False,
    }


def create_worker(state: WorkerState, *, jobs: int = 8, burst: bool = False,
                  handle_signals: bool = True) -> Worker:
    """An arq `Worker` whose jobs are held by short leases from the moment arq starts them.

    arq marks a started job in progress for its timeout plus 10 s (hours here) before the job function
    runs; a worker killed in that instant would hold the job for hours. Starting the mark at the lease
    closes the gap (`job_lease` then keeps renewing it).
    """
    worker = ClaimingWorker(**worker_settings(state, jobs=jobs, burst=burst), handle_signals=handle_signals)
    worker.in_progress_timeout_s = state.lease
    return worker


async def poll_reconnecting(worker: Worker, name: str, sleep: Any = asyncio.sleep,
                            monotonic: Any = time.monotonic) -> None:
    """arq's polling loop, started again with backoff each time it stops on a lost Redis, for as long as
    Redis is away (a restarted redis-server). Jobs already running go on meanwhile (their store calls
    retry on their own); a job whose bookkeeping was lost is started again after its lease."""
    failures = 0
    while True:
        started = monotonic()
        try:
            await worker.async_run()
            return
        except LOST as exc:
            failures = 1 if monotonic() - started > RECONNECT_RESET else failures + 1
            wait = backoff(failures)
            log.warning("worker %s lost Redis (%s: %s); polling again in %.1f s", name, type(exc).__name__,
                        exc, wait, extra={"reconnects": failures})
            await sleep(wait)


async def run_worker(settings: Settings, *, jobs: int, burst: bool = False, lease: float = DEFAULT_LEASE,
                     ready: Any = None) -> int:
    """Run a worker until SIGINT/SIGTERM (or, with `burst`, until the queue is empty); jobs completed.

    `ready(line)` is called once the worker polls (the CLI prints it).
    """
    async with open_worker_state(settings, lease=lease, jobs=jobs) as state:
        worker = create_worker(state, jobs=jobs, burst=burst)
        if ready is not None:
            ready(f"mistctl worker ready: queue {queue_name(state.store)} on "
                  f"{redis_where(settings.mistctl_state)}, {jobs} jobs at once, lease {lease:g} s, "
                  f"as {state.name}")
        try:
            await poll_reconnecting(worker, state.name)
        except asyncio.CancelledError:  # SIGINT/SIGTERM: arq cancelled the running jobs; they are re-queued
            log.info("worker %s stopping", state.name)
        finally:
            await worker.close()
        return worker.jobs_complete
