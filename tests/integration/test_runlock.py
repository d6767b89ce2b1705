"""The org lock of a run (`mistctl.workflow.runlock`) on every store: renewed while held, released after,
waited for with the holder named, and the `interrupted` view of a run whose lock is gone."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from mistctl.store import Run, open_store
from mistctl.workflow.runlock import Busy, holder_line, org_run, shown_status

pytestmark = pytest.mark.timeout(60)
ORG = "org-1"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request, tmp_path):
    url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path}/state.db"}.get(request.param)
    if url is None:
        url = f"{request.getfixturevalue('redis_url')}?prefix=rl-{uuid4().hex[:10]}:"
    async with open_store(url) as opened:
        yield opened


async def test_a_held_lock_is_renewed_past_its_ttl_with_the_run_heartbeat_then_released(store):
    run = await store.create_run(Run(kind="apply", org_id=ORG, status="running"))
    async with org_run(store, ORG, run.id, holder="me", wait=0, sites=["hq"], ttl=0.6) as lease:
        await lease.attach(run)
        first = (await store.get_run(run.id)).heartbeat_at
        await asyncio.sleep(1.5)  # more than two TTLs: only renewal keeps it
        held = await store.get_lock(f"org:{ORG}")
        assert held is not None and held.owner == run.id
        assert (await store.get_lock(f"site:{ORG}:hq")).owner == run.id
        assert (await store.get_run(run.id)).heartbeat_at > first
        assert [r.status for r in await shown_status(store, [await store.get_run(run.id)])] == ["running"]
    assert await store.get_lock(f"org:{ORG}") is None and await store.get_lock(f"site:{ORG}:hq") is None
    shown = await shown_status(store, [await store.get_run(run.id)])  # still "running" in the store
    assert shown[0].status == "interrupted" and "resume" in (shown[0].error or "")


async def test_a_second_run_waits_saying_for_whom_then_runs(store):
    heard = []
    order = []

    async def first() -> None:
        async with org_run(store, ORG, "run-1", holder=holder_line("mistctl apply", "alice"), wait=0):
            order.append("first in")
            await asyncio.sleep(0.8)
            order.append("first out")

    async def second() -> None:
        await asyncio.sleep(0.2)
        async with org_run(store, ORG, "run-2", holder="b", wait=10, on_wait=heard.append):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]
    assert [(i.owner, "mistctl apply by alice on " in i.holder) for i in heard] == [("run-1", True)]


async def test_wait_0_refuses_naming_the_holder_and_takes_nothing(store):
    assert await store.acquire_lock(f"org:{ORG}", "run-1", 30, holder="bob on ci-3 pid 9")
    with pytest.raises(Busy) as busy:
        async with org_run(store, ORG, "run-2", holder="me", wait=0, sites=["hq"]):
            raise AssertionError("must not run")
    assert busy.value.run_id == "run-1" and "bob on ci-3 pid 9" in str(busy.value)
    assert "mistctl unlock org-1" in str(busy.value)
    assert await store.get_lock(f"site:{ORG}:hq") is None


async def test_a_busy_site_releases_the_org_it_took(store):
    assert await store.acquire_lock(f"site:{ORG}:hq", "request-1", 30)
    with pytest.raises(Busy) as busy:
        async with org_run(store, ORG, "run-2", holder="me", wait=0, sites=["branch", "hq"]):
            raise AssertionError("must not run")
    assert busy.value.site == "hq" and busy.value.run_id == "request-1"
    assert await store.get_lock(f"org:{ORG}") is None and await store.get_lock(f"site:{ORG}:branch") is None
