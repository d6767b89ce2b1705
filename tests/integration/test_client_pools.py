"""The client's transport (mist/pools.py) over real HTTP: calls spread over one-connection pools, each pool
freed when its answer is read, closed early, or never comes; connections are kept alive and reused."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import MistClient, SystemClock, build_http_client
from mistctl.mist.http import default_limits
from mistctl.mist.pools import SpreadTransport
from tests.support.twin import running_twin

pytestmark = pytest.mark.slow


def _transport(http: httpx.AsyncClient) -> SpreadTransport:
    transport = http._transport  # the one under test
    assert isinstance(transport, SpreadTransport)
    return transport


async def test_concurrent_calls_use_at_most_the_limit_of_connections_and_free_every_pool() -> None:
    with running_twin(TwinConfig(latency_ms=20, device_count=0)) as (base_url, org_id, token):
        async with build_http_client(base_url, limits=default_limits(4)) as http:
            transport = _transport(http)
            client = MistClient(http, token, clock=SystemClock(), concurrency=4)
            made = await asyncio.gather(*(client.create_sitegroup(org_id, {"name": f"g{i}"}) for i in range(24)))
            assert len({g["id"] for g in made}) == 24
            assert sorted(g["name"] for g in await client.list_sitegroups(org_id)) == sorted(f"g{i}" for i in range(24))
            assert transport._busy == [0] * 6  # 4 + 2 connections, none left counted busy
            used = [p for p in transport._pools if p._pool.connections]  # type: ignore[attr-defined]
            assert 1 <= len(used) <= 6
            # an answer closed before its body is read frees its pool too
            headers = {"Authorization": f"Token {token}"}
            async with http.stream("GET", f"/api/v1/orgs/{org_id}/sitegroups", headers=headers) as answer:
                assert answer.status_code == 200 and transport._busy.count(1) == 1
            assert transport._busy == [0] * 6


async def test_a_call_that_fails_to_connect_frees_its_pool() -> None:
    async with httpx.AsyncClient(transport=SpreadTransport(default_limits(1))) as http:
        transport = _transport(http)
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:9/")  # the discard port: nothing listens
        assert transport._busy == [0, 0, 0]
