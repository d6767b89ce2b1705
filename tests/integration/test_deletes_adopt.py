"""mistctl manages what it created or adopted: an object found already as the fleet wants it is adopted."""

from __future__ import annotations

from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from mistctl.workflow.delete import DeleteConsent
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app


async def test_an_unchanged_object_is_adopted_then_deleted_once_the_fleet_drops_it() -> None:
    app = twin_app()
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=2)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        label_id = (await store.get_objects(svc.org_id, "labels"))["scanners"].mist_id
        assert await store.delete_object(svc.org_id, "labels", "scanners")  # as if it predated mistctl
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty()
        run = await svc.new_run("apply", planned.plan)
        await deploy.apply_planned(svc.mist, store, planned, ledger=svc.ledger, run=run)
        assert (await store.get_objects(svc.org_id, "labels"))["scanners"].mist_id == label_id  # adopted

        org = fleet.org.model_copy(update={
            "labels": [lb for lb in fleet.org.labels if lb["name"] != "scanners"],
            "wlan_policies": [], "psks": [p for p in fleet.org.psks if "role" not in p],
        })
        smaller = fleet.model_copy(update={"org": org})
        planned = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id)
        assert ("labels", "scanners") in {(c.kind, c.key) for c in planned.plan.deletes}
        run = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, store, planned, ledger=svc.ledger, run=run,
                                            consent=DeleteConsent(allow_delete=True))
        assert result.ok and "labels scanners" in result.deletes.deleted
    assert label_id not in {o["id"] for o in twin.objects("wxtags")}
    assert twin.objects("wxrules") == []  # the policies went with it, before it


async def test_a_delete_made_but_not_recorded_is_forgotten_and_the_site_decommissioned() -> None:
    app = twin_app()
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=2)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        gone = fleet.sites[1].name
        site_id = (await store.get_objects(svc.org_id, "sites"))[gone].mist_id
        await svc.mist.delete_site(site_id)  # as if a run was killed between its DELETE and its record
        smaller = fleet.model_copy(update={"sites": fleet.sites[:1]})
        planned = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id)
        assert planned.plan.deletes == [] and planned.plan.gone == [("sites", gone, site_id)]
        run = await svc.new_run("apply", planned.plan)
        await deploy.apply_planned(svc.mist, store, planned, ledger=svc.ledger, run=run)
        assert gone not in await store.get_objects(svc.org_id, "sites")
        state = await store.get_site_state(svc.org_id, gone)
        assert state is not None and state.status == "decommissioned" and state.site_id == site_id
        step = await store.get_step(svc.org_id, gone, 1, "delete:sites", gone)
        assert step is not None and step.status == "done"


async def test_unclaim_takes_a_removed_sites_devices_out_of_the_org_inventory() -> None:
    app = twin_app()
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=2, claim_per_site=2)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await apply(svc, fleet)
        gone = fleet.sites[1]
        codes = {d.claim_code for d in gone.devices}
        smaller = fleet.model_copy(update={"sites": fleet.sites[:1]})
        planned = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id)
        [site] = planned.plan.deletes
        assert len(site.body["devices"]) == 2 and len(site.body["serials"]) == 2 and site.calls == 2
        run = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, store, planned, ledger=svc.ledger, run=run,
                                            consent=DeleteConsent(True, release_devices=True, unclaim=True))
        assert result.ok and len(result.deletes.unclaimed) == 2 and result.deletes.released == []
    assert codes.isdisjoint(d.get("magic") for d in twin.inventory())  # out of the org inventory
    pool = {d["claim_code"]: d for d in twin.devices()}
    assert all(not pool[c].get("claimed") for c in codes)  # claimable again
    assert gone.name not in {s["name"] for s in twin.objects("sites")}
