"""The aiohttp wire (mist/aio.py) against a tiny HTTP server that records every request: what is sent
(the same bytes as httpx), connections dropped before any answer, refused connections, read timeouts,
redirects, gzip, keep-alive and the connection limit; and the proxy choice (httpx when one applies)."""

from __future__ import annotations

import asyncio
import random
import socket
from pathlib import Path

import aiohttp
import httpx
import pytest

from mistctl import __version__
from mistctl.mist import (
    MistClient,
    MistStatusError,
    MistTransportError,
    OutcomeUnknown,
    RetryPolicy,
    SystemClock,
    build_http_client,
)
from mistctl.mist.aio import AioWire, mapped_error
from mistctl.mist.http import default_limits
from mistctl.mist.meter import CallRecord
from mistctl.mist.retry import NOTHING_SENT
from tests.support.rawhttp import DROP, HANG, Seen, answer, raw_server, self_signed

QUICK = RetryPolicy(backoff_base=0.01, backoff_cap=0.02)
TOKEN = "raw-token-0123456789abcdef"
ORG = "9777c1a0-6ef6-11e6-8bbf-02e208b2d34f"


def _client(http: httpx.AsyncClient, records: list[CallRecord] | None = None, concurrency: int = 8) -> MistClient:
    return MistClient(http, TOKEN, clock=SystemClock(), policy=QUICK, rng=random.Random(1), concurrency=concurrency,
                      on_call=records.append if records is not None else None)


def _ok(seen: Seen) -> bytes:
    return answer(200, {"id": "x1", "name": "a"}, headers={"X-Page-Total": "1", "X-Page-Limit": "1000"}) \
        if seen.method != "GET" or "limit=" not in seen.target else answer(200, [{"id": "x1"}])


async def _calls(http: httpx.AsyncClient) -> None:
    client = _client(http)
    await client.list_org(ORG, "sitegroups", name="a b+c/é", flag=True, ids=["1", "2"])
    await client.create_org(ORG, "sitegroups", {"name": "ünï", "n": 1.5, "ok": True, "none": None, "l": [1, "2"]})
    await client.update_org(ORG, "sitegroups", "id/with?odd#chars", {"name": "x"})
    await client.delete_org(ORG, "sitegroups", "x1")


async def test_the_same_requests_as_httpx_sends_with_the_client_headers() -> None:
    async with raw_server(_ok) as server:
        async with build_http_client(server.url) as http:
            assert isinstance(http.wire, AioWire)  # type: ignore[attr-defined]
            await _calls(http)
        aio = list(server.seen)
        server.seen.clear()
        async with build_http_client(server.url, transport=httpx.AsyncHTTPTransport()) as http:
            await _calls(http)
        by_httpx = list(server.seen)
    assert [(s.method, s.target, s.body) for s in aio] == [(s.method, s.target, s.body) for s in by_httpx]
    assert aio[0].target.startswith(f"/api/v1/orgs/{ORG}/sitegroups?name=a+b%2Bc%2F%C3%A9&flag=true&ids=1%2C2")
    assert aio[2].target == f"/api/v1/orgs/{ORG}/sitegroups/id%2Fwith%3Fodd%23chars"
    for seen in aio:
        assert seen.headers["accept"] == "application/json"
        assert seen.headers["user-agent"] == f"mistctl/{__version__}"
        assert seen.headers["authorization"] == f"Token {TOKEN}"
    assert aio[1].headers["content-type"] == "application/json"


async def test_a_connection_dropped_after_a_post_is_outcome_unknown_and_the_post_sent_once() -> None:
    async with raw_server(lambda seen: DROP) as server, build_http_client(server.url) as http:
        records: list[CallRecord] = []
        client = _client(http, records)
        with pytest.raises(OutcomeUnknown):
            await client.create_org(ORG, "sitegroups", {"name": "east"})
        assert server.methods() == ["POST"]
        with pytest.raises(OutcomeUnknown):  # a DELETE told not to retry a lost answer: aiohttp resends nothing
            await client.delete_org(ORG, "sitegroups", "x1", retry_lost=False)
        assert server.methods() == ["POST", "DELETE"]
        with pytest.raises(MistTransportError) as lost_get:
            await client.get_organization(ORG)
        assert not isinstance(lost_get.value, OutcomeUnknown)
        assert server.methods() == ["POST", "DELETE"] + ["GET"] * QUICK.max_attempts  # GETs are retried
        assert [r.status for r in records] == [None] * (2 + QUICK.max_attempts)


async def test_a_refused_connection_is_retried_even_for_a_post_since_nothing_was_sent() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with build_http_client(f"http://127.0.0.1:{port}") as http:
        records: list[CallRecord] = []
        with pytest.raises(MistTransportError) as refused:
            await _client(http, records).create_org(ORG, "sitegroups", {"name": "east"})
    assert not isinstance(refused.value, OutcomeUnknown)
    assert "no answer from Mist" in str(refused.value)
    assert len(records) == QUICK.max_attempts and {r.status for r in records} == {None}


