"""The device steps of an apply against the twin in-process (fast): refused claims and assigns, names."""

from __future__ import annotations

from mistctl.domain.fleet import DeviceRef
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app

UNKNOWN = "NOSUCHCODE12345"


async def test_a_refused_claim_fails_its_site_by_code_and_reason_and_the_rest_is_placed() -> None:
    app = twin_app(seed=31, device_count=10)
    twin = app.state.twin
    base = example_fleet_for(twin, sites=1)
    good = twin.devices()[0]
    site = base.sites[0].model_copy(update={"devices": [
        DeviceRef(claim_code=good["claim_code"].lower(), name="gw-1"), DeviceRef(claim_code=UNKNOWN, name="x")]})
    fleet = base.model_copy(update={"sites": [site]})
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        _planned, result = await apply(svc, fleet)
    step, error = result.sites_failed[site.name]
    assert step == 2 and f"claim code {UNKNOWN} was not claimed: {UNKNOWN}: invalid claim code" in error
    site_id = next(s["id"] for s in twin.objects("sites") if s["name"] == site.name)
    placed = next(d for d in twin.inventory() if d["mac"] == good["mac"])
    assert (placed["site_id"], placed["name"]) == (site_id, "gw-1"), "the site's other device went ahead"
    async with engine(app, store=store) as svc:
        again = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
    assert [c.body["claim_codes"] for c in again.plan.changes if c.kind == "claims"] == [[UNKNOWN]]
    names = next(c for c in again.plan.changes if c.kind == "device_names")
    assert names.body["names"] == {f"claim:{UNKNOWN}": "x"}, "gw-1 is named; only the unclaimed one is left"


async def test_a_new_site_with_named_devices_costs_one_list_and_one_put_per_name() -> None:
    app = twin_app(seed=32, device_count=10)
    twin = app.state.twin
    base = example_fleet_for(twin, sites=1)
    codes = [d["claim_code"] for d in twin.devices()[:3]]
    site = base.sites[0].model_copy(update={"devices": [
        DeviceRef(claim_code=codes[0], name="a"), DeviceRef(claim_code=codes[1], name="b"),
        DeviceRef(claim_code=codes[2])]})
    fleet = base.model_copy(update={"sites": [site]})
    async with engine(app) as svc:
        planned, result = await apply(svc, fleet)
        assert result.ok, result.sites_failed
        assert planned.plan.by_kind()["device_names"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}
        # create the site, its variables, assign, list its devices (ids of devices claimed this run), 2 names
        assert svc.ledger.by_site[site.name] == 6
    assert sorted(d["name"] for d in twin.inventory()) == ["", "a", "b"]
