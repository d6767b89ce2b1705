"""State store throughput: step records/s and audit appends/s, memory vs SQLite vs Redis, side by side.

    .venv/bin/python bench/bench_store.py [--n 2000]

Starts its own throwaway redis-server (tests/support/redis_server.py) and a SQLite file in a temp dir.
"One by one" awaits each write before the next (what a single site task does); "16 concurrent" runs
16 writers at once (a deployment's site tasks); "batch 100" uses record_steps / append_audit_batch.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support when run as a script

from tests.support.redis_server import redis_server  # noqa: E402

from mistctl.store import AuditEntry, SiteState, StateStore, StepRecord, open_store  # noqa: E402

CONCURRENCY = 16
BATCH = 100


def step(i: int) -> StepRecord:
    return StepRecord(run_id="bench", org_id="org", site=f"site-{i // 20:04d}", step=i % 14, kind="networks",
                      key=f"k{i}", status="done", mist_id=f"m{i}", applied_hash="h" * 16, calls=1)


def audit(i: int) -> AuditEntry:
    return AuditEntry(run_id="bench", site=f"site-{i // 20:04d}", method="PUT", path=f"/api/v1/sites/{i}",
                      kind="networks", name=f"k{i}", status=200, duration_ms=40.0)


async def rate(n: int, work: Callable[[], Awaitable[None]], repeat: int = 3) -> float:
    """Operations per second for `work` (n operations), best of `repeat` (the machine is shared)."""
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        await work()
        best = max(best, n / (time.perf_counter() - start))
    return best


async def one_by_one(n: int, write: Callable[[int], Awaitable[None]]) -> None:
    for i in range(n):
        await write(i)


async def concurrent(n: int, write: Callable[[int], Awaitable[None]]) -> None:
    async def worker(w: int) -> None:
        for i in range(w, n, CONCURRENCY):
            await write(i)

    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))


async def measure(store: StateStore, n: int) -> dict[str, float]:
    """The figures for one store."""
    figures = {
        "steps one by one": await rate(n, lambda: one_by_one(n, lambda i: store.record_step(step(i)))),
        "steps 16 concurrent": await rate(n, lambda: concurrent(n, lambda i: store.record_step(step(n + i)))),
        "steps batch 100": await rate(n, lambda: one_by_one(
            n // BATCH, lambda b: store.record_steps([step(2 * n + b * BATCH + j) for j in range(BATCH)]))),
        "audit one by one": await rate(n, lambda: one_by_one(n, lambda i: store.append_audit(audit(i)))),
        "audit 16 concurrent": await rate(n, lambda: concurrent(n, lambda i: store.append_audit(audit(i)))),
        "audit batch 100": await rate(n, lambda: one_by_one(
            n // BATCH, lambda b: store.append_audit_batch([audit(b * BATCH + j) for j in range(BATCH)]))),
        "events one by one": await rate(n, lambda: one_by_one(n, lambda i: _publish(store, i))),
    }
    sites = [SiteState(org_id="org", name=f"site-{i:04d}", status="done") for i in range(2000)]
    await store.put_site_states(sites)
    pages = 2000 // 100
    figures["site pages of 100 (of 2,000)"] = await rate(pages, lambda: one_by_one(
        pages, lambda p: _page(store, p)))
    return figures


async def _publish(store: StateStore, i: int) -> None:
    await store.publish_event("bench", {"type": "step", "i": i})


async def _page(store: StateStore, p: int) -> None:
    await store.list_site_states(status="done", offset=p * 100, limit=100)


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="mistctl-bench-") as tmp, redis_server() as redis_url:
        urls = {"memory": "memory://", "sqlite": f"sqlite:///{tmp}/state.db", "redis": redis_url}
        results: dict[str, dict[str, float]] = {}
        for name, url in urls.items():
            async with open_store(url) as store:
                results[name] = await measure(store, n)
    print(f"state store throughput, n={n} operations per row (ops/s, best of 3, higher is better)")
    print(f"{'':32}" + "".join(f"{name:>12}" for name in results))
    for row in results["memory"]:
        print(f"{row:32}" + "".join(f"{results[name][row]:12,.0f}" for name in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="operations per row (default 2000)")
    asyncio.run(run(parser.parse_args().n))


if __name__ == "__main__":
    main()
