"""`DeploymentQueue.enqueue_sites` queues a run's site jobs in one script per batch, as arq's `enqueue_job`
queues each: the same payload, id, queue and expiry; a job queued already, or finished with its result
kept, is left alone (deterministic job ids: queueing twice is a no-op)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import deserialize_job

from mistctl.scaleout import queue as q
from mistctl.scaleout.queue import BOOK_TTL, SITE, arq_pool, job_deserializer, queue_name
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.site_job import SiteJob

pytestmark = pytest.mark.redis


async def test_site_jobs_are_queued_as_arq_queues_them_and_only_once(redis_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(q, "ENQUEUE_BATCH", 2)  # several batches
    store = RedisStore.from_url(redis_url, prefix=f"es-{uuid4().hex[:8]}:")
    pool = arq_pool(store)
    try:
        queue = q.DeploymentQueue(store, pool)
        jobs = [SiteJob(org_id="o1", site=f"s{i}", action="create", body={"name": f"s{i}"}, macs=["aabbccddeef0"])
                for i in range(5)]
        await pool.set(result_key_prefix + f"{SITE}:r1:s4", b"{}")  # s4 finished, its result kept
        assert await queue.enqueue_sites("r1", jobs) == 4
        assert await queue.enqueue_sites("r1", jobs) == 0
        assert await pool.zcard(queue_name(store)) == 4
        await pool.enqueue_job(SITE, "r1", jobs[0].to_json(), _job_id="by-arq", _expires=BOOK_TTL)
        theirs = deserialize_job(await pool.get(job_key_prefix + "by-arq"), deserializer=job_deserializer)
        for job in jobs[:4]:
            job_id = f"{SITE}:r1:{job.site}"
            mine = deserialize_job(await pool.get(job_key_prefix + job_id), deserializer=job_deserializer)
            assert mine.function == theirs.function == SITE
            assert list(mine.args) == ["r1", job.to_json()] and mine.kwargs == theirs.kwargs == {}
            assert mine.job_try is theirs.job_try is None and list(theirs.args) == ["r1", jobs[0].to_json()]
            assert (BOOK_TTL - 60) * 1000 < await pool.pttl(job_key_prefix + job_id) <= BOOK_TTL * 1000
            score = await pool.zscore(queue_name(store), job_id)
            assert score is not None and abs(score - mine.enqueue_time.timestamp() * 1000) < 1
        assert await pool.exists(job_key_prefix + f"{SITE}:r1:s4") == 0
    finally:
        await pool.aclose(close_connection_pool=True)
        await store.close()
