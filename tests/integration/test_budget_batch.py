"""A job's calls taken from the shared Redis budget at once (`JobBudget`, `RedisCallBudget.reserve_many`),
against a real redis-server: never more than the window allows however many jobs take batches at once,
unused calls given back when the job settles (not after a 429), a batch of a window that is over unused,
a job that never settles (its worker killed) leaving its calls counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from mistctl.mist import InMemoryCallBudget, ManualClock
from mistctl.mist.budget_batch import JobBudget
from mistctl.mist.budget_redis import RedisCallBudget

HOUR = 3600.0
pytestmark = pytest.mark.redis


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[list[Redis]]:
    found = [Redis.from_url(redis_url, decode_responses=True) for _ in range(4)]
    try:
        yield found
    finally:
        for c in found:
            await c.aclose()


@pytest.fixture
def prefix() -> str:
    return f"bb-{uuid4().hex[:10]}:"


async def settle(job: JobBudget) -> None:
    for script, keys, args in job.settle_calls():
        await script(keys=keys, args=args)


async def test_jobs_taking_batches_at_once_never_exceed_the_window_and_give_back_what_they_did_not_use(
        clients, prefix):
    """60 jobs on 4 connections, each wanting 3 calls and sending 1 to 4, race for 100 calls (1 kept back)."""
    clock = ManualClock(HOUR * 5 + 10)
    shared = [RedisCallBudget(c, clock, prefix=prefix, limit=100) for c in clients]

    async def job(i: int) -> int:
        mine = JobBudget(shared[i % 4], clock, calls=3)
        sent = 0
        for _ in range(1 + i % 4):  # 1 to 4 calls: fewer than taken, as many, one more
            if await mine.reserve("tok") == 0.0:
                sent += 1
            await asyncio.sleep(0)
        await settle(mine)
        return sent

    sent = sum(await asyncio.gather(*(job(i) for i in range(60))))
    state = await shared[0].state("tok")
    assert sent <= 99 and state.used == sent  # settled: the count is the calls sent, no more, none lost
    assert await clients[0].hget(f"{prefix}budget:tok", "held") == "0"
    late = JobBudget(shared[0], clock, calls=3)  # what a batch held back from a refused job is there again
    while await late.reserve("tok") == 0.0:
        sent += 1
    await settle(late)
    assert sent == 99 and (await shared[0].state("tok")).used == 99  # every call the window allows, no more


async def test_unused_calls_come_back_only_while_no_429_or_sync_came_between(clients, prefix):
    clock = ManualClock(HOUR * 2 + 100)
    shared = RedisCallBudget(clients[0], clock, prefix=prefix, limit=1000, headroom=0)
    job = JobBudget(shared, clock, calls=3)
    assert await job.reserve("tok") == 0.0
    assert (await shared.state("tok")).used == 3  # the whole batch counts at once
    await settle(job)
    assert (await shared.state("tok")).used == 1  # two unused: given back

    late = JobBudget(shared, clock, calls=3)
    assert await late.reserve("tok") == 0.0
    assert (await shared.state("tok")).used == 4
    await shared.sync("tok", used=2, limit=1000, reset_in=None)  # Mist has seen 2: the held 3 stay counted
    assert (await shared.state("tok")).used == 5
    await settle(late)
    assert (await shared.state("tok")).used == 5  # a sync came between: nothing given back

    spent = JobBudget(shared, clock, calls=3)
    assert await spent.reserve("tok") == 0.0
    assert await spent.exhaust("tok", retry_after=30) == pytest.approx(30)  # Mist answered 429
    assert await spent.reserve("tok") == pytest.approx(30)  # the batch's two others are not used either
    await settle(spent)
    assert (await shared.state("tok")).used == 1000  # still spent: a 429 is never given back


async def test_a_batch_of_a_window_that_is_over_is_not_used(clients, prefix):
    clock = ManualClock(HOUR * 3 - 1)
    shared = RedisCallBudget(clients[0], clock, prefix=prefix, limit=1000, headroom=0)
    job = JobBudget(shared, clock, calls=3)
    assert await job.reserve("tok") == 0.0
    clock.advance(2)  # the top of the hour: the two calls left were counted in the last window
    assert await job.reserve("tok") == 0.0
    assert (await shared.state("tok")).used == 1  # counted again, in the window Mist counts it in
    await settle(job)
    assert (await shared.state("tok")).used == 1  # nothing of the old window given back into this one


async def test_a_job_that_never_settles_leaves_its_calls_counted_until_the_window_ends(clients, prefix):
    clock = ManualClock(HOUR * 4 + 5)
    shared = RedisCallBudget(clients[0], clock, prefix=prefix, limit=10, headroom=0)
    killed = JobBudget(shared, clock, calls=4)
    assert await killed.reserve("tok") == 0.0  # its worker dies here: no settle
    others = [JobBudget(shared, clock, calls=4) for _ in range(3)]
    answers = [await o.reserve("tok") for o in others for _ in range(4)]
    assert answers.count(0.0) == 6  # 10 - the 4 the killed job took
    assert (await shared.state("tok")).used == 10
    clock.advance(HOUR)
    assert (await shared.state("tok")).used == 0


async def test_a_job_of_one_call_or_an_in_memory_budget_reserves_one_at_a_time(clients, prefix):
    clock = ManualClock(HOUR * 6 + 5)
    shared = RedisCallBudget(clients[0], clock, prefix=prefix, limit=1000, headroom=0)
    one = JobBudget(shared, clock, calls=1)
    assert await one.reserve("tok") == 0.0
    assert (await shared.state("tok")).used == 1 and one.settle_calls() == []
    memory = InMemoryCallBudget(clock, limit=10, headroom=0)
    job = JobBudget(memory, clock, calls=3)
    assert await job.reserve("tok") == 0.0
    assert (await memory.state("tok")).used == 1 and job.settle_calls() == []
