"""Rate awareness: the budget paces calls before Mist says 429; 429s are honoured; usage re-syncs."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from contextlib import asynccontextmanager
from email.utils import formatdate

import httpx
import pytest

from mistctl.mist import (
    InMemoryCallBudget,
    ManualClock,
    MistClient,
    RateLimited,
    RetryPolicy,
    build_http_client,
    token_fingerprint,
)

TOKEN = "tok-rate-0123456789"
ORG = "org-1"
START = 1_700_000_000.0  # 2800 s before a top of the hour


class RateLimitedMist:
    """Counts requests per (token, fixed window) like Mist, answering 429 past the limit."""

    def __init__(self, clock: ManualClock, limit: int, window: float) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self.per_window: Counter[tuple[str, int]] = Counter()
        self.statuses: list[int] = []
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Token ")
        slot = (token, int(self.clock.now() // self.window))
        self.per_window[slot] += 1
        self.tokens.append(token)
        status = 429 if self.per_window[slot] > self.limit else 200
        self.statuses.append(status)
        if status == 429:
            return httpx.Response(429, json={"detail": "Too Many Request."})
        return httpx.Response(200, json={"id": "x", "privileges": []})


class Script:
    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers[min(len(self.requests), len(self.answers)) - 1]


OK = httpx.Response(200, json={"id": "x-1"})


def too_many(**headers: str) -> httpx.Response:
    return httpx.Response(429, json={"detail": "Too Many Request."}, headers=headers)


@asynccontextmanager
async def client_for(handler, clock, tokens=TOKEN, **kw):
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(handler)) as http:
        yield MistClient(http, tokens, clock=clock, rng=random.Random(11), **kw)


async def test_a_burst_past_the_limit_waits_for_the_reset_instead_of_sending():
    clock = ManualClock(START)
    mist = RateLimitedMist(clock, limit=10, window=60)
    budget = InMemoryCallBudget(clock, limit=10, window=60, headroom=0)
    async with client_for(mist, clock, budget=budget) as client:
        await asyncio.gather(*(client.get_site(f"s-{i}") for i in range(25)))
    assert len(mist.statuses) == 25
    assert 429 not in mist.statuses
    assert max(mist.per_window.values()) <= 10
    assert len(mist.per_window) == 3
    assert client.calls.by_outcome == {"ok": 25}


async def test_sequential_calls_past_the_limit_are_paced_too():
    clock = ManualClock(START)
    mist = RateLimitedMist(clock, limit=4, window=10)
    budget = InMemoryCallBudget(clock, limit=4, window=10, headroom=0)
    async with client_for(mist, clock, budget=budget) as client:
        for i in range(13):
            await client.get_site(f"s-{i}")
    assert 429 not in mist.statuses
    assert max(mist.per_window.values()) <= 4
    assert clock.now() - START < 40  # three resets, each waited once


async def test_headroom_keeps_calls_in_reserve():
    clock = ManualClock(START)
    mist = RateLimitedMist(clock, limit=100, window=60)
    budget = InMemoryCallBudget(clock, limit=100, window=60, headroom=0.05)
    async with client_for(mist, clock, budget=budget) as client:
        for i in range(96):
            await client.get_site(f"s-{i}")
        state = (await client.budget_states())[0]
    assert sorted(mist.per_window.values()) == [1, 95]
    assert (state.reserve, state.used, state.remaining) == (5, 1, 94)


async def test_429_with_retry_after_waits_that_long_then_retries():
    clock = ManualClock(START)
    script = Script(too_many(**{"Retry-After": "7"}), OK)
    async with client_for(script, clock) as client:
        await client.get_site("s-1")
    assert len(script.requests) == 2
    assert 7 <= clock.slept <= 8
    assert client.calls.by_outcome == {"rate_limited": 1, "ok": 1}


async def test_429_with_an_http_date_retry_after():
    clock = ManualClock(START)
    script = Script(too_many(**{"Retry-After": formatdate(START + 20, usegmt=True)}), OK)
    async with client_for(script, clock) as client:
        await client.get_site("s-1")
    assert 20 <= clock.slept <= 21


async def test_429_without_retry_after_reads_the_reset_from_self_usage():
    clock = ManualClock(START)
    usage = httpx.Response(200, json={"request_limit": 5000, "requests": 5003, "seconds": 1234})
    script = Script(too_many(), usage, OK)
    async with client_for(script, clock, policy=RetryPolicy(rate_jitter=0)) as client:
        await client.get_site("s-1")
        [state] = await client.budget_states()
    assert [r.url.path for r in script.requests] == ["/api/v1/sites/s-1", "/api/v1/self/usage", "/api/v1/sites/s-1"]
    assert clock.sleeps == [1234]  # Mist's own reset, not the top of the hour (2800 s away)
    assert state.used == 1  # the window after the reset: only the retry counted


async def test_429_without_retry_after_when_usage_cannot_tell_waits_for_the_top_of_the_hour():
    clock = ManualClock(START)
    script = Script(too_many(), too_many(), OK)
    async with client_for(script, clock) as client:
        await client.get_site("s-1")
    assert [r.url.path for r in script.requests][1] == "/api/v1/self/usage"
    assert len(script.requests) == 3
    assert 2800 <= clock.slept <= 2801
    assert (clock.now() % 3600) < 1


async def test_a_post_answered_429_is_retried_since_nothing_was_done():
    clock = ManualClock(START)
    script = Script(too_many(**{"Retry-After": "1"}), OK)
    async with client_for(script, clock) as client:
        assert (await client.create_site(ORG, {"name": "s"}))["id"] == "x-1"
    assert len(script.requests) == 2


async def test_repeated_429s_give_up_with_rate_limited():
    clock = ManualClock(START)
    script = Script(too_many(**{"Retry-After": "5"}))
    async with client_for(script, clock) as client:
        with pytest.raises(RateLimited) as info:
            await client.get_site("s-1")
    assert len(script.requests) == RetryPolicy().max_rate_retries + 1
    assert info.value.status == 429 and info.value.retry_after == 5


async def test_a_retry_after_past_our_patience_raises_at_once():
    clock = ManualClock(START)
    script = Script(too_many(**{"Retry-After": "7200"}), OK)
    async with client_for(script, clock, policy=RetryPolicy(max_rate_wait=600)) as client:
        with pytest.raises(RateLimited, match="429"):
            await client.get_site("s-1")
    assert len(script.requests) == 1
    assert clock.sleeps == []


async def test_a_spent_budget_past_our_patience_raises_without_sending():
    clock = ManualClock(START)
    script = Script(OK)
    budget = InMemoryCallBudget(clock, limit=1, window=3600, headroom=0)
    async with client_for(script, clock, budget=budget, policy=RetryPolicy(max_rate_wait=60)) as client:
        await client.get_site("s-1")
        with pytest.raises(RateLimited, match="budget is spent") as info:
            await client.get_site("s-2")
    assert len(script.requests) == 1
    assert info.value.retry_after == pytest.approx(2800)


async def test_usage_resyncs_the_budget_from_mists_count():
    clock = ManualClock(START)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/self/usage":
            return httpx.Response(200, json={"request_limit": 10, "requests": 8, "seconds": 30})
        return OK

    budget = InMemoryCallBudget(clock, headroom=0)
    async with client_for(handler, clock, budget=budget) as client:
        usage = await client.get_usage()
        state = (await client.budget_states())[0]
        assert (usage.requests, usage.request_limit) == (8, 10)
        assert (state.used, state.remaining, state.reset_in) == (8, 2, 30)
        await client.get_site("a")
        await client.get_site("b")
        assert clock.sleeps == []
        await client.get_site("c")
    assert 30 <= clock.slept <= 31


async def test_waits_are_announced_to_the_hook():
    clock = ManualClock(START)
    waits: list[tuple[str, float]] = []
    budget = InMemoryCallBudget(clock, limit=1, window=60, headroom=0)
    async with client_for(
        Script(OK), clock, budget=budget, on_wait=lambda r, s: waits.append((r, s))
    ) as client:
        await client.get_site("a")
        await client.get_site("b")
    assert [r for r, _ in waits] == ["budget"]
    assert waits[0][1] == clock.sleeps[0]


async def test_a_second_token_is_used_when_the_first_is_spent():
    clock = ManualClock(START)
    mist = RateLimitedMist(clock, limit=3, window=60)
    budget = InMemoryCallBudget(clock, limit=3, window=60, headroom=0)
    async with client_for(mist, clock, tokens=["tok-a-1", "tok-b-2"], budget=budget) as client:
        for i in range(7):
            await client.get_site(f"s-{i}")
        states = await client.budget_states()
    assert mist.tokens == ["tok-a-1"] * 3 + ["tok-b-2"] * 3 + ["tok-a-1"]
    assert len(clock.sleeps) == 1
    assert [s.key for s in states] == [token_fingerprint("tok-a-1"), token_fingerprint("tok-b-2")]


async def test_sync_budget_asks_usage_once_per_token():
    clock = ManualClock(START)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        used = 100 if request.headers["Authorization"].endswith("a-1") else 200
        return httpx.Response(200, json={"request_limit": 5000, "requests": used, "seconds": 99})

    async with client_for(handler, clock, tokens=["tok-a-1", "tok-b-2"]) as client:
        states = await client.sync_budget()
    assert seen == ["Token tok-a-1", "Token tok-b-2"]
    assert [s.used for s in states] == [100, 200]
