"""The store's pool hands out a pooled connection without waiting a turn of the event loop for it
(`redis_retry.unread`), yet never one with something left to read: a connection with a stray reply, or one
the server closed, is replaced, so every command still gets its own answer."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from mistctl.store.redis_retry import ReconnectingPool, surely_idle
from mistctl.store.redis_store import RedisStore

pytestmark = pytest.mark.redis


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    found = RedisStore.from_url(redis_url, prefix=f"pc-{uuid4().hex[:8]}:")
    assert isinstance(found.r.connection_pool, ReconnectingPool)
    try:
        yield found
    finally:
        await found.close()


async def _until_unread(conn: Any) -> None:
    """Wait until the connection has something to read (a reply, or the end of its stream)."""
    for _ in range(100):
        if not surely_idle(conn):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the connection stayed idle")


async def test_an_idle_connection_is_handed_out_as_it_is(store: RedisStore) -> None:
    await store.r.set("pc:k", "v")
    pool = store.r.connection_pool
    conn = await pool.get_connection()
    assert surely_idle(conn)
    await pool.release(conn)
    again = await pool.get_connection()
    assert again is conn  # the same connection, not a new one
    await pool.release(again)
    assert await store.r.get("pc:k") == "v"


async def test_a_connection_with_an_unread_reply_is_replaced(store: RedisStore) -> None:
    await store.r.set("pc:k2", "value")
    pool = store.r.connection_pool
    conn = await pool.get_connection()
    await conn.send_command("ECHO", "stray")  # its reply is never read
    await pool.release(conn)
    await _until_unread(conn)  # the reply reaches the socket
    assert await store.r.get("pc:k2") == "value"  # not "stray"
    assert await store.r.echo("mine") == "mine"


async def test_a_connection_the_server_closed_is_replaced(store: RedisStore, redis_url: str) -> None:
    victim = await store.r.client_id()  # the pool's one connection
    pool = store.r.connection_pool
    conn = await pool.get_connection()
    await pool.release(conn)
    killer = RedisStore.from_url(redis_url)
    try:
        assert await killer.r.execute_command("CLIENT", "KILL", "ID", str(victim)) == 1
    finally:
        await killer.close()
    await _until_unread(conn)
    assert await store.r.set("pc:k3", "after") is True
    assert await store.r.get("pc:k3") == "after"
    assert await store.r.client_id() != victim


async def test_commands_warn_of_nothing(store: RedisStore) -> None:
    """redis-py warns (DeprecationWarning) when `get_connection` gets arguments: every command did."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await store.r.set("pc:k4", "1")
        async with store.r.pipeline(transaction=True) as pipe:
            pipe.get("pc:k4")
            assert await pipe.execute() == ["1"]
    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []
