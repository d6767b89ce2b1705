"""How every Redis client of mistctl rides out a lost connection (a restarted redis-server, a failover).

Each command that meets a connection error (refused, reset, or the server still loading its data after a
restart: `BusyLoadingError` is one) is sent again on a new connection after an exponential backoff
(0.1 s doubling, at most `CAP` s between tries) for about `PATIENCE` s in all; only then does the store
raise `StoreUnavailable`. Making a connection is retried the same way (`ReconnectingPool`). The
store, the arq queue (`queue.arq_pool` copies the store's pool and its settings) and the call budget
share this policy. A `mistctl worker` also restarts arq's polling loop with the same backoff, for as
long as it takes (`worker.poll_reconnecting`).

A command whose answer is lost may have been applied: the ones the workflow depends on are idempotent
(SET NX, SADD-guarded Lua, HSET of a whole record); a counter (HINCRBY) may then count one job twice.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

BASE = 0.1  # seconds before the first retry
CAP = 2.0  # seconds between retries at most
TRIES = 22  # retries per command: 0.2 + 0.4 + 0.8 + 1.6 + 18 * 2 ≈ 39 s
PATIENCE = sum(min(CAP, BASE * 2**n) for n in range(1, TRIES + 1))
LOST = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)  # what "Redis is gone" looks like


def reconnecting() -> dict[str, Any]:
    """Keyword arguments for `Redis(...)`/`ConnectionPool(...)`: retry lost connections with backoff."""
    return {"retry": Retry(ExponentialBackoff(cap=CAP, base=BASE), TRIES),
            "retry_on_error": [RedisConnectionError, RedisTimeoutError]}


class ReconnectingPool(ConnectionPool):
    """A connection pool whose new connections are retried too: redis-py retries a command on a broken
    connection, but a connection it cannot make for the command (the server is down) fails at once."""

    async def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> AbstractConnection:
        async def once() -> AbstractConnection:
            found: AbstractConnection = await ConnectionPool.get_connection(self, command_name, *keys, **options)
            return found

        async def forget(_error: Exception) -> None:
            return None

        lost = (RedisConnectionError, RedisTimeoutError)
        retry = Retry(ExponentialBackoff(cap=CAP, base=BASE), TRIES, supported_errors=lost)
        return await retry.call_with_retry(once, forget)


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failed reconnections in a row (0.2, 0.4 ... up to `CAP` * 2)."""
    return float(min(CAP * 2, BASE * 2 ** max(1, failures)))
