"""The Redis call budget against a real redis-server: atomic across tasks and processes, windows, sync, 429s.

Every test has its own key prefix on the session's throwaway server. The window arithmetic is checked
against `InMemoryCallBudget` (the same operations give the same states), then what only a shared
budget must do: many clients and several OS processes reserving at once never exceed the limit.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from redis.asyncio import Redis

from mistctl.config import Settings
from mistctl.mist import InMemoryCallBudget, ManualClock, MistClient, build_http_client
from mistctl.mist.budget_redis import RedisCallBudget, shared_budget
from mistctl.store.factory import open_store
from mistctl.store.memory import MemoryStore
from tests.support.twin import twin_app, twin_transport

HOUR = 3600.0
pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    r = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield r
    finally:
        await r.aclose()


@pytest.fixture
def prefix() -> str:
    return f"b-{uuid4().hex[:10]}:"


def budget(client: Redis, clock: ManualClock, prefix: str, **kw) -> RedisCallBudget:
    return RedisCallBudget(client, clock, prefix=prefix, **kw)


async def test_reserve_counts_until_the_limit_then_says_how_long_to_wait(client, prefix):
    clock = ManualClock(HOUR * 10 + 3590)
    b = budget(client, clock, prefix, limit=3, headroom=0)
    assert [await b.reserve("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await b.reserve("k") == pytest.approx(10)
    state = await b.state("k")
    assert (state.used, state.limit, state.remaining) == (3, 3, 0)
    clock.advance(10)  # the top of the hour: a new window
    assert await b.reserve("k") == 0.0
    assert (await b.state("k")).used == 1


async def test_headroom_is_kept_back_and_windows_keep_their_grid(client, prefix):
    clock = ManualClock(HOUR * 5 + 100)
    b = budget(client, clock, prefix, limit=200)
    taken = [await b.reserve("k") for _ in range(200)]
    assert taken.count(0.0) == 198  # 1% of 200 kept back for other tools and calls in flight
    clock.advance(HOUR * 3)  # three windows skipped entirely
    state = await b.state("k")
    assert (state.used, state.reserve) == (0, 2)
    assert state.reset_in == pytest.approx(HOUR - 100)


async def test_tokens_have_separate_windows(client, prefix):
    b = budget(client, ManualClock(0.5), prefix, limit=1, headroom=0)
    assert await b.reserve("a") == 0.0
    assert await b.reserve("b") == 0.0
    assert await b.reserve("a") > 0


async def test_the_same_operations_give_the_same_states_as_the_in_memory_budget(client, prefix):
    """A random mix of reserve/advance/exhaust/state on both budgets, compared step by step."""
    rng = random.Random(7)
    c1, c2 = ManualClock(HOUR * 100 + 17.25), ManualClock(HOUR * 100 + 17.25)
    shared = budget(client, c1, prefix, limit=12, window=60)
    local = InMemoryCallBudget(c2, limit=12, window=60)
    for _ in range(300):
        op = rng.choice(["reserve"] * 6 + ["advance", "exhaust", "state"])
        if op == "reserve":
            assert await shared.reserve("k") == pytest.approx(await local.reserve("k"))
        elif op == "advance":
            step = rng.choice([0.5, 7.0, 30.0, 61.0, 200.0])
            c1.advance(step)
            c2.advance(step)
        elif op == "exhaust":
            after = rng.choice([None, 5.0])
            assert await shared.exhaust("k", retry_after=after) == pytest.approx(
                await local.exhaust("k", retry_after=after))
        a, b = await shared.state("k"), await local.state("k")
        assert (a.used, a.limit, a.reserve) == (b.used, b.limit, b.reserve)
        assert a.reset_in == pytest.approx(b.reset_in, abs=1e-5)


async def test_many_clients_reserving_at_once_never_exceed_the_limit(redis_url, prefix):
    clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(4)]
    try:
        clock = ManualClock(HOUR * 3 + 5)
        budgets = [budget(c, clock, prefix, limit=150) for c in clients]
        answers = await asyncio.gather(*(budgets[i % 4].reserve("tok") for i in range(600)))
        assert sum(a == 0.0 for a in answers) == 150 - 2
        assert (await budgets[0].state("tok")).used == 148
    finally:
        for c in clients:
            await c.aclose()


_RESERVER = """
import asyncio, sys
from redis.asyncio import Redis
from mistctl.mist.budget_redis import RedisCallBudget
from mistctl.mist.clock import SystemClock

