"""Owners in the engine, against the twin in-process: claims of unowned records, deletes of one's own only,
adoption that leaves another owner's objects alone."""

from __future__ import annotations

from typing import Any

from mistctl.domain.fleet import Fleet
from mistctl.domain.owners import Ownership, fleet_ownership
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from mistctl.workflow.adopt import adopt_unchanged
from mistctl.workflow.delete import DeleteConsent
from tests.support.engine import engine, example_fleet_for
from tests.support.twin import twin_app

A, B = fleet_ownership("branch-a"), fleet_ownership("branch-b")


def _with_desk(fleet: Fleet, text: str) -> Fleet:
    templates = [dict(t) for t in fleet.org.switch_templates]
    usages = {**templates[0]["port_usages"], "desk": {**templates[0]["port_usages"]["desk"], "description": text}}
    templates[0] = {**templates[0], "port_usages": usages}
    return fleet.model_copy(update={"org": fleet.org.model_copy(update={"switch_templates": templates})})


async def _apply(svc: Any, fleet: Fleet, ownership: Ownership | None, **consent: bool) -> deploy.Planned:
    planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, ownership=ownership)
    deploy.check_problems(planned.plan)
    run = await svc.new_run("apply", planned.plan)
    result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                        consent=DeleteConsent(**consent))
    assert result.ok, result
    return planned


async def test_a_record_without_an_owner_is_claimed_by_the_first_run_that_changes_it_and_the_plan_says_so() -> None:
    app = twin_app()
    fleet = example_fleet_for(app.state.twin, sites=1)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await _apply(svc, fleet, None)  # as an older mistctl did: no owner recorded
        assert {ref.owner for ref in (await store.get_objects(svc.org_id, "switch_templates")).values()} == {None}
        planned = await _apply(svc, _with_desk(fleet, "claimed desks"), B)
        notes = [(p.key, p.fatal, p.message) for p in planned.plan.problems]
        assert notes == [("store-access", False, "switch template store-access has no recorded owner (an older "
                          "mistctl recorded it): this run claims it for fleet 'branch-b'")]
        refs = await store.get_objects(svc.org_id, "switch_templates")
        assert refs["store-access"].owner == "fleet:branch-b"
        assert (await store.get_objects(svc.org_id, "wlan_templates"))["store-wifi"].owner is None  # untouched
        again = await deploy.plan_fleet(svc.mist, svc.store, _with_desk(fleet, "a's desks"), svc.org_id, ownership=A)
        assert [(p.key, p.owner, p.fatal) for p in again.plan.problems] == [("store-access", "fleet:branch-b", True)]
    desk = app.state.twin.objects("networktemplates")[0]["port_usages"]["desk"]["description"]
    assert desk == "claimed desks"


async def test_a_fleet_never_deletes_another_owners_objects_but_deletes_its_own() -> None:
    app = twin_app()
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    store = MemoryStore()
    org = fleet.org.model_copy(update={"labels": [lb for lb in fleet.org.labels if lb["name"] != "scanners"],
                                       "wlan_policies": [], "psks": [p for p in fleet.org.psks if "role" not in p]})
    smaller = fleet.model_copy(update={"org": org, "sites": []})
    async with engine(app, store=store) as svc:
        await _apply(svc, fleet, A)
        label_id = (await store.get_objects(svc.org_id, "labels"))["scanners"].mist_id
        theirs = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id, ownership=B)
        assert theirs.plan.deletes == [] and not theirs.plan.fatal_problems
        notes = [p.message for p in theirs.plan.problems if p.kind == "owner"]
        assert len(notes) == 1, notes  # a PSK, two policies, a label and a site: named, kept
        assert notes[0].startswith("kept: 5 object(s) fleet 'branch-a' owns are not in this fleet (PSK ")
        assert "label scanners" in notes[0] and f"site {fleet.sites[0].name}" in notes[0]
        taking = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id,
                                         ownership=fleet_ownership("branch-b", take=True))
        assert ("labels", "scanners") in {(c.kind, c.key) for c in taking.plan.deletes}  # with --take-ownership
        await _apply(svc, smaller, B, allow_delete=True)
        assert label_id in {o["id"] for o in twin.objects("wxtags")}  # A's label and A's site stay
        assert {s["name"] for s in twin.objects("sites")} == {fleet.sites[0].name}
        ours = await deploy.plan_fleet(svc.mist, svc.store, smaller, svc.org_id, ownership=A)
        assert ("labels", "scanners") in {(c.kind, c.key) for c in ours.plan.deletes}


async def test_adopting_unchanged_objects_leaves_another_owners_records_alone() -> None:
    app = twin_app()
    fleet = example_fleet_for(app.state.twin, sites=1)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        await _apply(svc, fleet, A)
        before = await store.get_objects(svc.org_id, "labels")
        await store.put_object(svc.org_id, "labels", "scanners", before["scanners"].mist_id, "stale-hash")
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, ownership=B)
        assert planned.plan.is_empty() and planned.plan.problems == []  # identical in both: no conflict
        await adopt_unchanged(store, planned)
        after = await store.get_objects(svc.org_id, "labels")
    assert after["scanners"].owner == "fleet:branch-a" and after["scanners"].applied_hash == "stale-hash"
    assert {ref.owner for ref in after.values()} == {"fleet:branch-a"}
