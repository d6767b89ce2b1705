"""The 13-step workflow end to end against the twin in-process: state checked object by object."""

from __future__ import annotations

import pytest

from mistctl.domain.plan import Plan
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import apply, assert_twin_matches, engine, example_fleet_for
from tests.support.twin import twin_app


async def test_apply_provisions_every_object_exactly_once() -> None:
    app = twin_app(seed=7)
    fleet = example_fleet_for(app.state.twin)
    async with engine(app) as svc:
        planned, result = await apply(svc, fleet)
        assert result.ok, (result.sites_failed, result.org_failed)
        assert sorted(result.sites_done) == sorted(s.name for s in fleet.sites)
        assert planned.plan.summary()["create"] > 0
        # a new site costs at most 3 calls (create with bindings, variables, assign)
        assert max(svc.ledger.by_site[s.name] for s in fleet.sites) <= 3
        runs = await svc.store.list_runs()
        counts = runs[0].counts
        assert runs[0].status == "completed"
        assert counts["sites_done"] == len(fleet.sites) and counts.get("sites_failed", 0) == 0
        assert counts["writes"] == result.writes and counts["calls"] == svc.ledger.total
        states = await svc.store.list_site_states(limit=1000)
        assert {s.name for s in states if s.status == "done"} == {s.name for s in fleet.sites}
    assert_twin_matches(app.state.twin, fleet)


async def test_plan_after_apply_is_empty_and_reapply_writes_nothing() -> None:
    app = twin_app(seed=8)
    fleet = example_fleet_for(app.state.twin)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
    async with engine(app, store=store) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty(), [c.to_json() for c in planned.plan.changes if c.writes]
        assert svc.ledger.total == planned.plan.read_calls
        # one list per kind (each fits one page) plus the inventory: nothing per site; plus the one
        # GET /self a process makes to learn whose budget its token draws on
        assert planned.plan.read_calls <= 15
        writes = [k for k in svc.mist.calls.by_method if k != "GET"]
        assert writes == []


async def test_one_changed_variable_gives_exactly_one_update() -> None:
    app = twin_app(seed=9)
    fleet = example_fleet_for(app.state.twin, sites=4)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
    site = fleet.sites[2]
    changed = site.model_copy(update={"vars": {**site.vars, "store_manager": "Ada"}})
    fleet2 = fleet.model_copy(update={"sites": [*fleet.sites[:2], changed, *fleet.sites[3:]]})
    async with engine(app, store=store) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet2, svc.org_id)
        writes = [c for c in planned.plan.changes if c.writes]
        assert [(c.kind, c.key, c.action) for c in writes] == [("site_vars", site.name, "update")]
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger,
                                            run=await svc.new_run("apply", planned.plan))
        assert result.ok and result.writes == 1
    assert_twin_matches(app.state.twin, fleet2)


async def test_unrecorded_sites_are_read_not_rewritten() -> None:
    """With a fresh state store, existing sites' variables are read (one GET each), and match."""
    app = twin_app(seed=10)
    fleet = example_fleet_for(app.state.twin, sites=3)
    async with engine(app) as svc:
        await apply(svc, fleet)
    async with engine(app, store=MemoryStore()) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty()


async def test_conflicting_names_in_the_live_org_refuse_the_plan() -> None:
    app = twin_app(seed=11)
    fleet = example_fleet_for(app.state.twin, sites=1)
    async with engine(app) as svc:
        for _ in range(2):
            await svc.mist.create_org(svc.org_id, "sitegroups", {"name": "retail-stores"})
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert any(p.kind == "site_groups" and p.key == "retail-stores" for p in planned.plan.fatal_problems)
        with pytest.raises(deploy.PlanRefused, match="retail-stores"):
            deploy.check_problems(planned.plan)
    assert len(app.state.twin.objects("sites")) == 0


async def test_saved_plan_is_refused_when_the_org_changed() -> None:
    app = twin_app(seed=12)
    fleet = example_fleet_for(app.state.twin, sites=2)
    async with engine(app) as svc:
        saved = (await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)).plan.to_json()
        await svc.mist.create_org(svc.org_id, "sitegroups", {"name": "someone-else"})
        fresh = (await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)).plan
        with pytest.raises(deploy.PlanRefused, match="live org changed"):
            deploy.check_saved(saved, fresh)
        deploy.check_saved(fresh.to_json(), fresh)


def test_saved_plan_json_has_no_passphrase() -> None:
    from mistctl.domain.plan import Change

    body = {"name": "iot", "passphrase": "s3cr3t-pass"}
    plan = Plan("org", "h", "f", [Change("create", 13, "psks", "iot", body=body)])
    assert "s3cr3t-pass" not in str(plan.to_json())
