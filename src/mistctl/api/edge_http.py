"""The service's HTTP protocol: uvicorn's (httptools), with a deadline for request headers and a cap on
open connections that an idle flood cannot use to lock real clients out.

uvicorn closes a keep-alive connection idle after a response (`timeout_keep_alive`), but a connection
that never finishes its headers is kept open for ever: 20,000 of them exhausted the service's file
descriptors. Here:

* a connection must finish each request's headers within `header_timeout` seconds of opening (or of the
  request's first byte); otherwise it is closed;
* at most `max_connections` are open at once: a new connection past the cap closes the connection that
  has waited longest without a request in progress (headers unfinished, or idle between requests), so
  a client with a real request always gets in; when every connection is busy, the new one is closed.

The limits come from the uvicorn `Config` (`configure`), which `mistctl serve` builds from its options;
worker processes get them with the config.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROTOCOL = "mistctl.api.edge_http:GuardedHttpProtocol"  # for `uvicorn.Config(http=...)`
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 1000
_HEADER_TIMEOUT = "mistctl_header_timeout"
_MAX_CONNECTIONS = "mistctl_max_connections"


def configure(config: Config, *, header_timeout: float, max_connections: int) -> Config:
    """Set the limits on a uvicorn config (kept as attributes: they travel to worker processes with it)."""
    setattr(config, _HEADER_TIMEOUT, header_timeout)
    setattr(config, _MAX_CONNECTIONS, max_connections)
    return config


class GuardedHttpProtocol(HttpToolsProtocol):
    """See the module docstring."""

    def __init__(self, config: Config, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = float(getattr(config, _HEADER_TIMEOUT, DEFAULT_HEADER_TIMEOUT))
        self.max_connections = int(getattr(config, _MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS))
        self.waiting_since: float | None = None  # set while no request is in progress
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # a further request on a kept-alive connection: a new deadline
            self._await_headers()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        self.waiting_since = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.waiting_since = self.loop.time()  # idle until the next request (keep-alive timeout applies)

    def _await_headers(self) -> None:
        self.waiting_since = self.loop.time()
        self._stop_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest without a request, else this new one."""
        idle = [c for c in self.connections if c is not self and isinstance(c, GuardedHttpProtocol)
                and c.waiting_since is not None and not c.transport.is_closing()]
        victim = min(idle, key=lambda c: c.waiting_since or 0.0) if idle else self
        victim.transport.close()
