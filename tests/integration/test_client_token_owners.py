"""Over HTTP against a twin process: one admin's tokens are paced as one budget; a 429 without
Retry-After is waited out for as long as ``GET /self/usage`` says."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import InMemoryCallBudget, ManualClock, MistClient, RateLimited, RetryPolicy, SystemClock
from mistctl.mist.http import build_http_client
from tests.support.twin import running_twin

ADMIN = "twin-admin@example.com"


class RecordingClock(SystemClock):
    """The real clock, remembering each sleep (the twin process keeps real time)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await super().sleep(seconds)


async def test_two_tokens_of_one_user_are_paced_as_one_budget():
    limit = 10
    with running_twin(TwinConfig(rate_limit=limit, device_count=0)) as (base_url, org_id, token):
        async with build_http_client(base_url) as http, httpx.AsyncClient(base_url=base_url) as control:
            made = await control.post("/__twin/tokens", json={"role": "admin", "user": ADMIN})
            second = made.json()["token"]
            clock = ManualClock(time.time())
            client = MistClient(http, [token, second], clock=clock, budget=InMemoryCallBudget(clock, headroom=0),
                                policy=RetryPolicy(max_rate_wait=0))
            groups = await client.group_tokens()  # two GET /self
            [state] = await client.sync_budget()  # one GET /self/usage for the one budget
            sent = [client.list_sites(org_id) for _ in range(limit - state.used)]
            await asyncio.gather(*sent)
            with pytest.raises(RateLimited) as refused:
                await client.list_sites(org_id)  # the shared budget is spent: not sent
            seen = (await control.get("/__twin/counters")).json()
    assert [g.tokens for g in groups] == [tuple(client.token_keys)]
    assert "share one budget of user twin-admin@example.com" in groups[0].describe()
    assert state.limit == limit and state.used == 3
    assert seen["rate_limited"] == 0, "mistctl never sent a call past the user's budget"
    assert client.calls.by_outcome == {"ok": limit}
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    [after] = await client.budget_states()
    assert after.used == limit and after.remaining == 0


async def _fresh_window(window: float) -> None:
    await asyncio.sleep(window - (time.time() % window) + 0.05)


@pytest.mark.slow
async def test_a_429_without_retry_after_waits_as_long_as_self_usage_says():
    window, limit = 3.0, 3
    config = TwinConfig(rate_limit=limit, rate_window=window, device_count=0)
    with running_twin(config) as (base_url, org_id, token):
        usages: list[dict[str, Any]] = []

        async def keep_usage(resp: httpx.Response) -> None:
            if resp.url.path == "/api/v1/self/usage":
                await resp.aread()
                usages.append(resp.json())

        async with (
            build_http_client(base_url) as http,
            httpx.AsyncClient(base_url=base_url) as control,
        ):
            await control.put("/__twin/faults", json={"rate_retry_after": False, "usage_when_limited": True})
            http.event_hooks["response"].append(keep_usage)
            clock = RecordingClock()
            client = MistClient(http, token, clock=clock, policy=RetryPolicy(rate_jitter=0))
            await _fresh_window(window)
            for _ in range(limit + 1):  # the client believes 5000 an hour: the 4th call meets a 429
                await client.get_organization(org_id)
            seen = (await control.get("/__twin/counters")).json()
    assert seen["rate_limited"] == 1
    assert len(usages) == 1 and usages[0]["requests"] == limit + 2
    assert clock.sleeps == [pytest.approx(usages[0]["seconds"], abs=0.2)], "the reset Mist reported, not an hour"
    assert client.calls.by_outcome == {"ok": limit + 2, "rate_limited": 1}


async def test_a_shared_owner_cache_asks_each_token_once_per_process():
    from tests.support.twin import twin_app, twin_transport

    app = twin_app(device_count=0)
    twin = app.state.twin
    second = twin.add_token("admin", user=ADMIN).token
    org_token = twin.add_token("admin").token
    owners: dict = {}
    clock = ManualClock(time.time())
    budget = InMemoryCallBudget(clock)
    transport = twin_transport(app)
    async with app.router.lifespan_context(app), build_http_client("http://twin", transport=transport) as http:
        for _ in range(2):  # two clients of one process (two requests, two jobs)
            client = MistClient(http, [twin.token, second, org_token], clock=clock, budget=budget, owners=owners)
            await client.list_sites(twin.org_id)
        states = await client.budget_states()
    seen = twin.counters.snapshot()["by_route"]
    assert seen["GET /api/v1/self"] == 3, "each token asked once, by the first client only"
    assert len(states) == 2 and sorted(s.used for s in states) == [1, 4]  # 2 x /self + 2 lists; the org token's /self
    assert {o.kind for o in owners.values()} == {"user", "org"}
