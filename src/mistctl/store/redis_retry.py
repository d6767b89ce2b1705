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

import select
from typing import Any

from redis._parsers.base import _AsyncRESPBase
from redis._parsers.hiredis import _AsyncHiredisParser
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
    connection, but a connection it cannot make for the command (the server is down) fails at once.

    It also checks a pooled connection cheaply before each command (`unread`): redis-py's own check
    waits one turn of the event loop, under the pool's lock, for every command."""

    _retry: Retry | None = None

    async def get_connection(self, *_args: Any, **_options: Any) -> AbstractConnection:  # (args: deprecated)
        if self._retry is None:  # one for the pool: it keeps no state between calls
            lost = (RedisConnectionError, RedisTimeoutError)
            self._retry = Retry(ExponentialBackoff(cap=CAP, base=BASE), TRIES, supported_errors=lost)
        return await self._retry.call_with_retry(self._checkout, _forget)

    async def _checkout(self) -> AbstractConnection:
        """`ConnectionPool.get_connection`, without the wrapper that inspects its arguments on every call
        (and warns when there are any)."""
        found: AbstractConnection = await _POOL_GET(self)
        return found

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        pending = unread(connection)
        if pending is False:
            return
        if pending:  # a stray reply, a closed socket: redis-py's own check may miss bytes still in the socket
            await connection.disconnect()
        await super().ensure_connection(connection)  # connect (and check, redis-py's way)


_POOL_GET = getattr(ConnectionPool.get_connection, "__wrapped__", ConnectionPool.get_connection)


async def _forget(_error: Exception) -> None:
    return None


def surely_idle(connection: AbstractConnection) -> bool:
    """Whether a pooled connection is connected and holds nothing to read (see `unread`)."""
    return unread(connection) is False


def unread(connection: AbstractConnection) -> bool | None:
    """Whether a connected connection has something to read: bytes in its stream's or parser's buffers or
    in its socket, or the end of its stream (False: surely nothing; None: not connected, or unsure).

    What redis-py's `can_read_destructive` looks for by reading with a zero timeout, without waiting a
    turn of the event loop."""
    reader, writer, parser = connection._reader, connection._writer, connection._parser
    if reader is None or writer is None:
        return None
    if isinstance(parser, _AsyncHiredisParser):
        if parser._reader is None:
            return None
        if parser._reader.has_data():
            return True
    elif not isinstance(parser, _AsyncRESPBase):
        return None
    elif parser._buffer:
        return True
    if reader.at_eof() or reader._buffer:  # type: ignore[attr-defined]
        return True
    sock = writer.get_extra_info("socket")
    if sock is None:
        return None
    poll = select.poll()
    poll.register(sock.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poll.poll(0))


def backoff(failures: int) -> float:
    """Seconds to wait after `failures` failed reconnections in a row (0.2, 0.4 ... up to `CAP` * 2)."""
    return float(min(CAP * 2, BASE * 2 ** max(1, failures)))
