"""Benchmark: a canary AP rollout over the example fleet's 20 sites (5 devices each from the twin's pool)
on the in-process twin, on a simulated clock.

Prints the Mist calls a rollout costs (by kind), its upgrade POSTs, and its simulated length with a
10-minute soak and 2-minute upgrades; then the same for a degrading version (halt after the canary,
which is rolled back).

    .venv/bin/python bench/bench_rollout.py
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.engine import apply, engine, example_fleet_for  # noqa: E402
from tests.support.twin import FakeClock, twin_app  # noqa: E402

from mistctl.store.memory import MemoryStore  # noqa: E402
from mistctl.workflow.rollout import RolloutOptions, run_rollout  # noqa: E402
from mistctl.workflow.rollout_io import Polling  # noqa: E402

GOOD, BAD = "0.14.29850", "0.15.30108"


async def rollout(version: str, degrade: bool) -> dict[str, Any]:
    """One rollout of `version` to the example fleet's APs; its figures."""
    clock = FakeClock()
    app = twin_app(clock=clock, upgrade_seconds=120)
    fleet = example_fleet_for(app.state.twin, claim_per_site=5)  # 20 sites, 100 devices of the twin's pool
    async with engine(app, store=MemoryStore()) as svc:
        _planned, result = await apply(svc, fleet)
        assert result.ok
        if degrade:
            app.state.twin.store.put("firmware_marks", version, {"version": version, "effect": "degrade",
                                                                 "sle_drop": 0.3, "models": [], "tag": "beta"})
        counters = app.state.twin.counters
        counters.reset()
        start = clock.now

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)

        opts = RolloutOptions(version=version, device_type="ap", soak=600, polling=Polling(5, 60, 1800))
        report = await run_rollout(svc.mist, svc.store, svc.org_id, [s.name for s in fleet.sites], opts,
                                   ledger=svc.ledger, sleep=sleep)
        routes = counters.snapshot()["by_route"]
        waves = [len(w.targets) for w in report.waves]
        return {"status": report.status, "devices": len(report.devices), "waves": waves,
                "calls": counters.snapshot()["total"],
                "upgrade_posts": sum(n for r, n in routes.items() if r.startswith("POST") and "upgrade" in r),
                "minutes": round((clock.now - start) / 60), "rolled_back": report.count("rolled-back")}


async def main() -> None:
    """Run both rollouts and print their figures."""
    for label, version, degrade in (("good version", GOOD, False), ("degrading version", BAD, True)):
        f = await rollout(version, degrade)
        sys.stdout.write(f"{label}: {f['status']}, {f['devices']} APs, waves {f['waves']}, {f['calls']} calls "
                         f"({f['upgrade_posts']} upgrade POSTs), {f['minutes']} simulated minutes, "
                         f"{f['rolled_back']} rolled back\n")


if __name__ == "__main__":
    asyncio.run(main())
