"""An httpx transport that spreads calls over one-connection pools, for the client's CPU.

httpcore's connection pool walks every connection it holds at each request and at each answer's end
(an idle connection's check is a socket poll), so with 18 connections a call cost about 36 polls and a
few hundred Python calls: a third of mistctl's CPU per call in `bench/bench_apply.py`. Here each
connection has a pool of its own and a call goes to the first pool with nothing in flight (the lowest, so
warm connections are reused); when every pool is busy it waits in the least loaded one, as it would have
in the shared pool. Timeouts, keep-alive, TLS and proxies from the environment behave as with httpx's
own transport (one TLS context is shared by all the pools).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType

import httpx


class _Tracked(httpx.AsyncByteStream):
    """An answer's body that frees its pool's slot once it is read to the end or closed."""

    def __init__(self, stream: httpx.AsyncByteStream, busy: list[int], index: int) -> None:
        self._stream, self._busy, self._index, self._open = stream, busy, index, True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._open:
                self._open = False
                self._busy[self._index] -= 1


class SpreadTransport(httpx.AsyncBaseTransport):
    """`limits.max_connections` pools of one connection each (keep-alive as `limits` says)."""

    def __init__(self, limits: httpx.Limits) -> None:
        count = max(1, limits.max_connections or 100)  # None: unlimited in httpx, whose default is 100
        keep = 0 if limits.max_keepalive_connections == 0 else 1
        one = httpx.Limits(max_connections=1, max_keepalive_connections=keep, keepalive_expiry=limits.keepalive_expiry)
        tls = httpx.create_ssl_context()
        self._pools = [httpx.AsyncHTTPTransport(verify=tls, limits=one) for _ in range(count)]
        self._busy = [0] * count

    def _pick(self) -> int:
        busy = self._busy
        if 0 in busy:
            return busy.index(0)
        return busy.index(min(busy))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._pick()
        self._busy[index] += 1
        try:
            response = await self._pools[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Tracked(response.stream, self._busy, index)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()
