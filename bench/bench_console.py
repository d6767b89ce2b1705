"""Benchmark of the web console's pages on a big fleet (in-process ASGI app, SQLite store): prints figures.

    .venv/bin/python bench/bench_console.py [--sites 2000] [--repeat 20]

The store is filled directly (2,000 site states across three zones, a tenth failed, half of them deployed
with a second IP plan on 172.16.0.0/12, and one finished deployment of them all), then each page is
requested `--repeat` times through httpx with a signed-in
session. Figures: median and worst time per request (render included), and the page's size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.test_api_support import SERVICE_KEY, service  # noqa: E402

from mistctl.store.models import Run, SiteState, utcnow  # noqa: E402
from mistctl.store.sqlite import SqliteStore  # noqa: E402

LAB_PLAN = {"supernet": "172.16.0.0/12", "zone_prefix": 14, "site_prefix": 22,
            "segments": [{"name": "mgmt", "vlan": 10, "prefix": 24}, {"name": "data", "vlan": 20, "prefix": 24}]}


async def fill(store: SqliteStore, org_id: str, sites: int) -> str:
    """Site states and one completed run over all of them; the run id."""
    run = await store.create_run(Run(kind="apply", org_id=org_id, status="completed", started_at=utcnow(),
                                     finished_at=utcnow()))
    failed = sites // 10
    await store.incr_run_counts(run.id, {"sites_total": sites, "sites_done": sites - failed,
                                         "sites_failed": failed, "writes": 3 * sites, "calls": 4 * sites})
    states = [SiteState(org_id=org_id, name=f"Store-{n:05d}", zone=str(1 + n % 3), number=1 + n // 6,
                        status="failed" if n % 10 == 0 else "done", site_id=f"site-{n}", last_run_id=run.id,
                        failed_step=4 if n % 10 == 0 else None, error="boom" if n % 10 == 0 else None,
                        ip_plan=LAB_PLAN if n % 2 else None)
              for n in range(sites)]
    await store.put_site_states(states)
    return run.id


async def timed(client: httpx.AsyncClient, path: str, repeat: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = await client.get(path)
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, (path, answer.status_code)
        size = len(answer.content)
    return statistics.median(times), max(times), size


async def run(sites: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteStore(Path(tmp) / "state.db") as store, service(store=store) as svc, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url="https://ui") as ui:
            run_id = await fill(store, svc.org_id, sites)
            await ui.post("/ui/login", data={"key": SERVICE_KEY})
            pages = {
                "fleet, page 1 of 100 sites": "/ui",
                "fleet, last page": f"/ui?page={(sites + 99) // 100}",
                "fleet, failed only": "/ui?status=failed",
                "fleet, one zone (scan)": "/ui?zone=2",
                "fleet, name search (scan)": "/ui?q=Store-019",
                "IP plan (two plans, all placed)": "/ui/ipam",
                f"deployment of {sites} sites": f"/ui/deployments/{run_id}",
            }
            print(f"web console, {sites} sites in a SQLite store, {repeat} requests per page (in-process):")
            for name, path in pages.items():
                median, worst, size = await timed(ui, path, repeat)
                print(f"  {name:<32} median {median * 1000:7.1f} ms  worst {worst * 1000:7.1f} ms  "
                      f"{size / 1024:6.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.sites, args.repeat))


if __name__ == "__main__":
    main()
