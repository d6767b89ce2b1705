"""Benchmark of deletes in-process (twin + memory store): prints Mist calls per delete and the seconds taken.

    .venv/bin/python bench/bench_deletes.py [--latency-ms 0] [--devices 2]

The example fleet is applied, then a fleet without one WLAN, one WLAN policy, one label, one RF template
no site uses and one store (with its devices) is planned and applied with --allow-delete and
--release-devices. Figures: the plan's estimate, the writes made per route, the reads, the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import apply, engine, example_fleet_for  # noqa: E402
from tests.support.twin import twin_app  # noqa: E402

from mistctl.store.memory import MemoryStore  # noqa: E402
from mistctl.workflow import deploy  # noqa: E402
from mistctl.workflow.delete import DeleteConsent  # noqa: E402


async def run(latency_ms: float, devices: int) -> None:
    app = twin_app(latency_ms=latency_ms)
    twin = app.state.twin
    fleet = example_fleet_for(twin, claim_per_site=devices)
    org = fleet.org.model_copy(update={"rf_templates": [*fleet.org.rf_templates, {"name": "spare-rf"}]})
    fleet = fleet.model_copy(update={"org": org})
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        smaller_org = org.model_copy(update={
            "wlans": [w for w in org.wlans if w["ssid"] != "Store-Guest"],
            "wlan_policies": [p for p in org.wlan_policies if p["order"] != 2],
            "labels": [lb for lb in org.labels if lb["name"] != "store-internal"],
            "rf_templates": [t for t in org.rf_templates if t["name"] != "spare-rf"],
        })
        smaller = fleet.model_copy(update={"org": smaller_org, "sites": fleet.sites[1:]})
        before = Counter(twin.counters.snapshot()["by_route"])
        start = time.perf_counter()
        planned = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id)
        run_ = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, store, planned, ledger=svc.ledger, run=run_,
                                            consent=DeleteConsent(allow_delete=True, release_devices=True))
        took = time.perf_counter() - start
    spent = Counter(twin.counters.snapshot()["by_route"]) - before
    writes = {route: n for route, n in sorted(spent.items()) if not route.startswith("GET")}
    print(f"deletes planned: {len(planned.plan.deletes)}, estimated write calls: {planned.plan.estimated_calls}")
    for change in planned.plan.deletes:
        print(f"  {change.kind:<14} {change.key:<24} {change.calls} call(s)")
    print(f"deleted: {len(result.deletes.deleted)}; devices released: {len(result.deletes.released)}")
    print(f"writes made: {sum(writes.values())} ({writes})")
    print(f"reads (the plan): {sum(n for r, n in spent.items() if r.startswith('GET'))}; "
          f"seconds: {took:.2f} at {latency_ms:g} ms per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--devices", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.latency_ms, args.devices))


if __name__ == "__main__":
    main()
