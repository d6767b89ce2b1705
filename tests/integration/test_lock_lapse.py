"""A run whose locks lapsed while it planned (longer than the lock lifetime without a renewal: thousands of
sites on a loaded machine, a prompt left open) takes them again before writing if they are free, and
refuses, writing nothing, when another run took one meanwhile. The store's clock is driven by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import typer

from mistctl.cli import deploy_cmds, rollback_cmds
from mistctl.domain import kinds as K
from mistctl.store import StateStore
from mistctl.workflow import deploy
from mistctl.workflow.runlock import LockLost, org_run
from tests.support.engine import example_fleet_for
from tests.support.lock_loss import services_on
from tests.support.twin import FakeClock, twin_app

pytestmark = pytest.mark.timeout(120)
ORG = "org-1"
TTL = 60.0


async def test_locks_that_lapsed_while_free_are_taken_again_before_writing(clocked):
    store, clock = clocked
    async with org_run(store, ORG, "run-1", holder="me", wait=0, sites=["hq", "branch"], ttl=TTL) as lease:
        clock.advance(TTL + 1)  # planning outlasted the lifetime: nothing renewed them
        assert await store.get_lock(f"site:{ORG}:hq") is None
        await lease.ensure(ORG)
        for name in (f"org:{ORG}", f"site:{ORG}:hq", f"site:{ORG}:branch"):
            held = await store.get_lock(name)
            assert held is not None and held.owner == "run-1" and held.holder == "me"
            assert held.expires_at.timestamp() == pytest.approx(clock() + TTL)
        assert lease.lost == []
    assert await store.get_lock(f"site:{ORG}:hq") is None  # released at the end


async def test_a_lapsed_lock_another_run_took_is_refused_and_left_to_it(clocked):
    store, clock = clocked
    async with org_run(store, ORG, "run-1", holder="me", wait=0, sites=["hq", "branch"], ttl=TTL) as lease:
        clock.advance(TTL + 1)
        assert await store.acquire_lock(f"site:{ORG}:hq", "run-2", TTL, holder="bob on ci-3 pid 9")
        with pytest.raises(LockLost) as lost:
            await lease.ensure(ORG)
        assert lost.value.site == "hq" and lost.value.run_id == "run-2"
        assert "bob on ci-3 pid 9" in str(lost.value) and "nothing was written" in str(lost.value)
        assert (await store.get_lock(f"site:{ORG}:hq")).owner == "run-2"  # not stolen back
        assert (await store.get_lock(f"site:{ORG}:branch")).owner == "run-1"  # the free ones taken again
        await lease.beat()  # a later renewal leaves it to run-2 too
        assert (await store.get_lock(f"site:{ORG}:hq")).owner == "run-2"
        assert lease.lost == [f"site:{ORG}:hq"]
    assert (await store.get_lock(f"site:{ORG}:hq")).owner == "run-2"  # our release leaves it alone
    assert await store.get_lock(f"org:{ORG}") is None and await store.get_lock(f"site:{ORG}:branch") is None


def slow_planning(monkeypatch: pytest.MonkeyPatch, clock: FakeClock, store: StateStore,
                  taker: str | None, site: str) -> list[Any]:
    """Planning that outlasts the locks' lifetime; `taker` (a run) takes `site`'s lapsed lock meanwhile.
    Returns who held `site`'s lock when the apply began writing."""
    plan_fleet, apply_planned = deploy.plan_fleet, deploy.apply_planned
    seen: list[Any] = []

    async def planning(*args: Any, **kwargs: Any) -> Any:
        planned = await plan_fleet(*args, **kwargs)
        clock.advance(TTL + 1)
        if taker is not None:
            assert await store.acquire_lock(f"site:{args[3]}:{site}", taker, TTL, holder=f"{taker} elsewhere")
        return planned

    async def applying(mist: Any, store_: StateStore, planned: Any, **kwargs: Any) -> Any:
        seen.append(await store_.get_lock(f"site:{planned.plan.org_id}:{site}"))
        return await apply_planned(mist, store_, planned, **kwargs)

    monkeypatch.setattr(deploy, "plan_fleet", planning)
    monkeypatch.setattr(deploy, "apply_planned", applying)
    return seen


