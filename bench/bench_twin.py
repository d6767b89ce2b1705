"""The Mist twin's throughput: requests per second in-process (ASGI) and over HTTP (uvicorn).

- in-process: one httpx.AsyncClient on httpx.ASGITransport, sequential and with concurrent tasks;
- state file: creating sites with `state_file` set (one SQLite row per write), then listing them;
- over HTTP: `python -m mist_twin` as a subprocess, several concurrent keep-alive connections;
- under load: the twin as a subprocess with 50 ms latency and 64 calls in flight (goal: at least 1,000 calls
  per second), driven by a minimal keep-alive HTTP/1.1 client so the driver's CPU stays small; the twin's
  CPU (from /proc) is printed beside the driver's.

The mix is what a provisioning run sends: GET one object, GET a page of a list, POST a create.

    .venv/bin/python bench/bench_twin.py [--calls 3000] [--connections 8] [--sites 2000] [--in-flight 64]
        [--latency-ms 50] [--load-calls 6000] [--only-load] [--compare-src /work/wt/base/src] [--rounds 2]

`--compare-src DIR` runs the twin under load from another checkout's `src` too (e.g. main's), alternated
with this one `--rounds` times, for before/after figures from one run on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.twin import process_cpu, running_twin_process  # noqa: E402

from mist_twin.app import create_app  # noqa: E402
from mist_twin.config import TwinConfig  # noqa: E402

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


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads its answer (Content-Length only)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, token: str) -> None:
        self.reader, self.writer = reader, writer
        self.head = f"Host: {host}\r\nAuthorization: Token {token}\r\nAccept: application/json\r\n"

    async def call(self, method: str, path: str, body: dict[str, object] | None = None) -> int:
        data = json.dumps(body).encode() if body is not None else b""
        extra = f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n" if body is not None else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        await self.reader.readexactly(length)
        return int(head[9:12])


async def under_load(url: str, org: str, token: str, calls: int, in_flight: int) -> float:
    """Calls per second of the GET/GET list/POST mix, `in_flight` connections each with one call at a time."""
    host, port = url.removeprefix("http://").split(":")
    connections = [_Connection(*await asyncio.open_connection(host, int(port)), host, token) for _ in range(in_flight)]
    site = connections[0]
    assert await site.call("POST", f"/api/v1/orgs/{org}/sites", {"name": "bench"}) == 200
    site_id = httpx.get(f"{url}/api/v1/orgs/{org}/sites", headers={"Authorization": f"Token {token}"}).json()[0]["id"]
    counter = iter(range(10**9))

    async def worker(conn: _Connection, share: int) -> None:
        for n in range(share):
            if n % 3 == 0:
                status = await conn.call("GET", f"/api/v1/sites/{site_id}")
            elif n % 3 == 1:
                status = await conn.call("GET", f"/api/v1/orgs/{org}/sitegroups?limit=50")
            else:
                status = await conn.call("POST", f"/api/v1/orgs/{org}/sitegroups", {"name": f"g-{next(counter)}"})
            assert status == 200, status

    share = calls // in_flight
    started = time.perf_counter()
    await asyncio.gather(*(worker(conn, share) for conn in connections))
    rate = share * in_flight / (time.perf_counter() - started)
    for conn in connections:
        conn.writer.close()
    return rate


def load_figures(calls: int, in_flight: int, latency_ms: float, src: Path | None = None) -> dict[str, float]:
    """The twin under load as a process (from `src` when given): calls/s, its CPU per call, the driver's."""
    config = TwinConfig(latency_ms=latency_ms, rate_limit=10**9, device_count=0)
    saved = os.environ.get("PYTHONPATH")
    if src is not None:
        os.environ["PYTHONPATH"] = str(src)
    try:
        with running_twin_process(config) as (url, org, token, pid):
            twin_cpu, own_cpu = process_cpu(pid), time.process_time()
            rate = asyncio.run(under_load(url, org, token, calls, in_flight))
            twin_cpu, own_cpu = process_cpu(pid) - twin_cpu, time.process_time() - own_cpu
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    done = calls // in_flight * in_flight
    return {"rate": rate, "twin_ms": 1000 * twin_cpu / done, "driver_ms": 1000 * own_cpu / done}


def print_load(args: argparse.Namespace) -> None:
    """The under-load figures, alternating this src and `--compare-src` (the machine's noise is shared)."""
    ceiling = args.in_flight / (args.latency_ms / 1000) if args.latency_ms else float("inf")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"twin over HTTP, {args.latency_ms:.0f} ms latency, {args.in_flight} in flight, {args.load_calls} calls "
          f"(goal >= 1,000 calls/s; ceiling {ceiling:,.0f} = in flight / latency; load average {load}):")
    runs: list[tuple[str, Path | None]] = [("this src", None)]
    if args.compare_src:
        runs = [*runs, ("compare-src", args.compare_src)] * args.rounds
    for label, src in runs:
        r = load_figures(args.load_calls, args.in_flight, args.latency_ms, src)
        print(f"  {label:<12} {r['rate']:>6,.0f} calls/s; twin CPU {r['twin_ms']:.3f} ms per call, "
              f"driver CPU {r['driver_ms']:.3f} ms per call", flush=True)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--load-calls", type=int, default=6000)
    parser.add_argument("--only-load", action="store_true", help="only the twin under load")
    parser.add_argument("--compare-src", type=Path, help="also run the twin under load from this src (main's)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations with --compare-src")
    args = parser.parse_args()
    print_load(args)
    if args.only_load:
        return
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
