"""The Mist twin's throughput: requests per second in-process (ASGI) and over HTTP (uvicorn).

- in-process: one httpx.AsyncClient on httpx.ASGITransport, sequential and with concurrent tasks;
- state file: creating sites with `state_file` set (one SQLite row per write), then listing them;
- over HTTP: `python -m mist_twin` as a subprocess, several concurrent keep-alive connections.

The mix is what a provisioning run sends: GET one object, GET a page of a list, POST a create.

    .venv/bin/python bench/bench_twin.py [--calls 3000] [--connections 8] [--sites 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from mist_twin.app import create_app
from mist_twin.config import TwinConfig

TOKEN = "bench-token-0123456789"


def _mix(client: httpx.AsyncClient, org: str, site_id: str) -> list[Callable[[], Awaitable[httpx.Response]]]:
    counter = iter(range(10**9))
    return [
        lambda: client.get(f"/api/v1/sites/{site_id}"),
        lambda: client.get(f"/api/v1/orgs/{org}/sitegroups", params={"limit": 50}),
        lambda: client.post(f"/api/v1/orgs/{org}/sitegroups", json={"name": f"group-{next(counter)}"}),
    ]


async def _drive(client: httpx.AsyncClient, org: str, calls: int, concurrency: int) -> float:
    """Calls per second for `calls` calls of the mix spread over `concurrency` tasks."""
    site = (await client.post(f"/api/v1/orgs/{org}/sites", json={"name": "bench"})).json()
    mix = _mix(client, org, site["id"])

    async def worker(share: int) -> None:
        for n in range(share):
            answer = await mix[n % len(mix)]()
            assert answer.status_code == 200, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    return (calls // concurrency * concurrency) / (time.perf_counter() - started)


async def in_process(calls: int, concurrency: int) -> float:
    """Requests per second through httpx.ASGITransport."""
    app = create_app(TwinConfig(token=TOKEN, rate_limit=10**9))
    headers = {"Authorization": f"Token {TOKEN}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twin", headers=headers) as client:
        return await _drive(client, app.state.twin.org_id, calls, concurrency)


async def with_state_file(sites: int) -> tuple[float, float, int]:
    """(site creates per second, seconds to list them all, state file KiB) with SQLite persistence."""
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "twin.sqlite"
        app = create_app(TwinConfig(token=TOKEN, rate_limit=10**9, state_file=state))
        org = app.state.twin.org_id
        headers = {"Authorization": f"Token {TOKEN}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://twin", headers=headers) as client:
            started = time.perf_counter()
            for n in range(sites):
                await client.post(f"/api/v1/orgs/{org}/sites", json={"name": f"site-{n:05d}"})
            rate = sites / (time.perf_counter() - started)
            started = time.perf_counter()
            for page in range(1, sites // 1000 + 2):
                await client.get(f"/api/v1/orgs/{org}/sites", params={"limit": 1000, "page": page})
            listing = time.perf_counter() - started
        app.state.twin.close()
        return rate, listing, state.stat().st_size // 1024


async def over_http(calls: int, connections: int) -> float:
    """Requests per second to a uvicorn subprocess over loopback, `connections` at a time."""
    command = [
        sys.executable,
        "-m",
        "mist_twin",
        "--port",
        "0",
        "--token",
        TOKEN,
        "--rate-limit",
        "1000000000",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = re.search(r"ready on (\S+) org_id=(\S+)", proc.stdout.readline())
        assert ready, "the twin did not start"
        url, org = ready.group(1), ready.group(2)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        headers = {"Authorization": f"Token {TOKEN}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:
            return await _drive(client, org, calls, connections)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sites", type=int, default=2000)
    args = parser.parse_args()
    sequential = asyncio.run(in_process(args.calls, 1))
    concurrent = asyncio.run(in_process(args.calls, args.connections))
    print(f"twin in-process (ASGI), GET/GET list/POST mix: {sequential:,.0f} req/s sequential, "
          f"{concurrent:,.0f} req/s with {args.connections} tasks")  # fmt: skip
    rate, listing, size = asyncio.run(with_state_file(args.sites))
    print(f"twin with state_file: {rate:,.0f} site creates/s over {args.sites} sites; "
          f"listing all {args.sites} sites took {listing * 1000:.0f} ms; state file {size} KiB")  # fmt: skip
    http = asyncio.run(over_http(args.calls, args.connections))
    print(f"twin over HTTP (uvicorn subprocess, {args.connections} connections): {http:,.0f} req/s")


if __name__ == "__main__":
    main()
