"""Building the `httpx.AsyncClient` the Mist client is handed: base URL, timeouts, connection limits.

Without an explicit transport it sends through aiohttp (`mist.aio`: a quarter of httpx's CPU per call),
unless a proxy from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus NO_PROXY) applies to the
host: then httpx sends, through that proxy.
"""

from __future__ import annotations

import re
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from mistctl import __version__

if TYPE_CHECKING:
    from mistctl.mist.aio import AioWire

API_PREFIX = "/api/v1"
#: Mist's own clouds (the spec's `servers`); any other host name is accepted too (a proxy, the twin).
MIST_CLOUDS: tuple[str, ...] = (
    "api.mist.com",
    "api.eu.mist.com",
    "api.gc1.mist.com",
    "api.gc2.mist.com",
    "api.gc3.mist.com",
    "api.gc4.mist.com",
    "api.gc5.mist.com",
    "api.gc6.mist.com",
    "api.gc7.mist.com",
    "api.ac2.mist.com",
    "api.ac5.mist.com",
    "api.ac6.mist.com",
)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=30.0)
DEFAULT_CONCURRENCY = 8

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")


def base_url_for(host: str) -> str:
    """``api.mist.com`` -> ``https://api.mist.com``; a full URL is kept (minus a trailing /api/v1).

    Raises ValueError with a message naming MIST_HOST when the value is neither.
    """
    value = host.strip()
    if "://" not in value:
        if not _HOST.match(value):
            raise ValueError(
                f"MIST_HOST {host!r} is not a host name or URL; use a Mist cloud such as api.mist.com "
                "or api.eu.mist.com, or a URL such as http://127.0.0.1:8900"
            )
        return f"https://{value}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"MIST_HOST {host!r} must be an http(s) URL such as https://api.mist.com")
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return f"{parts.scheme}://{parts.netloc}{path}"


def default_limits(concurrency: int = DEFAULT_CONCURRENCY) -> httpx.Limits:
    """Connection limits sized for `concurrency` calls in flight."""
    return httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency, keepalive_expiry=30.0)


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, skipped for an answer that sets no cookie: httpx builds a urllib request and
    response for the jar on every answer (a tenth of a call's CPU), and Mist's token calls set none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose cookie jar is `_Cookies` (the same cookies are kept and sent), and
    whose `wire` (aiohttp, when set) the Mist client sends through directly."""

    def __init__(self, wire: AioWire | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _Cookies()
        self.wire = wire

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._jar = _Cookies(cookies)


def build_http_client(
    host: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for a Mist host (name or URL), with explicit timeouts and limits.

    The token is not set here: the Mist client adds it per request, since it may rotate tokens. Without a
    `transport` the requests go through aiohttp (`AioWire`, also the client's httpx transport), or through
    httpx's own transport when a proxy from the environment applies to the host (see the module docstring).
    """
    limits = limits or default_limits()
    base_url = base_url_for(host)
    headers = {"Accept": "application/json", "User-Agent": f"mistctl/{__version__}"}
    wire = None
    if transport is None and not proxied(base_url):
        from mistctl.mist.aio import AioTransport, AioWire  # aiohttp only where it sends (not for tests' transports)

        # httpx's own TLS context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built only for an https host
        tls = httpx.create_ssl_context() if base_url.startswith("https:") else True
        wire = AioWire(base_url, headers, timeout=timeout, limits=limits, ssl=tls)
        transport = AioTransport(wire)
    return _Client(
        wire,
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        limits=limits,
        headers=headers,
        follow_redirects=False,
    )


def proxied(base_url: str) -> bool:
    """Whether a proxy from the environment applies to `base_url` (then httpx sends, through it)."""
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.netloc)
