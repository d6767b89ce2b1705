"""`ClaimingWorker` takes the polled jobs in one round trip: each queued job is started once however many
workers poll, a job in progress elsewhere or not due yet is left alone, and a taken job's in-progress
mark lives for the worker's lease (so a dead worker's job is started again soon)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from arq.worker import func

from mistctl.scaleout.claim import ClaimingWorker
from mistctl.scaleout.queue import arq_pool, job_deserializer, job_serializer
from mistctl.store.redis_store import RedisStore
from tests.support.arq_queue import arq_queue

pytestmark = pytest.mark.redis


def _worker(pool: ArqRedis, queue: str, ran: list[str], *, jobs: int = 4, lease: float = 7.0) -> ClaimingWorker:
    async def work(ctx: dict[str, Any], n: int) -> None:
        ran.append(ctx["job_id"])
        await asyncio.sleep(0.01)

    worker = ClaimingWorker(functions=[func(work, name="work")], redis_pool=pool, queue_name=queue, max_jobs=jobs,
                            burst=True, poll_delay=0.01, handle_signals=False, job_serializer=job_serializer,
                            job_deserializer=job_deserializer, keep_result=60)
    worker.in_progress_timeout_s = lease
    return worker


async def test_two_workers_start_each_job_once(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"wc-{uuid4().hex[:8]}:")
    pools = [arq_pool(store) for _ in range(3)]
    queue = f"{store.keys.prefix}queue"
    try:
        for i in range(40):
            await pools[0].enqueue_job("work", i, _job_id=f"job-{i}", _queue_name=queue)
        ran: list[str] = []
        workers = [_worker(pools[1], queue, ran), _worker(pools[2], queue, ran)]
        await asyncio.wait_for(asyncio.gather(*(w.main() for w in workers)), 60)
        assert sorted(ran) == sorted(f"job-{i}" for i in range(40))
        assert await pools[0].zcard(queue) == 0
        assert sum(w.jobs_complete for w in workers) == 40
        for w in workers:
            await w.close()
    finally:
        for pool in pools:
            await pool.aclose(close_connection_pool=True)
        await store.close()


async def test_a_job_in_progress_or_not_due_is_left_and_a_taken_one_is_marked_for_the_lease(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"wc-{uuid4().hex[:8]}:")
    pool = arq_pool(store)
    queue = f"{store.keys.prefix}queue"
    try:
        for i in range(4):
            await pool.enqueue_job("work", i, _job_id=f"j{i}", _queue_name=queue)
        await pool.enqueue_job("work", 9, _job_id="later", _queue_name=queue, _defer_by=600)
        await pool.psetex(in_progress_key_prefix + "j0", 60_000, b"1")  # another worker runs it
        ran: list[str] = []
        worker = _worker(pool, queue, ran, jobs=2, lease=7.0)
        await worker.start_jobs([b"j0", b"later", b"gone", b"j1", b"j2", b"j3"])
        assert sorted(worker.tasks) == ["j1", "j2"]  # two free slots; j0 runs elsewhere, later is not due
        assert worker.job_counter == 2
        for job_id in ("j1", "j2"):
            assert 0 < await pool.pttl(in_progress_key_prefix + job_id) <= 7000
        assert await pool.exists(in_progress_key_prefix + "j3", in_progress_key_prefix + "later") == 0
        assert 50_000 < await pool.pttl(in_progress_key_prefix + "j0") <= 60_000  # untouched
        await asyncio.gather(*worker.tasks.values())
        assert sorted(ran) == ["j1", "j2"]
        assert worker.job_counter == 0
        await worker.start_jobs([b"j0", b"j3"])
        assert sorted(worker.tasks) == ["j1", "j2", "j3"]
        await asyncio.gather(*worker.tasks.values())
        await worker.close()
    finally:
        await pool.aclose(close_connection_pool=True)
        await store.close()


async def _execs(pool: ArqRedis) -> int:
    """MULTI/EXEC transactions the server ran so far (arq's `run_job` and `finish_job` each send one)."""
    stats = await pool.info("commandstats")
    return int(stats.get("cmdstat_exec", {}).get("calls", 0))


async def test_a_taken_job_starts_with_what_the_claim_read_its_tries_counted_as_arq_counts_them(
        redis_url: str) -> None:
    """The claim reads each taken job's payload and counts its try (arq's `run_job` first round trip): the job
    runs with its arguments and try, its retry key as arq leaves it, and starting it sends no transaction of
    its own (only arq's finish does); a job whose payload is gone fails as arq fails it (expired)."""
    async with arq_queue(redis_url, "wc") as (_, pool, queue):
        seen: list[tuple[str, int, int]] = []

        async def work(ctx: dict[str, Any], n: int) -> None:
            seen.append((ctx["job_id"], n, ctx["job_try"]))

        for i in range(3):
            await pool.enqueue_job("work", 10 + i, _job_id=f"t{i}", _queue_name=queue)
        await pool.set(retry_key_prefix + "t2", b"3")  # t2 ran three times before (its workers died)
        await pool.enqueue_job("work", 99, _job_id="gone", _queue_name=queue)
        await pool.delete(job_key_prefix + "gone")
        worker = ClaimingWorker(functions=[func(work, name="work")], redis_pool=pool, queue_name=queue, max_jobs=8,
                                burst=True, poll_delay=0.01, handle_signals=False, job_serializer=job_serializer,
                                job_deserializer=job_deserializer, keep_result=60)
        before = await _execs(pool)
        await worker.start_jobs([b"t0", b"t1", b"t2", b"gone"])
        await asyncio.gather(*worker.tasks.values())
        assert sorted(seen) == [("t0", 10, 1), ("t1", 11, 1), ("t2", 12, 4)]
        assert await _execs(pool) - before == 4  # the four finishes (three results, one failure), no start
        assert worker.jobs_complete == 3 and worker.jobs_failed == 1
        assert await pool.zcard(queue) == 0  # "gone" was taken off the queue as arq takes an expired job off
        assert await pool.exists(retry_key_prefix + "t0") == 0  # finished: arq deletes its try count
        await pool.enqueue_job("work", 5, _job_id="again", _queue_name=queue)
        await pool.psetex(in_progress_key_prefix + "again", 60_000, b"1")  # running elsewhere: not taken
        await worker.start_jobs([b"again"])
        assert worker.tasks.keys() == {"t0", "t1", "t2", "gone"} and await pool.get(retry_key_prefix + "again") is None
        await pool.delete(in_progress_key_prefix + "again")  # that worker died: the job is taken, its try counted
        await worker.start_jobs([b"again"])
        assert 88_000 < await pool.ttl(retry_key_prefix + "again") <= 88_400
        await asyncio.gather(*worker.tasks.values())
        assert seen[-1] == ("again", 5, 1)
        await worker.close()
