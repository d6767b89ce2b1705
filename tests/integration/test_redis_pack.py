"""Commands packed by hiredis (`PackingConnection`) are byte for byte what redis-py packs, for every kind of
argument the store and arq send; what hiredis would pack otherwise (floats, bools, "SCRIPT LOAD") is left
to redis-py; and the store's connections (and arq's, made like them) pack that way against a real server."""

from __future__ import annotations

from uuid import uuid4

import pytest
from redis.asyncio.connection import Connection

from mistctl.scaleout.queue import arq_pool
from mistctl.store.models import SiteState
from mistctl.store.redis_pack import PackingConnection, packs_plainly
from mistctl.store.redis_store import RedisStore

COMMANDS = [
    ("SET", "k", "v"),
    ("HSET", "mistctl:step:o1:s%C3%A9", "01\x1fsites\x1fsé", '{"a":"ünïcode ✓","b":null}'),
    ("EVAL", "return 1" * 200, 2, "k1", "k2", "", "x" * 10000, -5, 2**70, 0),
    (b"ZADD", b"q", b"1700000000000", b"site:r1:s1"),
    ("SET", "k", b"\x00\xff bytes", "PX", 1500),
]
LEFT_TO_REDIS_PY = [("SET", "k", 1.5), ("SET", "k", True), ("SCRIPT LOAD", "return 1"), ("CONFIG GET", "maxmemory")]


@pytest.mark.parametrize("args", COMMANDS + LEFT_TO_REDIS_PY)
def test_packed_as_redis_py_packs(args: tuple[object, ...]) -> None:
    for decode in (True, False):
        ours, theirs = PackingConnection(decode_responses=decode), Connection(decode_responses=decode)
        if any(type(a) is bool for a in args):
            assert not packs_plainly(args)
            continue  # redis-py refuses a bool
        assert b"".join(ours.pack_command(*args)) == b"".join(theirs.pack_command(*args))
    assert packs_plainly(args) == (args in COMMANDS)


@pytest.mark.redis
async def test_the_stores_and_arqs_connections_pack_with_hiredis(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"rp-{uuid4().hex[:8]}:")
    pool = arq_pool(store)
    try:
        assert store.r.connection_pool.connection_class is PackingConnection
        assert pool.connection_pool.connection_class is PackingConnection
        await store.put_site_state(SiteState(org_id="o1", name="sité", status="done"))
        found = await store.get_site_state("o1", "sité")
        assert found is not None and found.status == "done"
        await pool.set("rp-key", b"\x00\xff", px=60000)
        assert await pool.get("rp-key") == b"\x00\xff"
    finally:
        await pool.aclose(close_connection_pool=True)
        await store.close()
