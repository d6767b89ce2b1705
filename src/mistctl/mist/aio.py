"""The Mist client's wire for real hosts: aiohttp, with httpx's error words, timeouts and TLS.

httpx + httpcore + h11 + anyio cost about 2 ms of CPU per call; aiohttp (its parser in C) about 0.5 ms.
`AioWire.send` builds the URL, the headers and the body itself and answers a `Reply` (status, headers,
body bytes), never an httpx Request or Response. What matters to the client is kept as with httpx:

- Errors come back as the httpx exception the retry logic reads (`retry.NOTHING_SENT`): a refused
  connection, a failed DNS lookup, a TLS failure or a connect timeout is an `httpx.ConnectError` /
  `httpx.ConnectTimeout` (nothing sent: safe to retry); a dropped connection or a read timeout after the
  request left is a `RemoteProtocolError` / `ReadError` / `ReadTimeout` (maybe sent: only idempotent
  calls are retried). aiohttp's own resend of an idempotent call on a dropped connection is switched
  off, so every request on the wire is one the client decided to send (and the meter counted).
- Timeouts: connect (TCP and TLS) and read as the settings say; a wait for a free connection as their
  pool timeout. Redirects are not followed. TLS is verified with httpx's own context (certifi, or
  SSL_CERT_FILE / SSL_CERT_DIR). Connections are kept alive for `keepalive_expiry` and at most
  `max_connections` are open. Proxies: `http.build_http_client` sends through httpx when one is set.
- The request carries the same bytes as httpx would send: the query spelled by `urlencode` (as httpx
  does), the body by httpx's own JSON settings, the client's Accept and User-Agent headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from mistctl.domain.jsonbytes import json_body
from mistctl.mist.reply import Reply
from mistctl.mist.tls_defer import deferred_ca_load

with deferred_ca_load():  # aiohttp's two default TLS contexts load their CA certificates when first used
    import aiohttp
    from yarl import URL

_SENT = "the request may have reached Mist"


def mapped_error(exc: BaseException) -> httpx.RequestError:
    """The httpx error the client's retry logic reads for an aiohttp failure (its words, no headers)."""
    words = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"connect timeout ({words})")
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS: nothing left
        return httpx.ConnectError(words)
    if isinstance(exc, TimeoutError):  # SocketTimeoutError (sock_read) and any other timeout
        return httpx.ReadTimeout(f"read timeout, {_SENT} ({words})")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(f"the server disconnected, {_SENT} ({words})")
    if isinstance(exc, aiohttp.ClientError):  # reset, payload, protocol: maybe sent
        return httpx.ReadError(f"{words}, {_SENT}")
    # aiohttp refuses a header it cannot send (a token with a line break) with a ValueError naming it
    return httpx.LocalProtocolError("a header has a character HTTP forbids")


class AioWire:
    """One aiohttp session (opened on the first call, inside the running loop) for one Mist host."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        timeout: httpx.Timeout,
        limits: httpx.Limits,
        ssl: Any,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.headers = dict(headers)
        pool = timeout.pool if timeout.pool is not None else None
        connect = timeout.connect
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=timeout.read,
        )
        self._limits = limits
        self._ssl = ssl
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        keep = limits.max_keepalive_connections != 0 and (limits.keepalive_expiry or 0) > 0
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            ssl=self._ssl,
            force_close=not keep,
            keepalive_timeout=limits.keepalive_expiry if keep else None,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies kept for IP hosts too, as httpx does
            trust_env=False,  # proxies: build_http_client sends through httpx when one is set
            auto_decompress=True,
        )
        if not hasattr(session, "_retry_connection"):  # pragma: no cover - aiohttp moved it
            raise RuntimeError("this aiohttp cannot switch off its resend of idempotent calls")
        session._retry_connection = False  # the client alone decides what is sent again
        self._session = session
        return session

    def url(self, path: str, query: Mapping[str, str]) -> str:
        """The full URL, as httpx spells it (`path` is already quoted)."""
        return f"{self.base}{path}?{urlencode(query)}" if query else f"{self.base}{path}"

    async def send(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
    ) -> Reply | httpx.RequestError:
        """One request; its answer read to the end, or the httpx error that stands for its failure."""
        sent = {**self.headers, **headers}
        data = None
        if body is not None:  # httpx's own JSON settings: the same bytes on the wire
            data = json_body(body)
            sent["Content-Type"] = "application/json"
        try:
            return await self.exchange(method, self.url(path, query), sent, data)
        except httpx.RequestError as exc:
            return exc

    async def exchange(self, method: str, url: str, headers: Mapping[str, str], data: bytes | None) -> Reply:
        """Send `url` (already quoted) as is; raises the httpx error standing for a failure."""
        session = self._session or self._open()
        try:
            async with session.request(
                method, URL(url, encoded=True), headers=headers, data=data, allow_redirects=False
            ) as resp:
                return Reply(resp.status, resp.headers, await resp.read())
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            error = mapped_error(exc)
        raise error  # outside the except: the aiohttp error is not chained

    @property
    def connector(self) -> aiohttp.BaseConnector | None:
        """The connection pool (None before the first call)."""
        return None if self._session is None else self._session.connector

    async def aclose(self) -> None:
        """Close the connections (the session is opened again by a later call)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


#: Headers that described the body as it came over the wire; the `Reply` holds it decoded.
_WIRE_ONLY = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class AioTransport(httpx.AsyncBaseTransport):
    """The same `AioWire` under httpx's API, for any caller that uses the `httpx.AsyncClient` itself (one
    pool of connections for both; closing the client closes the wire)."""

    def __init__(self, wire: AioWire) -> None:
        self.wire = wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        data = await request.aread()
        try:
            reply = await self.wire.exchange(request.method, str(request.url), request.headers, data or None)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        headers = [(k, v) for k, v in reply.headers.items() if k.lower() not in _WIRE_ONLY]
        return httpx.Response(reply.status_code, headers=headers, content=reply.content, request=request)

    async def aclose(self) -> None:
        await self.wire.aclose()
