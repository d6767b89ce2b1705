"""Benchmark: several workers sharing one token under a scaled-down rate limit reach the limit, never past it.

The twin enforces 200 calls per 20-second window per token (Mist's 5000 an hour, scaled down so the run
takes a couple of minutes); three `mistctl worker` processes share the token through the Redis call budget
(`MIST_RATE_LIMIT=200 MIST_RATE_WINDOW=20`). One deployment needs several windows' worth of calls.

Near the end of every window the bench asks the twin for the token's count (`GET /self/usage`, one call of
its own, subtracted) and prints the calls mistctl made in each window against the limit, and the 429s.
The run is queued just after a window starts so no call is in flight across the first reset.

    .venv/bin/python bench/bench_rate.py [--sites 250] [--limit 200] [--window 20] [--workers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_workers import deploy_and_wait, served_twin  # noqa: E402
from tests.support.redis_server import redis_server  # noqa: E402
from tests.support.workers import claim_codes, fleet_data, mistctl_env, running_worker  # noqa: E402

from mist_twin.config import TwinConfig  # noqa: E402

PROBE_BEFORE_END = 0.4  # seconds before a window ends when its count is read


async def probe_windows(url: str, token: str, window: float, done: asyncio.Event) -> list[dict[str, Any]]:
    """The token's count near the end of every window until `done`: [{start, requests, rejected}]."""
    seen: list[dict[str, Any]] = []
    auth = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(base_url=url, headers=auth, timeout=30) as twin:
        rejected = 0
        while True:
            end = math.ceil(time.time() / window) * window
            if end - time.time() < PROBE_BEFORE_END + 0.05:
                end += window
            await asyncio.sleep(end - PROBE_BEFORE_END - time.time())
            usage = (await twin.get("/api/v1/self/usage")).json()
            total_429 = (await twin.get("/__twin/counters")).json()["rate_limited"]
            seen.append({"start": end - window, "requests": usage["requests"] - 1,
                         "rejected": total_429 - rejected})
            rejected = total_429
            if done.is_set():
                return seen


async def measure(state_url: str, data: dict[str, Any], url: str, org_id: str, token: str,
                  window: float) -> tuple[float, Any, list[dict[str, Any]]]:
    start = math.floor(time.time() / window) * window + window + 0.3  # just after a reset
    await asyncio.sleep(start - time.time())
    done = asyncio.Event()
    probes = asyncio.create_task(probe_windows(url, token, window, done))
    wall, run, _deployed = await deploy_and_wait(state_url, data, org_id, token)
    done.set()
    return wall, run, await probes


def report(args: argparse.Namespace, wall: float, run: Any, windows: list[dict[str, Any]], calls: int,
           rejected: int) -> None:
    print(f"{args.sites} sites, {args.workers} workers x {args.jobs} jobs sharing one token; twin limit "
          f"{args.limit} calls per {args.window:g} s window (Mist's 5000/h scaled down), "
          f"latency {args.latency_ms:g} ms")
    t0 = windows[0]["start"]
    for w in windows:
        share = 100 * w["requests"] / args.limit
        print(f"  window +{w['start'] - t0:>5.0f} s: {w['requests']:>4} calls ({share:5.1f}% of the limit), "
              f"{w['rejected']} answered 429")
    full = windows[:-1]  # the last window is where the work ran out
    lowest = min((w["requests"] for w in full), default=0)
    print(f"run {run.status} in {wall:.0f} s: {calls} calls in all, {rejected} answered 429; "
          f"the ideal at the limit is {calls / args.limit * args.window:.0f} s")
    ok = full and lowest >= 0.95 * args.limit and rejected == 0
    print(f"saturated windows: {len(full)}, lowest {lowest} calls = {100 * lowest / args.limit:.1f}% of the "
          f"limit (target >= 95%, no 429): {'OK' if ok else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=250)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--latency-ms", type=float, default=20)
    args = ap.parse_args()
    config = TwinConfig(latency_ms=args.latency_ms, rate_limit=args.limit, rate_window=args.window,
                        device_count=args.sites + 10)
    with (redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp,
          ExitStack() as stack):
        url, org_id, token, _pid = stack.enter_context(served_twin(config))
        env = mistctl_env(url, token, org_id, f"{redis_url}?prefix=br-{uuid4().hex[:8]}:",
                          MIST_RATE_LIMIT=str(args.limit), MIST_RATE_WINDOW=str(args.window))
        for i in range(args.workers):
            stack.enter_context(running_worker(env, Path(tmp), "--concurrency", str(args.jobs), "--log-level",
                                               "warning", label=f"rate-{i}"))
        data = fleet_data(args.sites, claim_codes(url, args.sites))  # /__twin/ calls are not counted
        wall, run, windows = asyncio.run(measure(env["MISTCTL_STATE"], data, url, org_id, token, args.window))
        counters = httpx.get(f"{url}/__twin/counters", timeout=30).json()
    report(args, wall, run, windows, counters["total"] - len(windows), counters["rate_limited"])


if __name__ == "__main__":
    main()
