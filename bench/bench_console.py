"""Benchmark of the web console's pages on a big fleet (in-process ASGI app, SQLite store): prints figures.

    .venv/bin/python bench/bench_console.py [--sites 2000] [--repeat 20]

The store is filled directly (2,000 site states across three zones, a tenth failed, half of them deployed
with a second IP plan on 172.16.0.0/12, and one finished deployment of them all; for the fleet-wide pages:
coordinates for nine sites in ten, 12 SLE checks per site, 3 writes per site in the audit log, 10 upgrade
runs with their reports, 50 PSKs half of them rotated), then each page is requested `--repeat` times
through httpx with a signed-in session. Figures: median and worst time per request (render included), and
the page's size.
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

from mistctl.store.models import AuditEntry, Run, SiteState, SleCheck, StepRecord, utcnow  # noqa: E402
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
                        ip_plan=LAB_PLAN if n % 2 else None,
                        latlng=None if n % 10 == 5 else (-50 + (n * 7919) % 120, -170 + (n * 104729) % 340),
                        sle={"coverage": 0.8 + (n % 20) / 100, "capacity": 0.95})
              for n in range(sites)]
    await store.put_site_states(states)
    await fill_day2(store, org_id, run.id, [s.name for s in states])
    return run.id


async def fill_day2(store: SqliteStore, org_id: str, run_id: str, names: list[str]) -> None:
    """SLE checks, audit entries, upgrade runs and PSK rotations for the fleet-wide pages."""
    for check in range(12):
        await store.append_sle_checks([SleCheck(org_id=org_id, site=name, status="pass",
                                                values={"coverage": 0.8 + ((n + check) % 20) / 100})
                                       for n, name in enumerate(names)])
    await store.append_audit_batch([AuditEntry(run_id=run_id, site=name, method="PUT", kind=kind, name=name,
                                               path=f"/api/v1/sites/site-{n}/{kind}", status=200)
                                    for n, name in enumerate(names) for kind in ("sites", "setting", "devices")])
    report = {"status": "completed", "waves": [{"wave": w, "devices": 40, "sites": names[:20]} for w in (1, 2, 3)],
              "gates": [{"wave": w, "passed": True, "sites": names[:20]} for w in (1, 2, 3)]}
    for _ in range(10):
        await store.create_run(Run(kind="upgrade", org_id=org_id, status="completed",
                                   plan={"version": "10.1.2", "report": report}))
    rotation = await store.create_run(Run(kind="psk-rotate", org_id=org_id, status="completed",
                                          plan={"grace_seconds": 86400}))
    for n in range(50):
        await store.put_object(org_id, "psks", f"psk-{n}", f"id-{n}")
        if n % 2:
            await store.put_fingerprint(org_id, "psks", f"psk-{n}", "sha256:" + "b" * 64)
            await store.record_step(StepRecord(run_id=rotation.id, org_id=org_id, site=None, step=13,
                                               kind="psk_rotation", key=f"psk-{n}", status="running"))


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
                "map, by state (all sites)": "/ui/map",
                "map, by SLE": "/ui/map?colour=sle",
                "assurance, page 1 with trends": "/ui/assurance",
                "rollouts (10 upgrade runs)": "/ui/rollouts",
                "PSKs (50, 25 rotating)": "/ui/psks",
                "audit, newest 50": "/ui/audit",
                "audit, one site (store index)": "/ui/audit?site=Store-00042",
                "audit, by key (scan)": "/ui/audit?key=Store-00042",
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
