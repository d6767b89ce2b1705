"""The CPU of what an apply records per site in the SQLite state file, side by side with another checkout.

Each of `--sites` sites (16 at a time, as `mistctl apply --concurrency 16`) records what `run_site_job`
records for a new site: its status (provisioning, then done), the site's before-image marked written, four
steps done (each with its object's id and the audit entry of its write), its outcome event and the run's
counters. No Mist: only the records, through `workflow.records.Records` on a `SqliteStore` file. The CPU
is the process's (the event loop and the store's thread), per site.

    .venv/bin/python bench/bench_records.py [--sites 1000] [--compare-src /work/wt/base/src]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 16
STEPS = ((1, "sites"), (1, "site_vars"), (2, "devices"), (2, "device_names"))


async def record_sites(path: str, sites: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) to record `sites` sites."""
    from mistctl.store.models import Run, RunImage
    from mistctl.store.sqlite import SqliteStore
    from mistctl.workflow.context import call_scope
    from mistctl.workflow.deploy import CallLedger
    from mistctl.workflow.records import Records

    async with SqliteStore(path) as store:
        run = await store.create_run(Run(kind="apply", org_id="org", plan={"changes": []}))
        images = [RunImage(run_id=run.id, org_id="org", kind="sites", key=f"S{i}", action="create")
                  for i in range(sites)]
        await store.put_run_images(images)
        ledger = CallLedger()
        records = Records(store, "org", run.id, ledger=ledger)
        if hasattr(records, "images"):  # the run's images as the process that recorded them holds them
            records.images = {(i.kind, i.key): i for i in images}
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def site(i: int) -> None:
            name = f"S{i}"
            async with gate:
                await records.site_status(name, "provisioning")
                for step, kind in STEPS:
                    with call_scope(name, kind, name):
                        ledger.audit.append({"method": "PUT", "path": f"/api/v1/sites/{i}/{kind}", "status": 200,
                                             "duration_ms": 50.0, "site": name, "kind": kind, "name": name})
                        await asyncio.sleep(0.002)  # the Mist call
                    if kind == "sites":
                        await records.wrote("sites", name, {"id": f"id-{i}", "modified_time": 1_700_000_000})
                    await records.step_done(name, step, kind, name, f"id-{i}", "h" * 16)
                await records.site_status(name, "done")
                await records.event({"type": "site_done", "site": name})
                await records.count({"sites_done": 1, "writes": len(STEPS)})

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(site(i) for i in range(sites)))
        return time.process_time() - cpu, time.perf_counter() - wall


def measure(src: Path, sites: int) -> tuple[float, float]:
    """Run this script on `src` in a fresh process; (CPU ms per site, wall s)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--sites", str(sites), "--child"], env=env,
                          capture_output=True, text=True, check=True)
    cpu, wall = (float(x) for x in done.stdout.split())
    return 1000 * cpu / sites, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--compare-src", type=Path, help="also measure this src (e.g. main's), alternated")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            cpu, wall = asyncio.run(record_sites(f"{tmp}/state.db", args.sites))
        print(cpu, wall)
        return
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"records of {args.sites} new sites in a SQLite state file, {IN_FLIGHT} at a time (load average {load})")
    runs = [("this src", ROOT / "src")] + ([("compare-src", args.compare_src)] if args.compare_src else [])
    for label, src in runs * 2 if args.compare_src else runs:  # alternated twice: the machine's noise is shared
        cpu, wall = measure(src, args.sites)
        print(f"  {label:<12}: {cpu:.2f} ms CPU per site, {wall:.2f} s wall")


if __name__ == "__main__":
    main()
