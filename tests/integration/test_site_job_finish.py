"""A site job that is not its run's last finishes its arq job in the same transaction as its done mark
(`RunBook.mark_done` with `job=`), and the worker then skips arq's own finishing round trip
(`ClaimingWorker.finish_job`): Redis ends as arq's `finish_job` leaves it. The run's last site's job, and a
job whose site was done already, stay arq's to finish."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix, retry_key_prefix
from arq.worker import func

from mistctl.scaleout.claim import FINISHED, ClaimingWorker
from mistctl.scaleout.queue import RunBook, job_deserializer, job_serializer
from tests.support.arq_queue import arq_queue

pytestmark = pytest.mark.redis


async def _started(pool: ArqRedis, queue: str, job_id: str) -> None:
    """A job as arq leaves it while it runs: queued, its payload, its try counted, its in-progress mark."""
    await pool.enqueue_job("site", "run-1", _job_id=job_id, _queue_name=queue)
    await pool.incr(retry_key_prefix + job_id)
    await pool.psetex(in_progress_key_prefix + job_id, 10_000, b"1")


async def _arq_keys(pool: ArqRedis, queue: str, job_id: str) -> tuple[int, float | None]:
    keys = (in_progress_key_prefix, retry_key_prefix, job_key_prefix)
    return await pool.exists(*(k + job_id for k in keys)), await pool.zscore(queue, job_id)


async def test_the_done_mark_finishes_the_job_unless_it_is_the_last_or_done_before(redis_url: str) -> None:
    async with arq_queue(redis_url, "sf") as (store, pool, queue):
        book = RunBook(store, "run-1")
        await book.expect(["s1", "s2"], [])
        await book.mark_enqueued()
        for job_id in ("site:run-1:s1", "site:run-1:s2"):
            await _started(pool, queue, job_id)
        count, score = await _arq_keys(pool, queue, "site:run-1:s1")
        assert count == 3 and score is not None
        added, last, finished = await book.mark_done("s1", "w1", None, {"sites_done": 1},
                                                     job=("site:run-1:s1", queue))
        assert (added, last, finished) == (True, False, True)
        assert await _arq_keys(pool, queue, "site:run-1:s1") == (0, None)  # as arq's finish_job leaves it
        assert await book.is_done("s1")
        # s1's job run again (a retried deploy queued it): its site is done, the job stays arq's
        await _started(pool, queue, "site:run-1:s1")
        assert await book.mark_done("s1", "w1", None, {"sites_done": 1}, job=("site:run-1:s1", queue)) == (
            False, False, False)
        assert (await _arq_keys(pool, queue, "site:run-1:s1"))[0] == 3
        # the last site: its job still queues `finish`, so arq finishes it after
        assert await book.mark_done("s2", "w1", None, {"sites_done": 1}, job=("site:run-1:s2", queue)) == (
            True, True, False)
        count, score = await _arq_keys(pool, queue, "site:run-1:s2")
        assert count == 3 and score is not None
        assert await store.r.hget(book.counts, "sites_done") == "2"


async def test_the_worker_skips_arqs_finish_of_a_job_that_finished_itself(redis_url: str) -> None:
    async with arq_queue(redis_url, "sf") as (store, pool, queue):
        async def work(ctx: dict[str, Any], finish_itself: bool) -> str:
            if finish_itself:
                await pool.delete(*(k + ctx["job_id"] for k in (in_progress_key_prefix, retry_key_prefix,
                                                                  job_key_prefix)))
                await pool.zrem(queue, ctx["job_id"])
                ctx[FINISHED].add(ctx["job_id"])
            await asyncio.sleep(0)
            return "ok"

        for job_id, itself in (("a", True), ("b", False)):
            await pool.enqueue_job("work", itself, _job_id=job_id, _queue_name=queue)
        worker = ClaimingWorker(functions=[func(work, name="work")], redis_pool=pool, queue_name=queue, max_jobs=4,
                                burst=True, poll_delay=0.01, handle_signals=False, job_serializer=job_serializer,
                                job_deserializer=job_deserializer, keep_result=60)
        await asyncio.wait_for(worker.main(), 30)
        assert worker.jobs_complete == 2
        assert not await pool.exists(result_key_prefix + "a")  # arq's finish_job (it keeps results) was skipped
        assert await pool.exists(result_key_prefix + "b")  # ... and ran for the other job
        assert await pool.zcard(queue) == 0
        assert worker.ctx[FINISHED] == set()  # forgotten once skipped
        await worker.close()
