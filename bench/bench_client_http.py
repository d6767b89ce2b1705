"""The Mist client's CPU per call over a real socket: `MistClient` from `build_http_client(url)` against the
twin served as its own process (50 ms latency), 16 calls in flight, beside the goal (1 ms per call).

Each side runs in its own process (PYTHONPATH=that src), so main's code and this one are measured in one
run against the same twin: `--compare-src /work/wt/base/src`. Rounds alternate between the sides and the
best round of each is printed (the least disturbed by other load); CPU is the client process's own
(`time.process_time`), the twin's is read from /proc beside it.

Phases: `get` is GET /orgs/{id} only; `mix` is five calls per unit (GET org, GET sites with limit/page,
POST a sitegroup, PUT it, DELETE it), so the twin's state stays the same from round to round.

    .venv/bin/python bench/bench_client_http.py [--calls 3000] [--rounds 2] [--compare-src /work/wt/base/src]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 1.0


def _twin_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phase(n: int, inflight: int, one: Callable[[int], Awaitable[int]], pid: int) -> dict[str, float]:
    gate = asyncio.Semaphore(inflight)
    calls = 0

    async def guarded(i: int) -> None:
        nonlocal calls
        async with gate:
            made = await one(i)  # (not `calls += await ...`: that reads `calls` before the wait)
            calls += made

    twin, cpu, wall = _twin_cpu(pid), time.process_time(), time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(n)))
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "twin": _twin_cpu(pid) - twin,
            "calls": calls}


async def child(url: str, token: str, org: str, pid: int, calls: int, inflight: int) -> dict[str, Any]:
    from mistctl.mist import InMemoryCallBudget, MistClient, SystemClock, build_http_client
    from mistctl.mist.http import default_limits

    async with build_http_client(url, limits=default_limits(inflight)) as http:
        clock = SystemClock()
        budget = InMemoryCallBudget(clock, limit=10**9)  # the default (5,000 an hour) would stop a long run
        client = MistClient(http, token, clock=clock, concurrency=inflight, budget=budget)

        async def get(_: int) -> int:
            await client.get_organization(org)
            return 1

        async def unit(i: int) -> int:
            await client.get_organization(org)
            await client.list_org(org, "sites")
            made = await client.create_org(org, "sitegroups", {"name": f"bench-{os.getpid()}-{i}"})
            await client.update_org(org, "sitegroups", made["id"], {"name": f"bench-{os.getpid()}-{i}-b"})
            await client.delete_org(org, "sitegroups", made["id"])
            return 5

        await _phase(200, inflight, get, pid)  # warm: connections open, code paths run once
        return {"get": await _phase(calls, inflight, get, pid), "mix": await _phase(calls // 5, inflight, unit, pid)}


def run_side(src: Path, args: argparse.Namespace, url: str, token: str, org: str, pid: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--child", url, token, org, str(pid), "--calls", str(args.calls),
           "--inflight", str(args.inflight)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the client run with {src} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--inflight", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--compare-src", type=Path, help="also run this src (e.g. main's), alternating rounds")
    ap.add_argument("--child", nargs=4, metavar=("URL", "TOKEN", "ORG", "TWIN_PID"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        url, token, org, pid = args.child
        print(json.dumps(asyncio.run(child(url, token, org, int(pid), args.calls, args.inflight))))
        return

    sys.path.insert(0, str(ROOT))
    from tests.support.twin import running_twin_process

    from mist_twin.config import TwinConfig

    sides = [("this src", ROOT / "src")] + ([("compare-src", args.compare_src)] if args.compare_src else [])
    best: dict[str, dict[str, dict[str, float]]] = {}
    config = TwinConfig(latency_ms=args.latency_ms, rate_limit=10**9, device_count=0)
    with running_twin_process(config) as (url, org, token, pid):
        for _ in range(args.rounds):
            for label, src in sides:
                got = run_side(src, args, url, token, org, pid)
                for phase, r in got.items():
                    kept = best.setdefault(label, {}).get(phase)
                    if kept is None or r["cpu"] / r["calls"] < kept["cpu"] / kept["calls"]:
                        best[label][phase] = r
    print(f"Mist client over a real socket: twin process at {args.latency_ms:g} ms, {args.inflight} in flight, "
          f"best of {args.rounds} rounds")
    print(f"{'side':<12} {'phase':<5} {'calls':>6} {'CPU/call':>10} {'goal':>7} {'twin CPU/call':>14} {'wall':>7}")
    for label, src in sides:
        for phase, r in best[label].items():
            per = 1000 * r["cpu"] / r["calls"]
            met = "met" if per <= GOAL_MS else "NOT met"
            print(f"{label:<12} {phase:<5} {r['calls']:>6.0f} {per:>7.2f} ms {'<= 1':>7} "
                  f"{1000 * r['twin'] / r['calls']:>11.2f} ms {r['wall']:>6.1f}s  {met}  ({src})")


if __name__ == "__main__":
    main()