async def test_a_read_timeout_retries_a_get_and_not_a_post() -> None:
    timeout = httpx.Timeout(connect=2.0, read=0.3, write=2.0, pool=2.0)
    async with raw_server(lambda seen: HANG) as server, build_http_client(server.url, timeout=timeout) as http:
        client = _client(http)
        with pytest.raises(OutcomeUnknown) as lost:
            await client.create_org(ORG, "sitegroups", {"name": "east"})
        assert "ReadTimeout" in str(lost.value)
        assert server.methods() == ["POST"]
        with pytest.raises(MistTransportError):
            await client.get_organization(ORG)
        assert server.methods() == ["POST"] + ["GET"] * QUICK.max_attempts


def test_aiohttp_failures_map_to_the_httpx_errors_the_retry_logic_reads() -> None:
    key = type("Key", (), {"ssl": True, "host": "h", "port": 1})()
    nothing_sent = [aiohttp.ConnectionTimeoutError("t"),
                    aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")),  # type: ignore[arg-type]
                    aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))]  # type: ignore[arg-type]
    maybe_sent = [aiohttp.ServerDisconnectedError(), aiohttp.SocketTimeoutError("read"),
                  aiohttp.ClientOSError(104, "reset"), aiohttp.ClientPayloadError("cut"), TimeoutError()]
    assert all(isinstance(mapped_error(e), NOTHING_SENT) for e in nothing_sent)
    assert not any(isinstance(mapped_error(e), NOTHING_SENT) for e in maybe_sent)
    assert isinstance(mapped_error(aiohttp.SocketTimeoutError("read")), httpx.ReadTimeout)
    assert isinstance(mapped_error(aiohttp.ConnectionTimeoutError("t")), httpx.ConnectTimeout)


def test_the_settings_timeouts_reach_aiohttp() -> None:
    wire = AioWire("https://api.mist.com", {}, timeout=httpx.Timeout(connect=3.0, read=40.0, write=5.0, pool=7.0),
                   limits=default_limits(4), ssl=None)
    assert (wire._timeout.sock_connect, wire._timeout.sock_read, wire._timeout.connect) == (3.0, 40.0, 10.0)
    assert wire._timeout.total is None


async def test_redirects_are_not_followed_and_gzip_is_decoded() -> None:
    def behave(seen: Seen) -> bytes:
        if seen.target.endswith("/moved"):
            return answer(302, None, headers={"Location": "/api/v1/self"})
        return answer(200, {"id": ORG, "name": "zipped"}, zipped=True)

    async with raw_server(behave) as server, build_http_client(server.url) as http:
        client = _client(http)
        assert (await client.get_organization(ORG))["name"] == "zipped"
        with pytest.raises(MistStatusError) as moved:
            await client._session.call("GET", "/moved")
        assert moved.value.status == 302
        direct = await http.get(f"/api/v1/orgs/{ORG}")  # the httpx API on the same wire
        assert direct.json()["name"] == "zipped"
    assert [s.target for s in server.seen] == [f"/api/v1/orgs/{ORG}", "/api/v1/moved", f"/api/v1/orgs/{ORG}"]


async def test_connections_are_kept_alive_within_the_limit_and_closed_with_the_client() -> None:
    async with raw_server(_ok, delay=0.02) as server:
        async with build_http_client(server.url, limits=default_limits(4)) as http:
            client = _client(http, concurrency=4)
            await asyncio.gather(*(client.get_organization(ORG) for _ in range(40)))
            wire = http.wire  # type: ignore[attr-defined]
        assert len(server.seen) == 40
        assert 1 <= server.connections <= 4 + 2  # reused, never past max_connections
        assert wire.connector is None  # closed with the client
        with pytest.raises(RuntimeError, match="closed"):  # and not opened again behind httpx's back
            await client.get_organization(ORG)
        assert wire.connector is None and len(server.seen) == 40


async def test_a_proxy_from_the_environment_sends_through_httpx_and_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with raw_server(lambda seen: answer(200, {"id": ORG, "via": "proxy"})) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with build_http_client("http://mist.invalid") as http:
            assert http.wire is None  # type: ignore[attr-defined]
            assert (await _client(http).get_organization(ORG))["via"] == "proxy"
        monkeypatch.setenv("NO_PROXY", "mist.invalid")
        async with build_http_client("http://mist.invalid") as direct:
            assert isinstance(direct.wire, AioWire)  # type: ignore[attr-defined]
    assert [s.target for s in proxy.seen] == [f"http://mist.invalid/api/v1/orgs/{ORG}"]
    assert proxy.seen[0].headers["authorization"] == f"Token {TOKEN}"


async def test_tls_is_verified_as_httpx_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tls, cert = self_signed(tmp_path)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with raw_server(lambda seen: answer(200, {"id": ORG}), tls=tls) as server:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        async with build_http_client(server.url) as http:  # certifi does not know this certificate
            records: list[CallRecord] = []
            with pytest.raises(MistTransportError) as refused:
                await _client(http, records).create_org(ORG, "sitegroups", {"name": "east"})
            assert not isinstance(refused.value, OutcomeUnknown)  # nothing was sent: retried, then given up
            assert "certificate" in str(refused.value).lower() and len(records) == QUICK.max_attempts
        assert server.seen == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx's own way to trust another CA
        async with build_http_client(server.url) as http:
            assert (await _client(http).get_organization(ORG))["id"] == ORG
    assert server.methods() == ["GET"]
