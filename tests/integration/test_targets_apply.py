"""A targeted apply against the in-process twin: a WLAN template that applies to sites by name binds the
targeted (and already live) ones, never a site the run does not create; the whole fleet binds the rest."""

from __future__ import annotations

from mistctl.domain.targets import select
from mistctl.workflow import deploy
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app


async def test_a_targeted_binding_names_only_sites_that_exist() -> None:
    app = twin_app()
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=3)
    names = [s.name for s in fleet.sites]
    templates = [{**t, "applies_to": {"sites": names}} for t in fleet.org.wlan_templates]
    fleet = fleet.model_copy(update={"org": fleet.org.model_copy(update={"wlan_templates": templates})})
    async with engine(app) as svc:
        target = select(fleet, [names[0]], ["site", "wlantemplate"])
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, target=target)
        assert planned.plan.target is not None and not planned.plan.deletes
        run = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run)
        assert result.ok and not result.org_failed, result
        sites = {s["name"]: s["id"] for s in twin.objects("sites")}
        assert list(sites) == [names[0]]
        (wifi,) = twin.objects("templates")
        assert wifi["applies"]["site_ids"] == [sites[names[0]]]
        assert twin.objects("wlans") == []  # not in the target
        _, whole = await apply(svc, fleet)
        assert whole.ok
        sites = {s["name"]: s["id"] for s in twin.objects("sites")}
        (wifi,) = twin.objects("templates")
        assert sorted(wifi["applies"]["site_ids"]) == sorted(sites[n] for n in names)
