"""Benchmark of drift's objects added by hand, in-process (twin + memory store): calls to find and to remove them.

    .venv/bin/python bench/bench_drift_handmade.py [--per-kind 5] [--latency-ms 0]

The example fleet is applied; then, through the Mist API, N WLANs and N WLAN policies are added to its
managed WLAN template and N sites are put in its managed site group. Figures: the drift read calls (with
and without them: listing them costs nothing more), the removals found, and the writes `drift --fix
--allow-delete` makes per route and per removal.
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
from mistctl.workflow.delete import DeleteConsent  # noqa: E402
from mistctl.workflow.drift import detect_drift, fix_drift  # noqa: E402

NO_TAGS: dict[str, list[str]] = {"src_wxtags": [], "dst_allow_wxtags": [], "dst_deny_wxtags": []}


async def run(per_kind: int, latency_ms: float) -> None:
    app = twin_app(latency_ms=latency_ms)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=3)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        clean = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
        wifi = next(t["id"] for t in twin.objects("templates") if t["name"] == "store-wifi")
        group = next(g["id"] for g in twin.objects("sitegroups") if g["name"] == "retail-stores")
        for i in range(per_kind):
            await svc.mist.create_org(svc.org_id, "wlans", {"ssid": f"Hand-{i}", "template_id": wifi})
            await svc.mist.create_org(svc.org_id, "wxrules", {"order": 50 + i, "template_id": wifi,
                                                              "action": "allow", **NO_TAGS})
            await svc.mist.create_org(svc.org_id, "sites", {"name": f"Hand-Site-{i}", "sitegroup_ids": [group]})
        report = await detect_drift(svc.mist, svc.store, fleet, svc.org_id)
        before = Counter(twin.counters.snapshot()["by_route"])
        start = time.perf_counter()
        result = await fix_drift(svc.mist, svc.store, report, ledger=svc.ledger,
                                 consent=DeleteConsent(allow_delete=True))
        took = time.perf_counter() - start
    spent = Counter(twin.counters.snapshot()["by_route"]) - before
    writes = {route: n for route, n in sorted(spent.items()) if not route.startswith("GET")}
    removals = report.planned.plan.deletes
    print(f"drift read calls: {clean.read_calls} untouched, {report.read_calls} with {len(removals)} added by hand")
    print(f"removals found: {len(removals)} ({dict(Counter(c.kind for c in removals))}); "
          f"estimated write calls: {report.planned.plan.estimated_calls}")
    print(f"removed: {len(result.deletes.deleted)}; writes made: {sum(writes.values())} ({writes})")
    print(f"calls per removal: {sum(writes.values()) / max(len(result.deletes.deleted), 1):.2f}; "
          f"seconds: {took:.2f} at {latency_ms:g} ms per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=5, help="objects added by hand of each kind")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the twin's latency per call")
    args = parser.parse_args()
    asyncio.run(run(args.per_kind, args.latency_ms))


if __name__ == "__main__":
    main()
