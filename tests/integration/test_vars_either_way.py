"""mistctl is right whether Mist replaces or merges a site's `vars` on PUT /sites/{id}/setting.

It always sends the complete map it wants and compares whole maps, so every wanted variable ends right
under either answer. A variable someone else added survives a merging Mist: the plan keeps reporting
it (never hides it), which `mistctl conformance` explains.
"""

from __future__ import annotations

import pytest

from mist_twin.quirks import Quirks
from mistctl.workflow import deploy
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app


@pytest.mark.parametrize("merge", [False, True], ids=["replace", "merge"])
async def test_wanted_variables_end_right_under_replace_and_merge(merge: bool) -> None:
    app = twin_app(seed=21, quirks=Quirks(vars_merge=merge))
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    async with engine(app) as svc:
        await apply(svc, fleet)
        site = twin.objects("sites")[0]
        wanted = dict(next(s for s in twin.objects("site_settings") if s["site_id"] == site["id"])["vars"])
        tampered = {**dict.fromkeys(wanted, "tampered"), "stray": "x"}
        await svc.mist.update_site_setting(site["id"], {"vars": tampered})
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, refresh_vars=True)
        fix = [c for c in planned.plan.changes if c.kind == "site_vars"]
        assert [c.action for c in fix] == ["update"] and fix[0].body == {"vars": wanted}, "the complete map"
        assert set(fix[0].diff) == {*wanted, "stray"}, "the whole map is compared"
        run = await svc.new_run("apply", planned.plan)
        await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run)
        after = next(s for s in twin.objects("site_settings") if s["site_id"] == site["id"])["vars"]
        again = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, refresh_vars=True)
    assert wanted and {k: after[k] for k in wanted} == wanted
    left = [c for c in again.plan.changes if c.kind == "site_vars" and c.writes]
    if merge:
        assert after.get("stray") == "x" and [set(c.diff) for c in left] == [{"stray"}]
    else:
        assert after == wanted and left == []
