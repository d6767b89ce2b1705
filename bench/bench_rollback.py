"""Benchmark of `mistctl rollback` in-process (twin + a SQLite store): Mist calls and seconds to undo a run.

    .venv/bin/python bench/bench_rollback.py [--sites 50] [--latency-ms 0]

The example fleet's org is applied with a few stores; then a run adds `--sites` new stores (no devices),
a WLAN, and changes the RF template; that run is rolled back. Figures: the before-images the run wrote,
the rollback's reads and writes per route, and the seconds taken by the run and by its rollback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import apply, engine, example_fleet_for  # noqa: E402
from tests.support.twin import twin_app  # noqa: E402

from mistctl.domain.fleet import Site  # noqa: E402
from mistctl.store.models import new_run_id  # noqa: E402
from mistctl.store.sqlite import SqliteStore  # noqa: E402
from mistctl.workflow.rollback import apply_rollback, plan_rollback, rollback_run  # noqa: E402


async def run(sites: int, latency_ms: float) -> None:
    app = twin_app(latency_ms=latency_ms)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=3)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        async with engine(app, store=store) as svc:
            await apply(svc, fleet)
            staff = {"ssid": "Store-Staff", "template": "store-wifi", "auth": {"type": "open"}}
            org = fleet.org.model_copy(update={
                "wlans": [*fleet.org.wlans, staff],
                "rf_templates": [{**fleet.org.rf_templates[0], "band_5": {"bandwidth": 40, "power_max": 15}}],
            })
            new = [Site(name=f"Bench-{n:04d}", zone=2, number=100 + n) for n in range(sites)]
            bigger = fleet.model_copy(update={"org": org, "sites": [*fleet.sites, *new]})
            start = time.perf_counter()
            planned, _result = await apply(svc, bigger)
            applied = time.perf_counter() - start
            runs = await store.list_runs(limit=1)
            images = await store.get_run_images(runs[0].id)
            before = Counter(twin.counters.snapshot()["by_route"])
            start = time.perf_counter()
            plan = await plan_rollback(svc.mist, store, runs[0].id)
            run_ = await store.create_run(rollback_run(plan, actor="bench", run_id=new_run_id()))
            result = await apply_rollback(svc.mist, store, plan, run=run_, ledger=svc.ledger)
            rolled = time.perf_counter() - start
        await store.close()
    spent = Counter(twin.counters.snapshot()["by_route"]) - before
    writes = {route: n for route, n in sorted(spent.items()) if not route.startswith("GET")}
    print(f"run: {len(planned.plan.changes)} changes, {len(images)} before-images written; {applied:.2f} s")
    print(f"rollback plan: {plan.summary()}")
    print(f"rollback reads: {sum(n for r, n in spent.items() if r.startswith('GET'))}; "
          f"writes: {sum(writes.values())} ({writes})")
    print(f"undone: {len(result.made)}, failed: {len(result.failed)}; seconds: {rolled:.2f} at {latency_ms:g} ms "
          "per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(run(args.sites, args.latency_ms))


if __name__ == "__main__":
    main()
