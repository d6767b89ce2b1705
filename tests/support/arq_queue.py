"""A Redis state store with an arq pool and queue on it, for the tests of the workers' arq side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

from arq.connections import ArqRedis

from mistctl.scaleout.queue import arq_pool, queue_name
from mistctl.store.redis_store import RedisStore


@asynccontextmanager
async def arq_queue(redis_url: str, tag: str) -> AsyncIterator[tuple[RedisStore, ArqRedis, str]]:
    """A store under a fresh prefix (`tag-<random>:`), an arq pool on its server and its queue's name."""
    store = RedisStore.from_url(redis_url, prefix=f"{tag}-{uuid4().hex[:8]}:")
    pool = arq_pool(store)
    try:
        yield store, pool, queue_name(store)
    finally:
        await pool.aclose(close_connection_pool=True)
        await store.close()