async def main(url, prefix, n):
    r = Redis.from_url(url, decode_responses=True)
    b = RedisCallBudget(r, SystemClock(), prefix=prefix, limit=500, window=3600, headroom=0)
    await r.incr(prefix + "ready")
    while int(await r.get(prefix + "ready")) < 4:  # start together, so the race is real
        await asyncio.sleep(0.005)
    answers = await asyncio.gather(*(b.reserve("tok") for _ in range(n)))
    await r.aclose()
    print(sum(a == 0.0 for a in answers))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_processes_reserving_at_once_share_one_window(redis_url, prefix):
    """Four OS processes race for 500 calls, 300 tries each: exactly 500 are granted in all."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVER, redis_url, prefix, "300"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    granted = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-2000:]
        granted.append(int(out.strip()))
    assert sum(granted) == 500
    assert all(g > 0 for g in granted)  # every process got a share, none was starved


async def test_sync_raises_the_count_but_never_gives_away_reserved_calls(client, prefix):
    clock = ManualClock(HOUR * 7 + 600)
    b = budget(client, clock, prefix, limit=5000)
    for _ in range(40):
        await b.reserve("k")
    await b.sync("k", used=100, limit=5000, reset_in=HOUR - 600)  # another tool used the token too
    assert (await b.state("k")).used == 100
    await b.sync("k", used=70, limit=5000, reset_in=HOUR - 600)  # Mist has not seen every reserved call
    assert (await b.state("k")).used == 100
    await b.sync("k", used=120, limit=2000, reset_in=None)  # a smaller limit for this token
    state = await b.state("k")
    assert (state.used, state.limit, state.reserve) == (120, 2000, 20)


async def test_sync_with_another_reset_time_re_anchors_the_window(client, prefix):
    clock = ManualClock(HOUR * 7 + 600)
    b = budget(client, clock, prefix, limit=5000)
    for _ in range(40):
        await b.reserve("k")
    await b.sync("k", used=3, limit=5000, reset_in=120.0)  # Mist's window ends elsewhere: its count wins
    state = await b.state("k")
    assert (state.used, state.reset_in) == (3, pytest.approx(120.0))
    clock.advance(120.0)
    assert (await b.state("k")).used == 0  # reset at Mist's time, then every hour after it
    assert (await b.state("k")).reset_in == pytest.approx(HOUR)


async def test_sync_snaps_a_rounded_reset_to_the_grid(client, prefix):
    clock = ManualClock(HOUR * 7 + 600)
    b = budget(client, clock, prefix)
    await b.sync("k", used=10, limit=5000, reset_in=HOUR - 600 + 0.4)  # Mist rounds `seconds`
    assert (await b.state("k")).reset_in == pytest.approx(HOUR - 600)


async def test_exhaust_spends_the_window_and_honours_retry_after(client, prefix):
    clock = ManualClock(HOUR * 2 + 1000)
    b = budget(client, clock, prefix, limit=100)
    assert await b.exhaust("k") == pytest.approx(HOUR - 1000)
    assert await b.reserve("k") == pytest.approx(HOUR - 1000)
    assert await b.exhaust("k", retry_after=30) == pytest.approx(30)
    clock.advance(30)
    assert await b.reserve("k") == 0.0


async def test_two_budget_objects_on_one_prefix_are_one_budget(client, prefix):
    clock = ManualClock(HOUR * 9)
    a, b = (budget(client, clock, prefix, limit=4, headroom=0) for _ in range(2))
    assert [await x.reserve("k") for x in (a, b, a, b)] == [0.0] * 4
    assert await a.reserve("k") > 0 and await b.reserve("k") > 0
    other = budget(client, clock, f"x{prefix}", limit=4, headroom=0)  # another prefix: another deployment
    assert await other.reserve("k") == 0.0


async def test_idle_windows_expire(client, prefix):
    b = budget(client, ManualClock(HOUR * 4 + 3000), prefix)
    await b.reserve("k")
    ttl = await client.pttl(b.key_of("k"))
    assert 0 < ttl <= (600 + HOUR) * 1000


async def test_shared_budget_only_for_a_redis_store(redis_url, prefix):
    settings = Settings(mist_rate_limit=300, mist_rate_window=60)
    assert shared_budget(MemoryStore(), settings) is None
    async with open_store(f"{redis_url}?prefix={prefix}") as store:
        found = shared_budget(store, settings, ManualClock(HOUR))
        assert isinstance(found, RedisCallBudget)
        state = await found.state("k")
        assert (state.limit, state.reset_in) == (300, pytest.approx(60))


async def test_a_pool_of_tokens_shares_the_calls_without_a_429(client, prefix):
    """Two tokens of one org, each allowed 15 calls a window by the twin: 30 calls pass, none refused."""
    clock = ManualClock(HOUR * 11)
    app = twin_app(clock=clock.now, rate_limit=15, device_count=0)
    twin = app.state.twin
    second = twin.add_token("admin").token
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(transport=twin_transport(app), base_url="http://twin") as control,
    ):
        mist = MistClient(http, [twin.token, second], clock=clock,
                          budget=budget(client, clock, prefix, limit=15, headroom=0))
        await asyncio.gather(*(mist.create_sitegroup(twin.org_id, {"name": f"g{i}"}) for i in range(30)))
        seen = (await control.get("/__twin/counters")).json()
        used = [s.used for s in await mist.budget_states()]
    assert seen["rate_limited"] == 0
    assert used == [15, 15]
    assert len(twin.objects("sitegroups")) == 30
