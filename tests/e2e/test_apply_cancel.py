"""Cancelling an in-process apply: the sites not started are left alone, the run ends `cancelled`, a re-run
finishes the job."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy, records
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


async def test_a_cancelled_run_stops_starting_sites_and_a_rerun_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "CANCEL_POLL_S", 0.0)
    app = twin_app(seed=41, latency_ms=20)
    fleet = example_fleet_for(app.state.twin)
    store = MemoryStore()
    async with engine(app, store=store, concurrency=2) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        run = await svc.new_run("apply", planned.plan)
        pending: list[asyncio.Task[Any]] = []

        def progress(event: dict[str, Any]) -> None:
            if event["type"] == "site_done" and not pending:
                pending.append(asyncio.get_running_loop().create_task(store.request_cancel(run.id)))

        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                            concurrency=2, progress=progress)
        await asyncio.gather(*pending)
        assert result.cancelled and not result.ok
        assert 1 <= len(result.sites_done) < len(fleet.sites)
        recorded = await store.get_run(run.id)
        assert recorded is not None and recorded.status == "cancelled"
        assert len(app.state.twin.objects("sites")) == len(result.sites_done)
    async with engine(app, store=store) as svc:
        _planned, again = await apply(svc, fleet)
        assert again.ok
    assert_twin_matches(app.state.twin, fleet)
