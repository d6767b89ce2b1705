"""Benchmark of `mistctl import` in-process (twin over ASGI): the Mist calls and seconds an import costs.

    .venv/bin/python bench/bench_import.py [--sites 20 200] [--irregular-pct 10]

For each size an org is built straight through the twin's Mist routes (as in the e2e tests), then
imported; the figures are the calls the import made (lists and pages, one setting GET per site),
the time to read and to build the fleet, the first plan's read calls, and the plan after adoption.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.brownfield import SECRETS, build_org  # noqa: E402
from tests.support.engine import engine  # noqa: E402
from tests.support.twin import twin_app, twin_client  # noqa: E402

from mistctl.domain.fleet_writer import build_fleet  # noqa: E402
from mistctl.domain.parse import parse_fleet  # noqa: E402
from mistctl.store.memory import MemoryStore  # noqa: E402
from mistctl.workflow import deploy  # noqa: E402
from mistctl.workflow.adopt import adopt_unchanged  # noqa: E402
from mistctl.workflow.importer import read_org  # noqa: E402


async def one(sites: int, irregular: int) -> dict[str, float]:
    app = twin_app(seed=1, device_count=sites + 10)
    codes = [d["claim_code"] for d in app.state.twin.devices() if not d.get("claimed")]
    async with twin_client(app) as client:
        await build_org(client, app.state.twin.org_id, codes, sites=sites, irregular=irregular)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        start = time.perf_counter()
        live = await read_org(svc.mist, svc.org_id)
        read_s, calls = time.perf_counter() - start, svc.mist.calls.total
        start = time.perf_counter()
        imported = build_fleet(live)
        fleet = parse_fleet(yaml.safe_dump(imported.fleet, sort_keys=False), env=SECRETS)
        build_s = time.perf_counter() - start
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty(), "the import does not round-trip"
        adopted = await adopt_unchanged(store, planned)
        again = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
    return {"sites": sites, "import_calls": calls, "read_s": read_s, "build_s": build_s,
            "plan_read_calls": planned.plan.read_calls, "adopted": adopted,
            "plan_after_adopt_calls": again.plan.read_calls, "misfits": len(imported.inference.misfits)
            if imported.inference else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--irregular-pct", type=int, default=10)
    args = parser.parse_args()
    print(f"{'sites':>6} {'import calls':>12} {'read s':>7} {'build s':>8} {'misfits':>7} "
          f"{'1st plan reads':>14} {'adopted':>7} {'plan reads after':>16}")
    for n in args.sites:
        r = asyncio.run(one(n, n * args.irregular_pct // 100))
        print(f"{r['sites']:>6} {r['import_calls']:>12} {r['read_s']:>7.2f} {r['build_s']:>8.2f} {r['misfits']:>7} "
              f"{r['plan_read_calls']:>14} {r['adopted']:>7} {r['plan_after_adopt_calls']:>16}")


if __name__ == "__main__":
    main()
