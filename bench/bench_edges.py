"""The service's edges under abuse, in-process (ASGI app + twin, memory store): prints counts and times.

    .venv/bin/python bench/bench_edges.py [--n 3000]

Figures: N bearer guesses, N console logins and N random `X-Mist-API-Key` values from one client: how
many were checked (401) and how many held back (429), the `GET /self` calls they cost Mist, the Retry-After
given, the /metrics size before and after, and the time taken.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_api_support import Harness, service  # noqa: E402


def _self_calls(svc: Harness) -> int:
    routes: dict[str, int] = svc.twin.counters.snapshot()["by_route"]
    return sum(n for route, n in routes.items() if route.startswith("GET") and route.endswith("/self"))


async def _flood(svc: Harness, n: int, send: str) -> None:
    codes: Counter[int] = Counter()
    retry_after = ""
    started, calls = time.perf_counter(), _self_calls(svc)
    for _ in range(n):
        guess = secrets.token_hex(20)
        if send == "bearer":
            answer = await svc.client.get("/deployments", headers={"Authorization": f"Bearer {guess}"})
        elif send == "login":
            answer = await svc.client.post("/ui/login", data={"key": guess, "next": "/ui"})
        else:
            answer = await svc.client.get("/deployments", headers={"X-Mist-API-Key": guess})
        codes[answer.status_code] += 1
        retry_after = answer.headers.get("retry-after", retry_after)
    took = time.perf_counter() - started
    print(f"{n} {send} guesses: {codes[401]} checked (401), {codes[429]} held (429, Retry-After {retry_after} s), "
          f"other {sum(c for s, c in codes.items() if s not in (401, 429))}; {_self_calls(svc) - calls} GET /self "
          f"to Mist; {took:.2f} s ({n / took:.0f}/s)")


def _series(text: str) -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


async def run(n: int) -> None:
    for send in ("bearer", "login", "mist-key"):
        async with service() as svc:  # a fresh service each: the throttles are per process
            svc.client.base_url = httpx.URL("https://svc")
            scraper = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app, client=("10.9.9.9", 9)),
                                        base_url="https://svc")  # another client: not held back
            async with scraper:
                before = _series((await scraper.get("/metrics", headers=svc.key)).text)
                await _flood(svc, n, send)
                after = _series((await scraper.get("/metrics", headers=svc.key)).text)
            print(f"  /metrics series: {before} before, {after} after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    asyncio.run(run(parser.parse_args().n))


if __name__ == "__main__":
    main()
