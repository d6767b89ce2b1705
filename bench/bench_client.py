"""The Mist client's own overhead per call: MistClient vs raw httpx on the same MockTransport.

Both sides send the same requests through one `httpx.AsyncClient` on an `httpx.MockTransport`
(no network, no server work); the raw side sends, checks the status and parses the JSON, so the
difference is what the client adds: budget reservation, the
connection-slot semaphore, the meter, error mapping and JSON checks.

    .venv/bin/python bench/bench_client.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from mistctl.mist import InMemoryCallBudget, MistClient, SystemClock, build_http_client

TOKEN = "bench-token-0123456789"
ORG = "9777c1a0-6ef6-11e6-8bbf-02e208b2d34f"
SITE = {"id": "4ac1dcf4-9d8b-7211-65c4-057819f0862b", "name": "store-001", "org_id": ORG, "timezone": "UTC"}
PAGE = [{"id": f"id-{i}", "name": f"obj-{i}"} for i in range(50)]


def handler(request: httpx.Request) -> httpx.Response:
    if request.method == "GET" and request.url.path.endswith("/sites"):
        headers = {"X-Page-Limit": "1000", "X-Page-Page": "1", "X-Page-Total": str(len(PAGE))}
        return httpx.Response(200, json=PAGE, headers=headers)
    return httpx.Response(200, json=SITE)


def parsed(send: Callable[[], Awaitable[httpx.Response]]) -> Callable[[], Awaitable[object]]:
    """What a hand-written caller does at least: send, check the status, parse the JSON."""

    async def one() -> object:
        response = await send()
        response.raise_for_status()
        return response.json()

    return one


async def timed(calls: int, one: Callable[[], Awaitable[object]], concurrency: int) -> float:
    """Microseconds per call for `calls` calls, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with gate:
            await one()

    start = time.perf_counter()
    if concurrency == 1:
        for _ in range(calls):
            await one()
    else:
        await asyncio.gather(*(guarded() for _ in range(calls)))
    return (time.perf_counter() - start) / calls * 1e6


async def compare(
    name: str,
    calls: int,
    raw: Callable[[], Awaitable[object]],
    ours: Callable[[], Awaitable[object]],
    concurrency: int,
    rounds: int,
) -> None:
    """Alternate raw and client rounds (so drift hits both) and print the best round of each."""
    await timed(200, raw, concurrency)
    await timed(200, ours, concurrency)
    raw_us, ours_us = [], []
    for _ in range(rounds):
        raw_us.append(await timed(calls, raw, concurrency))
        ours_us.append(await timed(calls, ours, concurrency))
    r, o = min(raw_us), min(ours_us)  # best of rounds: the least disturbed by other load
    print(f"{name:<26} {concurrency:>3}  {r:9.1f}  {o:9.1f}  {o - r:+9.1f}  {o / r:6.2f}x")


async def main(calls: int, rounds: int) -> None:
    transport = httpx.MockTransport(handler)
    auth = {"Authorization": f"Token {TOKEN}"}
    async with build_http_client("api.mist.com", transport=transport) as http:
        clock = SystemClock()
        client = MistClient(http, TOKEN, clock=clock, budget=InMemoryCallBudget(clock, limit=10**9, headroom=0))
        site_path = f"/api/v1/sites/{SITE['id']}"
        cases = [
            ("GET object", parsed(lambda: http.get(site_path, headers=auth)), lambda: client.get_site(SITE["id"])),
            (
                "POST create",
                parsed(lambda: http.post(f"/api/v1/orgs/{ORG}/sitegroups", json={"name": "east"}, headers=auth)),
                lambda: client.create_sitegroup(ORG, {"name": "east"}),
            ),
            (
                "GET list (1 page of 50)",
                parsed(lambda: http.get(f"/api/v1/orgs/{ORG}/sites", params={"limit": 1000, "page": 1}, headers=auth)),
                lambda: client.list_sites(ORG),
            ),
        ]
        print(f"MistClient overhead per call, {calls} calls x {rounds} rounds, best of rounds (microseconds per call)")
        print(f"{'operation':<26} {'par':>3}  {'raw httpx':>9}  {'client':>9}  {'overhead':>9}  {'ratio':>6}")
        for concurrency in (1, 8):
            for name, raw, ours in cases:
                await compare(name, calls, raw, ours, concurrency, rounds)
        print(f"client calls metered: {client.calls.total}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
