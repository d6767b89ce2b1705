"""A burst past the twin's (scaled-down) rate limit is paced by the call budget: no 429 is ever answered.

In-process the twin and the client share one `ManualClock`, so a window reset costs no real time;
over HTTP the twin runs as a subprocess with a 1-second window and the real clock.
"""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import (
    InMemoryCallBudget,
    ManualClock,
    MistClient,
    RetryPolicy,
    SystemClock,
    build_http_client,
)
from tests.support.twin import running_twin, twin_app, twin_transport

LIMIT = 20


async def counters(control: httpx.AsyncClient) -> dict:
    return (await control.get("/__twin/counters")).json()


async def test_a_burst_in_process_is_paced_by_the_budget_learned_from_usage():
    clock = ManualClock()
    app = twin_app(clock=clock.now, rate_limit=LIMIT, device_count=0)
    org = app.state.twin.org_id
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(transport=twin_transport(app), base_url="http://twin") as control,
    ):
        # The client starts believing Mist's 5000 an hour; one usage call teaches it the twin's 20.
        client = MistClient(http, app.state.twin.token, clock=clock, budget=InMemoryCallBudget(clock, headroom=0))
        [state] = await client.sync_budget()
        assert (state.limit, state.used) == (LIMIT, 1)
        started = clock.now()
        names = await asyncio.gather(*(client.create_sitegroup(org, {"name": f"g{i}"}) for i in range(3 * LIMIT)))
        seen = await counters(control)
        held = (await control.get("/__twin/state")).json()["sitegroups"]
    assert len(names) == len(held) == 3 * LIMIT
    assert seen["rate_limited"] == 0
    assert client.calls.by_outcome == {"ok": 3 * LIMIT + 1}
    assert 2 * 3600 <= clock.now() - started <= 4 * 3600  # two (or three) resets waited, not 429s


async def test_several_tokens_share_the_work_before_anyone_waits():
    clock = ManualClock()
    app = twin_app(clock=clock.now, rate_limit=LIMIT, device_count=0)
    org = app.state.twin.org_id
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(transport=twin_transport(app), base_url="http://twin") as control,
    ):
        second = (await control.post("/__twin/tokens", json={"role": "admin"})).json()["token"]
        budget = InMemoryCallBudget(clock, limit=LIMIT, headroom=0)
        client = MistClient(http, [app.state.twin.token, second], clock=clock, budget=budget)
        await asyncio.gather(*(client.list_sitegroups(org) for _ in range(2 * LIMIT)))
        seen = await counters(control)
    assert seen["rate_limited"] == 0
    assert clock.sleeps == []
    assert [s.used for s in await client.budget_states()] == [LIMIT, LIMIT]


async def _wait_for_a_fresh_window(window: float) -> None:
    """Start right after a reset, so no call of the burst straddles two windows by accident."""
    await asyncio.sleep(window - (time.time() % window) + 0.05)


@pytest.mark.slow
async def test_a_burst_over_http_is_paced_by_the_budget():
    window, limit = 1.0, 10
    config = TwinConfig(rate_limit=limit, rate_window=window, device_count=0)
    with running_twin(config) as (base_url, org_id, token):
        async with build_http_client(base_url) as http, httpx.AsyncClient(base_url=base_url) as control:
            clock = SystemClock()
            budget = InMemoryCallBudget(clock, limit=limit, window=window, headroom=0)
            client = MistClient(
                http, token, clock=clock, budget=budget, policy=RetryPolicy(rate_jitter=0.05), rng=random.Random(5)
            )
            await _wait_for_a_fresh_window(window)
            await asyncio.gather(*(client.list_sites(org_id) for _ in range(2 * limit + 5)))
            seen = await counters(control)
    assert seen["rate_limited"] == 0
    assert client.calls.by_outcome == {"ok": 2 * limit + 5}