async def test_apply_whose_planning_outlasted_the_locks_takes_them_again_and_applies(clocked, monkeypatch):
    store, clock = clocked
    app = twin_app()
    fleet = example_fleet_for(app.state.twin, sites=2)
    site = fleet.sites[0].name
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(app, store, **kw))
    seen = slow_planning(monkeypatch, clock, store, None, site)
    assert await deploy_cmds._apply(fleet, None, yes=True, concurrency=4, org_id=None, mist_host=None) == 0
    org_id = app.state.twin.org_id
    assert [info.owner if info else None for info in seen] == [(await store.list_runs())[0].id]
    assert sorted(s["name"] for s in app.state.twin.objects(K.SITES.key)) == sorted(s.name for s in fleet.sites)
    assert await store.get_lock(f"site:{org_id}:{site}") is None


async def test_apply_whose_lapsed_site_lock_another_run_took_writes_nothing(clocked, monkeypatch, capsys):
    store, clock = clocked
    app = twin_app()
    fleet = example_fleet_for(app.state.twin, sites=2)
    site = fleet.sites[1].name
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(app, store, **kw))
    seen = slow_planning(monkeypatch, clock, store, "run-other", site)
    with pytest.raises(typer.Exit) as exited:
        await deploy_cmds._apply(fleet, None, yes=True, concurrency=4, org_id=None, mist_host=None)
    assert exited.value.exit_code == 1
    err = capsys.readouterr().err
    assert f"the lock of site '{site}'" in err and "run-other" in err and "nothing was written" in err
    assert seen == []  # the apply never began
    by_route = app.state.twin.counters.by_route
    assert by_route and [r for r in by_route if not r.startswith("GET ")] == []  # it read; it wrote nothing
    assert await store.list_runs() == []  # no run recorded
    org_id = app.state.twin.org_id
    assert (await store.get_lock(f"site:{org_id}:{site}")).owner == "run-other"
    assert await store.get_lock(f"org:{org_id}") is None


async def test_a_cli_rollback_whose_lapsed_org_lock_another_run_took_writes_nothing(clocked, monkeypatch, capsys):
    store, clock = clocked
    app = twin_app()
    fleet = example_fleet_for(app.state.twin, sites=2)
    monkeypatch.setattr(deploy_cmds, "open_services", lambda **kw: services_on(app, store, **kw))
    assert await deploy_cmds._apply(fleet, None, yes=True, concurrency=4, org_id=None, mist_host=None) == 0
    (applied,) = await store.list_runs()

    @asynccontextmanager
    async def same_store() -> AsyncIterator[StateStore]:
        yield store

    plan_rollback = rollback_cmds.plan_rollback

    async def slow_plan(*args: Any, **kwargs: Any) -> Any:
        plan = await plan_rollback(*args, **kwargs)
        clock.advance(TTL + 1)
        assert await store.acquire_lock(f"org:{app.state.twin.org_id}", "run-other", TTL, holder="bob elsewhere")
        return plan

    monkeypatch.setattr(rollback_cmds, "open_services", lambda **kw: services_on(app, store))
    monkeypatch.setattr(rollback_cmds, "open_store_from_env", same_store)
    monkeypatch.setattr(rollback_cmds, "plan_rollback", slow_plan)
    writes = {r: n for r, n in app.state.twin.counters.by_route.items() if not r.startswith("GET ")}
    with pytest.raises(typer.Exit) as exited:
        await rollback_cmds._rollback(applied.id, yes=True, force=False, dry_run=False, as_json=False,
                                      mist_host=None, wait=0)
    assert exited.value.exit_code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"the lock of org {app.state.twin.org_id}" in err and "run-other" in err and "nothing was written" in err
    assert {r: n for r, n in app.state.twin.counters.by_route.items() if not r.startswith("GET ")} == writes
    assert [r.id for r in await store.list_runs()] == [applied.id]  # no rollback run recorded
