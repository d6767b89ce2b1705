"""The memory store copies records in and out: a run's plan (kept as JSON text) and a site's IP plan (one copy
kept for the sites that carry the same plan) are not changed by what a caller does with its own dicts."""

from __future__ import annotations

from mistctl.store.memory import MemoryStore
from mistctl.store.models import Run, SiteState


async def test_a_runs_plan_is_copied_in_and_out() -> None:
    store = MemoryStore()
    plan = {"changes": [{"kind": "sites", "key": "S1", "body": {"latlng": {"lat": 1.5, "lng": -2.0}}}], "n": 1}
    run = await store.create_run(Run(kind="apply", org_id="org", plan=plan))
    run.plan["changes"][0]["key"] = "changed by the caller"
    got = await store.get_run(run.id)
    assert got is not None and got.plan == plan
    got.plan["n"] = 99
    again = await store.get_run(run.id)
    assert again is not None and again.plan["n"] == 1
    assert (await store.get_run(run.id, include_plan=False)).plan == {}  # type: ignore[union-attr]
    await store.update_run(run.id, plan={"n": 2})
    assert (await store.get_run(run.id)).plan == {"n": 2}  # type: ignore[union-attr]
    assert [r.plan for r in await store.list_runs(include_plan=True)] == [{"n": 2}]


async def test_site_ip_plans_are_copied_with_their_own_types() -> None:
    store = MemoryStore()
    ip_plan = {"zones": [{"name": "z1", "cidr": "10.1.0.0/16", "prefix": 24}], "flag": 1}
    for name in ("S1", "S2"):
        await store.put_site_state(SiteState(org_id="org", name=name, zone="1", number=1, ip_plan=ip_plan))
    ip_plan["zones"][0]["name"] = "changed by the caller"
    equal_but_typed = {"zones": [{"name": "z1", "cidr": "10.1.0.0/16", "prefix": 24.0}], "flag": True}
    await store.put_site_state(SiteState(org_id="org", name="S3", zone="1", number=1, ip_plan=equal_but_typed))
    states = {s.name: s for s in await store.list_site_states("org")}
    assert states["S1"].ip_plan == states["S2"].ip_plan == {
        "zones": [{"name": "z1", "cidr": "10.1.0.0/16", "prefix": 24}], "flag": 1}
    assert type(states["S1"].ip_plan["flag"]) is int  # type: ignore[index]
    got = states["S3"].ip_plan
    assert got is not None and got["flag"] is True and type(got["zones"][0]["prefix"]) is float
    states["S1"].ip_plan["flag"] = 5  # type: ignore[index]
    assert (await store.get_site_state("org", "S2")).ip_plan["flag"] == 1  # type: ignore[union-attr,index]
