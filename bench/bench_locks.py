"""What the org lock costs a run: taking the org's lock and N sites', one renewal (beat), the release.

    .venv/bin/python bench/bench_locks.py [--sites 2000] [--store sqlite|redis://...]

Prints seconds per phase (medians of --repeat runs). The lock is taken once per run; a beat runs every
third of the TTL (20 s for the CLI), so these figures bound the lock's share of a run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from mistctl.store import open_store
from mistctl.workflow.runlock import org_run


async def one(url: str, sites: int) -> tuple[float, float, float]:
    async with open_store(url) as store:
        names = [f"site-{i:05d}" for i in range(sites)]
        t0 = time.perf_counter()
        async with org_run(store, "org-bench", "run-bench", holder="bench", wait=0, sites=names) as lease:
            t1 = time.perf_counter()
            await lease.beat()
            t2 = time.perf_counter()
        t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", default="sqlite")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            url = f"sqlite:///{Path(tmp) / f'state{i}.db'}" if args.store == "sqlite" else args.store
            runs.append(asyncio.run(one(url, args.sites)))
    take, beat, release = (statistics.median(col) for col in zip(*runs, strict=True))
    print(f"{args.sites} sites on {args.store}: take {take:.2f} s, one beat {beat:.2f} s, release {release:.2f} s")


if __name__ == "__main__":
    main()
