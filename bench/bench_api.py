"""Benchmark of the provisioning service in-process (ASGI app + twin, memory store): prints figures.

    .venv/bin/python bench/bench_api.py [--sites 20] [--latency-ms 0]

Figures: the first deploy-full-stack call of an org (org objects + site) and further new sites, in
seconds and Mist calls; an idempotent repeat (calls, writes); per-step route round trips; /healthz
requests per second through the middleware. With `--latency-ms` the twin answers that much later per
call, so the times approach a real cloud's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_api_support import Harness, full_stack_body, service  # noqa: E402

ROUTE = "/orchestrator/deploy-full-stack"


async def _timed(svc: Harness, body: dict[str, Any]) -> tuple[float, int, int]:
    calls, writes = svc.twin.counters.snapshot()["total"], sum(svc.writes().values())
    start = time.perf_counter()
    answer = await svc.client.post(ROUTE, json=body, headers=svc.key)
    took = time.perf_counter() - start
    assert answer.json()["status"] == "completed", answer.text
    return took, svc.twin.counters.snapshot()["total"] - calls, sum(svc.writes().values()) - writes


async def full_stack(sites: int, latency_ms: float) -> None:
    async with service(latency_ms=latency_ms, inventory_count=2 * sites) as svc:
        serials = svc.serials(2 * sites)
        first = await _timed(svc, full_stack_body(svc, device_serials=serials[:2]))
        first_id = full_stack_body(svc)["site_id"]  # its place is held: the others take other site numbers
        numbers = [n for n in range(1, sites + 1) if n != first_id][:sites - 1]
        more = [await _timed(svc, full_stack_body(svc, site_name=f"Branch-{n:03d}", site_id=n,
                                                  device_serials=serials[2 * i + 2:2 * i + 4]))
                for i, n in enumerate(numbers)]
        again = await _timed(svc, full_stack_body(svc, device_serials=serials[:2]))
        print(f"full stack, first site of a fresh org: {first[0]:.3f} s, {first[1]} Mist calls "
              f"({first[2]} writes)")
        if more:
            secs, calls, writes = (statistics.median(m[i] for m in more) for i in range(3))
            print(f"full stack, {len(more)} more sites: median {secs:.3f} s, {calls:.0f} calls "
                  f"({writes:.0f} writes) each")
        print(f"full stack, the same request again: {again[0]:.3f} s, {again[1]} calls, {again[2]} writes")
        steps = []
        for path in ("/wan/applications", "/wireless/wlans", "/wireless/org-psks"):
            start = time.perf_counter()
            await svc.client.post(path, json={}, headers=svc.key)
            steps.append(time.perf_counter() - start)
        print(f"per-step route (converged already): median {statistics.median(steps) * 1000:.1f} ms")


async def healthz(requests: int = 2000) -> None:
    async with service() as svc:
        start = time.perf_counter()
        for _ in range(requests):
            await svc.client.get("/healthz")
        took = time.perf_counter() - start
    print(f"/healthz through the middleware: {requests / took:.0f} requests/s (one client, in-process)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(full_stack(args.sites, args.latency_ms))
    asyncio.run(healthz())


if __name__ == "__main__":
    main()
