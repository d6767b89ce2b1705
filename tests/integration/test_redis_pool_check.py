"""The store's pool hands out a pooled connection without waiting a turn of the event loop for it
(`redis_retry.surely_idle`), yet never one with something left to read: a stray reply or a connection the
server closed is checked the slow way and replaced, so every command still gets its own answer."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any
from uuid import uuid4

import pytest

from mistctl.store.redis_retry import ReconnectingPool, surely_idle
from mistctl.store.redis_store import RedisStore

pytestmark = pytest.mark.redis


async def _store(redis_url: str) -> RedisStore:
    store = RedisStore.from_url(redis_url, prefix=f"pc-{uuid4().hex[:8]}:")
    assert isinstance(store.r.connection_pool, ReconnectingPool)
    return store


async def _until_unread(conn: Any) -> None:
    """Wait until the connection has something to read (a reply, or the end of its stream)."""
    for _ in range(100):
        if not surely_idle(conn):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the connection stayed idle")


async def test_an_idle_connection_is_handed_out_as_it_is(redis_url: str) -> None:
    store = await _store(redis_url)
    try:
        await store.r.set("pc:k", "v")
        pool = store.r.connection_pool
        conn = await pool.get_connection()
        assert surely_idle(conn)
        await pool.release(conn)
        again = await pool.get_connection()
        assert again is conn  # the same connection, not a new one
        await pool.release(again)
        assert await store.r.get("pc:k") == "v"
    finally:
        await store.close()


async def test_a_connection_with_an_unread_reply_is_replaced(redis_url: str) -> None:
    store = await _store(redis_url)
    try:
        await store.r.set("pc:k2", "value")
        pool = store.r.connection_pool
        conn = await pool.get_connection()
        await conn.send_command("ECHO", "stray")  # its reply is never read
        await pool.release(conn)
        await _until_unread(conn)  # the reply reaches the socket
        assert await store.r.get("pc:k2") == "value"  # not "stray"
        assert await store.r.echo("mine") == "mine"
    finally:
        await store.close()


async def test_a_connection_the_server_closed_is_replaced(redis_url: str) -> None:
    store = await _store(redis_url)
    try:
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
    finally:
        await store.close()


async def test_commands_warn_of_nothing(redis_url: str) -> None:
    """redis-py warns (DeprecationWarning) when `get_connection` gets arguments: every command did."""
    store = await _store(redis_url)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await store.r.set("pc:k4", "1")
            async with store.r.pipeline(transaction=True) as pipe:
                pipe.get("pc:k4")
                assert await pipe.execute() == ["1"]
        assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []
    finally:
        await store.close()
