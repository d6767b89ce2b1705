"""The fleet converges to exactly the intended state through 5xx answers, dropped answers and 429 storms."""

from __future__ import annotations

from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


async def _converge(app, fleet, *, rounds: int = 4, **settings):
    """Apply until the plan is empty (a real operator re-runs; the engine resumes)."""
    store = MemoryStore()
    for _ in range(rounds):
        async with engine(app, store=store, **settings) as svc:
            _planned, result = await apply(svc, fleet)
            if result.ok:
                break
    app.state.twin.knobs.fault_rate = 0.0
    app.state.twin.knobs.drop_rate = 0.0
    async with engine(app, store=store) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
    return planned.plan


async def test_server_errors_and_dropped_answers_converge_without_duplicates() -> None:
    app = twin_app(seed=21, fault_rate=0.15, drop_rate=0.15)
    fleet = example_fleet_for(app.state.twin)
    plan = await _converge(app, fleet, mist_max_attempts=6)
    assert plan.is_empty(), [c.to_json() for c in plan.changes if c.writes]
    assert_twin_matches(app.state.twin, fleet)
    counters = app.state.twin.counters.snapshot()
    assert sum(counters["by_status"].get(s, 0) for s in ("500", "502", "503")) > 0
    assert counters["dropped"] > 0  # writes performed whose answers were lost, resolved by look-up


async def test_a_429_storm_is_waited_out_and_the_fleet_converges() -> None:
    app = twin_app(seed=22, rate_limit=25, rate_window=1.0)
    fleet = example_fleet_for(app.state.twin, sites=8)
    plan = await _converge(app, fleet, rounds=2, mist_rate_limit=5000)
    assert plan.is_empty()
    assert app.state.twin.counters.snapshot()["rate_limited"] > 0  # the storm happened
    assert_twin_matches(app.state.twin, fleet)
