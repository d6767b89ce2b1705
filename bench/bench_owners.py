"""Benchmark of owner checks in a plan (twin in-process, SQLite state file): what they cost a plan.

    .venv/bin/python bench/bench_owners.py [--sites 200] [--repeat 5]

The example fleet's org objects with N plan-less sites are applied as `fleet:bench`, then one template is
changed and planned as another owner (the conflict) and as the same owner, each `--repeat` times.
Figures: Mist reads per plan (owners add none), seconds per plan with and without owner checks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import engine, example_fleet_for  # noqa: E402
from tests.support.twin import twin_app  # noqa: E402

from mistctl.domain.fleet import Fleet  # noqa: E402
from mistctl.domain.owners import Ownership, fleet_ownership  # noqa: E402
from mistctl.store.sqlite import SqliteStore  # noqa: E402
from mistctl.workflow import deploy  # noqa: E402


def _fleet(twin: object, sites: int) -> Fleet:
    fleet = example_fleet_for(twin, sites=1, claim_per_site=0)
    base = fleet.sites[0]
    many = [base.model_copy(update={"name": f"Bench-{n:05d}", "number": n, "devices": []})
            for n in range(1, sites + 1)]
    return fleet.model_copy(update={"sites": many})


def _changed(fleet: Fleet) -> Fleet:
    templates = [dict(t) for t in fleet.org.switch_templates]
    usages = {**templates[0]["port_usages"], "pos": {"mode": "access", "description": "bench tills"}}
    templates[0] = {**templates[0], "port_usages": usages}
    return fleet.model_copy(update={"org": fleet.org.model_copy(update={"switch_templates": templates})})


async def _time(svc: object, fleet: Fleet, ownership: Ownership | None, repeat: int) -> tuple[float, int, int]:
    took, reads, conflicts = 0.0, 0, 0
    for _ in range(repeat):
        before = svc.mist.calls.total  # type: ignore[attr-defined]
        start = time.perf_counter()
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id,  # type: ignore[attr-defined]
                                          ownership=ownership)
        took += time.perf_counter() - start
        reads = svc.mist.calls.total - before  # type: ignore[attr-defined]
        conflicts = len(planned.plan.fatal_problems)
    return took / repeat, reads, conflicts


async def run(sites: int, repeat: int) -> None:
    app = twin_app()
    fleet = _fleet(app.state.twin, sites)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        async with engine(app, store=store) as svc:
            planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id,
                                              ownership=fleet_ownership("bench"))
            run_ = await svc.new_run("apply", planned.plan)
            await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run_)
            other = _changed(fleet)
            rows = [("no owner checks", None), ("same owner", fleet_ownership("bench")),
                    ("another owner (conflict)", fleet_ownership("other"))]
            print(f"{sites} sites, example org objects, SQLite state; mean of {repeat} plans")
            for label, ownership in [*rows, rows[0]]:  # the first again: warm-up shows as a difference
                seconds, reads, conflicts = await _time(svc, other, ownership, repeat)
                print(f"  {label:<26} {seconds * 1000:8.1f} ms per plan, {reads} Mist reads, {conflicts} conflict(s)")
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.sites, args.repeat))


if __name__ == "__main__":
    main()
