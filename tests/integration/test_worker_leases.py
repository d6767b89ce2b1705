"""The running jobs' in-progress keys are renewed together (`Leases`, one task per worker): a held key
outlives its lease for as long as its job runs, a released one expires after it, and the renewing task
stops when no job runs (the next one starts it again)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from mistctl.scaleout.queue import arq_pool
from mistctl.scaleout.state import Leases
from mistctl.store.redis_store import RedisStore

pytestmark = pytest.mark.redis


async def test_held_keys_outlive_their_lease_released_ones_expire(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"wl-{uuid4().hex[:8]}:")
    pool = arq_pool(store)
    lease = 1.2
    leases = Leases(lease)
    keys = [f"{store.keys.prefix}in-progress:{i}" for i in range(3)]
    try:
        for key in keys:
            await pool.psetex(key, int(lease * 1000), b"1")  # as the worker marks a job it takes
            leases.hold(key, pool)
        await asyncio.sleep(lease * 0.5)
        leases.release(keys[0])  # its job ended (arq deletes it; here it is left to expire)
        await asyncio.sleep(lease * 2.5)  # past the lease several times over
        assert [bool(await pool.exists(k)) for k in keys] == [False, True, True]
        assert 0 < await pool.pttl(keys[1]) <= lease * 1000
        leases.release(keys[1])
        leases.release(keys[2])
        await asyncio.sleep(lease)  # the renewer wakes, finds none held, and stops
        assert leases._task is not None and leases._task.done()
        await asyncio.sleep(lease)
        assert not await pool.exists(keys[1]) and not await pool.exists(keys[2])

        leases.hold(keys[0], pool)  # a new job: renewed again
        await pool.psetex(keys[0], int(lease * 1000), b"1")
        await asyncio.sleep(lease * 2)
        assert await pool.exists(keys[0])
    finally:
        leases.close()
        await pool.aclose(close_connection_pool=True)
        await store.close()
