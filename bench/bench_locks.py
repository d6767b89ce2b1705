"""What the org lock costs a run: taking the org's lock and N sites', one renewal (beat), the release.

    .venv/bin/python bench/bench_locks.py [--sites 2000] [--store sqlite|redis://...]
    .venv/bin/python bench/bench_locks.py --heartbeat [--plan-sites 6000] [--compare-src /work/wt/base/src]

Prints seconds per phase (medians of --repeat runs). The lock is taken once per run; a beat runs every
third of the TTL (20 s for the CLI), so these figures bound the lock's share of a run.

`--heartbeat`: what one heartbeat (`update_run(heartbeat_at=...)`, as every beat and every small status
update makes it) costs a run whose plan has --plan-sites sites, on memory, SQLite and a throwaway
redis-server; CPU of this process (the store's thread included), measured in a fresh process per src.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEATS = 5


async def one(url: str, sites: int) -> tuple[float, float, float]:
    from mistctl.store import open_store
    from mistctl.workflow.runlock import org_run

    async with open_store(url) as store:
        names = [f"site-{i:05d}" for i in range(sites)]
        t0 = time.perf_counter()
        async with org_run(store, "org-bench", "run-bench", holder="bench", wait=0, sites=names) as lease:
            t1 = time.perf_counter()
            await lease.beat()
            t2 = time.perf_counter()
        t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def a_plan(sites: int) -> dict[str, object]:
    """A plan shaped as `Plan.to_json` writes one: per site, its object, its variables and its devices."""
    changes: list[dict[str, object]] = []
    for i in range(sites):
        name = f"store-{i:05d}"
        site = {"name": name, "address": f"{i} Main Street, Springfield", "country_code": "US",
                "timezone": "America/Chicago", "latlng": {"lat": 41.0 + i / 1e4, "lng": -89.0},
                "sitegroup_ids": ["retail", "zone-3"], "rftemplate_id": "rf-std", "gatewaytemplate_id": "gw"}
        variables = {f"var_{k}": f"10.{i % 250}.{k}.0/24" for k in range(12)}
        changes += [
            {"phase": "site", "step": 1, "kind": "sites", "key": name, "site": name, "action": "create",
             "body": site, "diff": {}, "mist_id": None},
            {"phase": "site", "step": 1, "kind": "site_vars", "key": name, "site": name, "action": "update",
             "body": {"vars": variables}, "diff": {}, "mist_id": None},
            {"phase": "site", "step": 2, "kind": "devices", "key": name, "site": name, "action": "update",
             "body": {"macs": [f"5c5b35{i:06x}", f"5c5b36{i:06x}"]}, "diff": {}, "mist_id": None},
        ]
    return {"org_id": "org-bench", "fleet_hash": "h" * 64, "changes": changes, "problems": []}


async def heartbeats(urls: dict[str, str], plan_sites: int) -> dict[str, tuple[float, float]]:
    """Per store: (CPU ms, wall ms) of one heartbeat of a run with a `plan_sites`-site plan (median)."""
    from mistctl.store import open_store
    from mistctl.store.models import Run, utcnow

    plan = a_plan(plan_sites)
    figures: dict[str, tuple[float, float]] = {}
    for name, url in urls.items():
        async with open_store(url) as store:
            run = await store.create_run(Run(kind="apply", org_id="org-bench", plan=plan))
            cpu, wall = [], []
            for _ in range(BEATS):
                c, w = time.process_time(), time.perf_counter()
                await store.update_run(run.id, heartbeat_at=utcnow())
                cpu.append(time.process_time() - c)
                wall.append(time.perf_counter() - w)
            kept = await store.get_run(run.id)
            assert kept is not None and len(kept.plan["changes"]) == 3 * plan_sites, "the plan was damaged"
            figures[name] = (1000 * statistics.median(cpu), 1000 * statistics.median(wall))
    return figures


def heartbeat_main(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support.redis_server import redis_server

    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"one heartbeat of a run whose plan has {args.plan_sites:,} sites, median of {BEATS} "
          f"(ms CPU / ms wall; goal: no read of the plan, so a few ms) (load average {load})")
    runs = [("this src", ROOT / "src")] + ([("compare-src", args.compare_src)] if args.compare_src else [])
    with tempfile.TemporaryDirectory(prefix="mistctl-bench-") as tmp, redis_server() as redis_url:
        for n, (label, src) in enumerate(runs * 2 if args.compare_src else runs):  # alternated: noise shared
            urls = {"memory": "memory://", "sqlite": f"sqlite:///{tmp}/hb{n}.db", "redis": f"{redis_url}?prefix=hb{n}:"}
            env = {**os.environ, "PYTHONPATH": str(src)}
            done = subprocess.run([sys.executable, __file__, "--heartbeat-child", json.dumps(urls),
                                   "--plan-sites", str(args.plan_sites)],
                                  env=env, capture_output=True, text=True, check=True)
            figures: dict[str, list[float]] = json.loads(done.stdout)
            row = ", ".join(f"{name} {cpu:7.1f} / {wall:7.1f}" for name, (cpu, wall) in figures.items())
            print(f"  {label:<12}: {row}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--heartbeat", action="store_true", help="the heartbeat of a run with a large plan")
    parser.add_argument("--plan-sites", type=int, default=6000)
    parser.add_argument("--compare-src", type=Path, help="with --heartbeat: also measure this src (main's)")
    parser.add_argument("--heartbeat-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.heartbeat_child:
        print(json.dumps(asyncio.run(heartbeats(json.loads(args.heartbeat_child), args.plan_sites))))
        return
    if args.heartbeat:
        heartbeat_main(args)
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            url = f"sqlite:///{Path(tmp) / f'state{i}.db'}" if args.store == "sqlite" else args.store
            runs.append(asyncio.run(one(url, args.sites)))
    take, beat, release = (statistics.median(col) for col in zip(*runs, strict=True))
    print(f"{args.sites} sites on {args.store}: take {take:.2f} s, one beat {beat:.2f} s, release {release:.2f} s")


if __name__ == "__main__":
    main()
