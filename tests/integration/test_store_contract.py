"""The StateStore contract: one suite, run against memory, SQLite (a temp file) and a real redis-server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from mistctl.store import (
    ANY_SITE,
    AuditEntry,
    ObjRef,
    RecordNotFound,
    RecordRejected,
    Run,
    SiteState,
    StateStore,
    StepRecord,
    fingerprint_secret,
    open_store,
)

ORG = "org-1"
PASSPHRASE = "correct-horse-battery-staple"
TOKEN = "Zq3x9T1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEFGH"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state/state.db"
    return f"{request.getfixturevalue('redis_url')}?prefix=t-{uuid4().hex[:10]}:"


@pytest.fixture
async def store(store_url):
    async with open_store(store_url) as opened:
        yield opened


def a_run(**fields) -> Run:
    return Run(**{"kind": "apply", "org_id": ORG, "fleet_hash": "h1", **fields})


def a_step(site: str | None = "store-001", step: int = 4, key: str = "lan", **fields) -> StepRecord:
    return StepRecord(**{"run_id": "r1", "org_id": ORG, "site": site, "step": step, "kind": "networks",
                         "key": key, **fields})


async def test_every_adapter_is_a_state_store(store):
    assert isinstance(store, StateStore)
    await store.ping()
    assert "password" not in repr(store).lower()


# --- runs ---------------------------------------------------------------------------------------------
async def test_run_round_trip_with_plan_stored_without_psk_passphrase(store):
    plan = {"psks": [{"name": "staff", "ssid": "corp", "passphrase": PASSPHRASE}], "sites": 3}
    run = await store.create_run(a_run(plan=plan, counts={"sites_total": 3}))
    got = await store.get_run(run.id)
    assert got == run
    assert got.plan["psks"][0]["name"] == "staff"
    assert PASSPHRASE not in str(got.plan) and PASSPHRASE not in repr(got)
    assert got.counts == {"sites_total": 3}
    assert await store.get_run("nope") is None


async def test_get_run_without_its_plan_keeps_everything_else(store):
    run = await store.create_run(a_run(plan={"changes": list(range(50))}, counts={"sites_total": 3}))
    await store.incr_run_counts(run.id, {"sites_done": 2})
    light = await store.get_run(run.id, include_plan=False)
    full = await store.get_run(run.id)
    assert light is not None and full is not None
    assert light.plan == {} and full.plan == {"changes": list(range(50))}
    assert light.model_dump(exclude={"plan"}) == full.model_dump(exclude={"plan"})
    assert light.counts == {"sites_total": 3, "sites_done": 2}
    assert await store.get_run("nope", include_plan=False) is None


async def test_create_run_refuses_an_existing_id(store):
    run = await store.create_run(a_run())
    with pytest.raises(RecordRejected, match=run.id):
        await store.create_run(a_run(id=run.id))


async def test_update_run_sets_only_given_fields(store):
    run = await store.create_run(a_run(plan={"a": 1}, error="old"))
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    updated = await store.update_run(run.id, status="running", started_at=started, error=None)
    assert (updated.status, updated.started_at, updated.error) == ("running", started, None)
    assert updated.plan == {} and updated.fleet_hash == "h1"  # answered without its plan (never read)
    assert await store.get_run(run.id, include_plan=False) == updated
    assert (await store.get_run(run.id)).plan == {"a": 1}  # left as it was


def a_plan(sites: int) -> dict:
    changes = [{"kind": "sites", "key": f"store-{i:04d}", "site": f"store-{i:04d}", "action": "create",
                "body": {"name": f"store-{i:04d}", "vars": {"vlan": i, "nested": [1, {"x": "\u00e9"}]}}}
               for i in range(sites)]
    return {"org_id": ORG, "fleet_hash": "h1", "changes": changes, "big": 2**70}


async def test_heartbeats_and_status_updates_leave_the_plan_intact(store):
    plan = a_plan(300)
    run = await store.create_run(a_run(plan=plan, counts={"sites_total": 300}))
    beat = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for i in range(5):
        answered = await store.update_run(run.id, heartbeat_at=beat + timedelta(seconds=20 * i))
        assert answered.plan == {} and answered.heartbeat_at == beat + timedelta(seconds=80 if i == 4 else 20 * i)
    await store.update_run(run.id, status="running", started_at=beat)
    await store.incr_run_counts(run.id, {"sites_done": 2})
    await store.update_run(run.id, status="partial", finished_at=beat, error="site x: no")
    got = await store.get_run(run.id)
    assert got.plan == plan and got.plan["changes"][299]["body"]["vars"]["nested"][1] == {"x": "\u00e9"}
    assert (got.status, got.heartbeat_at, got.error) == ("partial", beat + timedelta(seconds=80), "site x: no")
    assert got.counts == {"sites_total": 300, "sites_done": 2} and got.fleet_hash == "h1"
    listed = await store.list_runs(include_plan=True)
    assert [r.plan for r in listed] == [plan]


async def test_a_patch_that_sets_the_plan_replaces_it(store):
    run = await store.create_run(a_run(plan=a_plan(3)))
    answered = await store.update_run(run.id, plan={"changes": []}, heartbeat_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert answered.plan == {}
    assert (await store.get_run(run.id)).plan == {"changes": []}


async def test_update_run_rejects_unknown_fields_and_missing_runs(store):
    run = await store.create_run(a_run())
    with pytest.raises(RecordRejected, match="org_id"):
        await store.update_run(run.id, org_id="other")
    with pytest.raises(RecordRejected, match="status"):
        await store.update_run(run.id, status="exploded")
    with pytest.raises(RecordRejected, match="status cannot be set to None"):
        await store.update_run(run.id, status=None)
    with pytest.raises(RecordNotFound, match="nope"):
        await store.update_run("nope", status="failed")
    with pytest.raises(RecordNotFound):
        await store.incr_run_counts("nope", {"calls": 1})


async def test_update_run_redacts_errors(store):
    run = await store.create_run(a_run())
    await store.update_run(run.id, status="failed", error=f"401 with Authorization: Token {TOKEN}")
    got = await store.get_run(run.id)
    assert TOKEN not in got.error and "401" in got.error


async def test_concurrent_counter_increments_are_not_lost(store):
    run = await store.create_run(a_run(counts={"calls": 5}))
    await asyncio.gather(*(store.incr_run_counts(run.id, {"sites_done": 1, "calls": 3}) for _ in range(150)))
    await asyncio.gather(
        store.update_run(run.id, status="running"), store.incr_run_counts(run.id, {"sites_failed": 2})
    )
    got = await store.get_run(run.id)
    assert got.counts == {"calls": 5 + 450, "sites_done": 150, "sites_failed": 2}
    assert got.status == "running"


async def test_list_runs_newest_first_with_status_filter_and_no_plans(store):
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(5):
        await store.create_run(a_run(id=f"run-{i}", created_at=base + timedelta(minutes=i), plan={"n": i}))
    await store.update_run("run-1", status="completed")
    await store.update_run("run-3", status="completed")
    assert [r.id for r in await store.list_runs(limit=3)] == ["run-4", "run-3", "run-2"]
    done = await store.list_runs(status="completed")
    assert [r.id for r in done] == ["run-3", "run-1"] and all(r.plan == {} for r in done)
    with_plan = await store.list_runs(limit=1, include_plan=True)
    assert with_plan[0].plan == {"n": 4}


async def test_request_cancel_flags_the_run(store):
    run = await store.create_run(a_run())
    assert (await store.request_cancel(run.id)).cancel_requested
    assert (await store.get_run(run.id)).cancel_requested


# --- step records ---------------------------------------------------------------------------------------
async def test_record_step_upserts_by_identity_and_a_new_run_reads_it(store):
    await store.record_step(a_step(status="running"))
    await store.record_step(a_step(run_id="r2", status="done", mist_id="m-1", applied_hash="x", calls=2))
    got = await store.get_step(ORG, "store-001", 4, "networks", "lan")
    assert (got.run_id, got.status, got.mist_id, got.applied_hash, got.calls) == ("r2", "done", "m-1", "x", 2)
    assert len(await store.get_steps(ORG)) == 1
    assert await store.get_step(ORG, "store-002", 4, "networks", "lan") is None


async def test_get_steps_filters_by_site_org_level_and_run_in_identity_order(store):
    await store.record_steps([
        a_step(site="store-002", step=10, key="guest"),
        a_step(site=None, step=3, key="app", run_id="r2"),
        a_step(site="store-001", step=4, key="wan"),
        a_step(site="store-001", step=4, key="lan", run_id="r2"),
    ])
    everything = await store.get_steps(ORG, site=ANY_SITE)
    assert [(s.site, s.step, s.key) for s in everything] == [
        (None, 3, "app"), ("store-001", 4, "lan"), ("store-001", 4, "wan"), ("store-002", 10, "guest")]
    assert [s.key for s in await store.get_steps(ORG, site=None)] == ["app"]
    assert [s.key for s in await store.get_steps(ORG, site="store-001")] == ["lan", "wan"]
    assert [s.key for s in await store.get_steps(ORG, run_id="r2")] == ["app", "lan"]
    assert await store.get_steps("other-org") == []


async def test_record_done_keeps_the_step_its_object_its_owner_and_its_audit_together(store):
    writes = [AuditEntry(run_id="r2", actor="ops", method="POST", path=f"/api/v1/orgs/{ORG}/sites", status=200,
                         site="store-001", kind="sites", name="store-001", mist_id="m-1")]
    ref = ObjRef(org_id=ORG, kind="sites", key="store-001", mist_id="m-1", applied_hash="h1", owner="fleet:a")
    await store.record_done(a_step(run_id="r2", status="done", kind="sites", key="store-001", mist_id="m-1",
                                   applied_hash="h1"), ref, writes)
    got = await store.get_step(ORG, "store-001", 4, "sites", "store-001")
    assert (got.run_id, got.status, got.mist_id, got.applied_hash) == ("r2", "done", "m-1", "h1")
    found = (await store.get_objects(ORG, "sites"))["store-001"]
    assert (found.mist_id, found.applied_hash, found.owner) == ("m-1", "h1", "fleet:a")
    assert [(e.method, e.mist_id) for e in await store.list_audit(run_id="r2", site="store-001")] == [("POST", "m-1")]
    again = ref.model_copy(update={"applied_hash": "h2", "owner": None})  # no owner: the recorded one stays
    await store.record_done(a_step(run_id="r3", status="done", kind="sites", key="store-001", mist_id="m-1",
                                   applied_hash="h2"), again, [])  # no writes: no audit entry
    found = (await store.get_objects(ORG, "sites"))["store-001"]
    assert (found.applied_hash, found.owner) == ("h2", "fleet:a")
    assert len(await store.list_audit()) == 1


async def test_concurrent_step_records_all_land(store):
    recs = [a_step(site=f"s-{i:03d}", key=f"k{j}") for i in range(40) for j in range(3)]
    await asyncio.gather(*(store.record_step(r) for r in recs))
    assert len(await store.get_steps(ORG)) == 120


async def test_step_errors_are_redacted(store):
    await store.record_step(a_step(status="failed", error=f'400: {{"passphrase": "{PASSPHRASE}"}}'))
    got = await store.get_step(ORG, "store-001", 4, "networks", "lan")
    assert PASSPHRASE not in got.error and got.error.startswith("400")


# --- object map --------------------------------------------------------------------------------------------
async def test_object_map_put_get_delete(store):
    await store.put_object(ORG, "wlans", "corp", "w-1", "h1")
    await store.put_object(ORG, "wlans", "corp", "w-2", "h2")
    await store.put_object(ORG, "wlans", "guest", "w-3")
    await store.put_object(ORG, "networks", "corp", "n-1")
    wlans = await store.get_objects(ORG, "wlans")
    assert {k: (v.mist_id, v.applied_hash) for k, v in wlans.items()} == {
        "corp": ("w-2", "h2"), "guest": ("w-3", None)}
    assert await store.delete_object(ORG, "wlans", "corp") is True
    assert await store.delete_object(ORG, "wlans", "corp") is False
    assert list(await store.get_objects(ORG, "wlans")) == ["guest"]
    assert list(await store.get_objects(ORG, "networks")) == ["corp"]


async def test_object_owners_are_recorded_kept_changed_and_forgotten(store):
    put = await store.put_object(ORG, "wlan_templates", "store-access", "t-1", "h1", owner="design:default")
    assert put.owner == "design:default"
    kept = await store.put_object(ORG, "wlan_templates", "store-access", "t-1", "h2")  # no owner: keep it
    assert kept.owner == "design:default"
    await store.put_object(ORG, "wlan_templates", "legacy", "t-2", "h3")  # recorded before owners were
    found = await store.get_objects(ORG, "wlan_templates")
    assert {k: (v.applied_hash, v.owner) for k, v in found.items()} == {
        "store-access": ("h2", "design:default"), "legacy": ("h3", None)}
    await store.put_object(ORG, "wlan_templates", "store-access", "t-1", "h4", owner="fleet:branch-east")
    assert (await store.get_objects(ORG, "wlan_templates"))["store-access"].owner == "fleet:branch-east"
    assert await store.delete_object(ORG, "wlan_templates", "store-access")
    again = await store.put_object(ORG, "wlan_templates", "store-access", "t-9", "h5")
    assert again.owner is None  # a forgotten object's owner is forgotten with it
    assert (await store.get_objects("other-org", "wlan_templates")) == {}


# --- site states -------------------------------------------------------------------------------------------
async def test_site_state_upsert_and_lookup_without_org(store):
    await store.put_site_state(SiteState(org_id="org-b", name="hq", status="planned"))
    await store.put_site_state(SiteState(org_id="org-a", name="hq", status="done", site_id="s-1",
                                         sle={"coverage": 0.98, "time-to-connect": None}))
    got = await store.get_site_state(None, "hq")
    assert (got.org_id, got.status, got.sle) == ("org-a", "done", {"coverage": 0.98, "time-to-connect": None})
    assert (await store.get_site_state("org-b", "hq")).status == "planned"
    assert await store.get_site_state(None, "nowhere") is None


async def test_thousands_of_sites_page_filter_and_count(store):
    states = [SiteState(org_id=ORG if i % 3 else "org-0", name=f"site-{i:04d}", zone="z", number=i,
                        status="done" if i % 2 else "planned") for i in range(2100)]
    await store.put_site_states(states)
    await store.put_site_state(states[7].model_copy(update={"status": "failed", "error": "step 4"}))
    expected = sorted((s for s in states if s.org_id == ORG and s.number != 7 and s.status == "done"),
                      key=lambda s: s.name)
    page = await store.list_site_states(org_id=ORG, status="done", offset=100, limit=50)
    assert [s.name for s in page] == [s.name for s in expected[100:150]]
    everything = [s.name for s in await store.list_site_states(limit=5000)]
    assert everything == [s.name for s in sorted(states, key=lambda s: (s.org_id, s.name))]
    counts = await store.count_site_states_by_status()
    assert counts == {"planned": 1050, "provisioning": 0, "done": 1049, "pending": 0, "failed": 1,
                      "sle_failed": 0, "decommissioned": 0}
    assert (await store.count_site_states_by_status(org_id="org-0"))["done"] == 350
    assert await store.list_site_states(offset=2100) == []



async def test_a_batch_applies_sites_in_order_moving_them_between_status_indexes(store):
    await store.put_site_states([SiteState(org_id=ORG, name="a", status="planned"),
                                 SiteState(org_id="org-0", name="a", status="planned")])
    await store.put_site_states([SiteState(org_id=ORG, name="a", status="provisioning"),
                                 SiteState(org_id=ORG, name="b", status="planned"),
                                 SiteState(org_id=ORG, name="a", status="done", site_id="s-a")])
    assert (await store.get_site_state(ORG, "a")).site_id == "s-a"
    assert [s.name for s in await store.list_site_states(org_id=ORG, status="done")] == ["a"]
    assert [s.name for s in await store.list_site_states(org_id=ORG, status="planned")] == ["b"]
    assert await store.list_site_states(org_id=ORG, status="provisioning") == []
    assert await store.count_site_states_by_status() == {
        "planned": 2, "provisioning": 0, "done": 1, "pending": 0, "failed": 0, "sle_failed": 0, "decommissioned": 0}
    await store.put_site_states([])
    assert len(await store.list_site_states()) == 3

# --- audit ------------------------------------------------------------------------------------------------
async def test_audit_is_append_only_and_pages_by_run_and_site(store):
    def entry(i: int, run: str, site: str | None) -> AuditEntry:
        return AuditEntry(run_id=run, site=site, method="POST", path=f"/api/v1/orgs/{ORG}/wlans",
                          kind="wlans", name=f"w{i}", status=200, duration_ms=12.5, actor="cli",
                          ts=datetime(2026, 1, 1, 0, 0, i, tzinfo=UTC))

    await store.append_audit(entry(0, "r1", "s1"))
    await store.append_audit_batch([entry(i, "r1" if i % 2 else "r2", f"s{i % 3}") for i in range(1, 10)])
    assert [e.name for e in await store.list_audit(limit=4)] == ["w0", "w1", "w2", "w3"]
    assert [e.name for e in await store.list_audit(run_id="r1", offset=1, limit=2)] == ["w1", "w3"]
    assert [e.name for e in await store.list_audit(site="s1", newest_first=True)] == ["w7", "w4", "w1", "w0"]
    assert [e.name for e in await store.list_audit(run_id="r1", site="s1")] == ["w0", "w1", "w7"]
    assert [e.name for e in await store.list_audit(newest_first=True, offset=8, limit=5)] == ["w1", "w0"]
    assert (await store.list_audit(limit=1))[0] == entry(0, "r1", "s1")


async def test_audit_paths_lose_tokens(store):
    await store.append_audit(AuditEntry(method="GET", path=f"/api/v1/self?token={TOKEN}", status=200))
    assert TOKEN not in (await store.list_audit())[0].path


# --- events -----------------------------------------------------------------------------------------------
async def test_events_have_a_monotonic_sequence_per_run(store):
    assert [await store.publish_event("r1", {"n": i}) for i in range(3)] == [1, 2, 3]
    assert await store.publish_event("r2", {"n": 0}) == 1
    assert await store.events_since("r1") == [(1, {"n": 0}), (2, {"n": 1}), (3, {"n": 2})]
    assert await store.events_since("r1", after_seq=1, limit=1) == [(2, {"n": 1})]
    assert await store.events_since("r1", after_seq=3) == []


async def test_concurrent_publishers_get_distinct_sequence_numbers(store):
    seqs = await asyncio.gather(*(store.publish_event("r1", {"n": i}) for i in range(60)))
    assert sorted(seqs) == list(range(1, 61))
    assert [s for s, _ in await store.events_since("r1")] == list(range(1, 61))


async def test_wait_events_returns_new_events_or_nothing_on_timeout(store):
    await store.publish_event("r1", {"n": 1})
    assert await store.wait_events("r1", 0, timeout=5) == [(1, {"n": 1})]
    assert await store.wait_events("r1", 1, timeout=0.2) == []
    waiter = asyncio.create_task(store.wait_events("r1", 1, timeout=10))
    await asyncio.sleep(0.05)
    await store.publish_event("r1", {"n": 2})
    assert await waiter == [(2, {"n": 2})]


async def test_events_are_redacted_and_must_be_json(store):
    await store.publish_event("r1", {"type": "psk", "psk": {"name": "staff", "passphrase": PASSPHRASE}})
    [(_, event)] = await store.events_since("r1")
    assert event["psk"]["name"] == "staff" and PASSPHRASE not in str(event)
    with pytest.raises(RecordRejected, match="JSON"):
        await store.publish_event("r1", {"when": object()})


# --- locks ------------------------------------------------------------------------------------------------
async def test_locks_are_exclusive_reentrant_for_the_owner_and_released_by_owner_only(store):
    assert await store.acquire_lock("site:hq", "w1", ttl_s=30)
    assert not await store.acquire_lock("site:hq", "w2", ttl_s=30)
    assert await store.acquire_lock("site:hq", "w1", ttl_s=30)
    assert await store.acquire_lock("site:branch", "w2", ttl_s=30)
    assert not await store.release_lock("site:hq", "w2")
    assert not await store.refresh_lock("site:hq", "w2", ttl_s=30)
    assert await store.refresh_lock("site:hq", "w1", ttl_s=30)
    assert await store.release_lock("site:hq", "w1")
    assert await store.acquire_lock("site:hq", "w2", ttl_s=30)


async def test_many_locks_at_once_answer_each_as_one_at_a_time_would(store):
    assert await store.acquire_lock("site:b", "w2", ttl_s=30, holder="someone else")
    names = [f"site:{n}" for n in ("a", "b", "c")]
    assert await store.acquire_locks(names, "w1", ttl_s=30, holder="run w1") == [True, False, True]
    assert (await store.get_lock("site:a")).holder == "run w1"
    assert (await store.get_lock("site:b")).owner == "w2"  # left to its holder
    assert await store.refresh_locks(names, "w1", ttl_s=60) == [True, False, True]
    assert await store.acquire_locks(["site:a"], "w1", ttl_s=30) == [True]  # ours: extended
    assert await store.release_locks(names, "w1") == [True, False, True]
    assert await store.get_lock("site:a") is None and await store.get_lock("site:c") is None
    assert (await store.get_lock("site:b")).owner == "w2"
    assert await store.refresh_locks(names, "w1", ttl_s=60) == [False, False, False]  # released: not ours
    assert await store.acquire_locks([], "w1", ttl_s=30) == []


async def test_thousands_of_locks_at_once(store):
    names = [f"site:o1:{n}" for n in range(1_200)]  # more than one script call on Redis
    assert all(await store.acquire_locks(names, "run-1", ttl_s=30))
    assert not any(await store.acquire_locks(names, "run-2", ttl_s=30))
    assert (await store.get_lock(names[-1])).owner == "run-1"
    assert all(await store.release_locks(names, "run-1"))
    assert await store.get_lock(names[0]) is None and await store.get_lock(names[-1]) is None


async def test_locks_expire(store):
    assert await store.acquire_lock("site:hq", "w1", ttl_s=0.2)
    await asyncio.sleep(0.35)
    assert not await store.refresh_lock("site:hq", "w1", ttl_s=5)
    assert await store.acquire_lock("site:hq", "w2", ttl_s=5)
    assert not await store.release_lock("site:hq", "w1")


async def test_only_one_of_many_concurrent_contenders_gets_a_lock(store):
    won = await asyncio.gather(*(store.acquire_lock("site:x", f"w{i}", ttl_s=30) for i in range(20)))
    assert won.count(True) == 1


async def test_a_lock_says_who_holds_it_until_it_is_released(store):
    assert await store.get_lock("org:o1") is None
    assert await store.acquire_lock("org:o1", "run-1", ttl_s=30, holder="mistctl apply by ops on h1 pid 7")
    info = await store.get_lock("org:o1")
    assert (info.owner, info.holder) == ("run-1", "mistctl apply by ops on h1 pid 7")
    assert 20 < (info.expires_at - datetime.now(UTC)).total_seconds() <= 31
    assert await store.refresh_lock("org:o1", "run-1", ttl_s=60)
    assert (await store.get_lock("org:o1")).holder == "mistctl apply by ops on h1 pid 7"
    assert await store.release_lock("org:o1", "run-1")
    assert await store.get_lock("org:o1") is None


async def test_break_lock_frees_a_lock_whoever_holds_it_or_only_the_named_owner(store):
    assert await store.acquire_lock("org:o1", "run-1", ttl_s=30, holder="killed")
    assert await store.break_lock("org:o1", "run-2") is None  # not that owner: left alone
    assert (await store.get_lock("org:o1")).owner == "run-1"
    broken = await store.break_lock("org:o1")
    assert (broken.owner, broken.holder) == ("run-1", "killed")
    assert await store.get_lock("org:o1") is None
    assert await store.break_lock("org:o1") is None
    assert await store.acquire_lock("org:o1", "run-2", ttl_s=30)
    assert not await store.release_lock("org:o1", "run-1")


async def test_an_expired_lock_is_not_reported(store):
    assert await store.acquire_lock("org:o1", "run-1", ttl_s=0.2, holder="gone")
    await asyncio.sleep(0.35)
    assert await store.get_lock("org:o1") is None
    assert await store.break_lock("org:o1") is None


async def test_a_run_heartbeat_and_the_interrupted_status_are_stored(store):
    run = await store.create_run(a_run(status="running"))
    beat = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    await store.update_run(run.id, heartbeat_at=beat)
    assert (await store.get_run(run.id, include_plan=False)).heartbeat_at == beat
    await store.update_run(run.id, status="interrupted")
    got = await store.get_run(run.id)
    assert (got.status, got.is_terminal) == ("interrupted", True)
    assert [r.id for r in await store.list_runs(status="interrupted")] == [run.id]


# --- fingerprints -----------------------------------------------------------------------------------------
async def test_fingerprints_are_stored_and_plain_secrets_refused(store):
    when = datetime(2026, 2, 1, tzinfo=UTC)
    fp = fingerprint_secret(PASSPHRASE, ORG)
    await store.put_fingerprint(ORG, "psks", "staff", fp, when)
    got = await store.get_fingerprint(ORG, "psks", "staff")
    assert (got.fingerprint, got.rotated_at) == (fp, when)
    with pytest.raises(RecordRejected, match="fingerprint_secret"):
        await store.put_fingerprint(ORG, "psks", "guest", PASSPHRASE)
    assert await store.get_fingerprint(ORG, "psks", "guest") is None


async def test_record_done_writes_the_step_the_object_and_its_audit_entries(store):
    rec = a_step(status="done", mist_id="m-1", applied_hash="h1")
    ref = ObjRef(org_id=ORG, kind="sites", key="store-001", mist_id="m-1", applied_hash="h1")
    audit = [AuditEntry(run_id=rec.run_id, site="store-001", method="POST", path=f"/api/v1/orgs/{ORG}/sites",
                        kind="sites", name="store-001", status=200, duration_ms=50.0, actor="cli", mist_id="m-1")]
    await store.record_done(rec, ref, audit)
    await store.record_done(a_step(key="vars", status="done", mist_id="m-1"), ref, [])  # no audit: none added
    steps = await store.get_steps(ORG, site="store-001")
    assert [(s.key, s.status, s.mist_id) for s in steps] == [("lan", "done", "m-1"), ("vars", "done", "m-1")]
    assert (await store.get_objects(ORG, "sites"))["store-001"].mist_id == "m-1"
    assert [(e.name, e.mist_id) for e in await store.list_audit()] == [("store-001", "m-1")]


async def test_sle_checks_are_kept_per_site_and_read_back_last_first_in_order(store):
    from mistctl.store import SleCheck
    from mistctl.store.sle_history import KEEP

    start = datetime(2026, 1, 1, tzinfo=UTC)
    checks = [SleCheck(org_id=ORG, site=site, ts=start + timedelta(minutes=10 * n), values={"coverage": n / 10},
                       status="pass" if n > 2 else "fail", run_id=f"r{n}")
              for n in range(6) for site in ("a:b <x>", "store-2")]
    await store.append_sle_checks(checks[:4])
    await store.append_sle_checks(checks[4:])
    await store.append_sle_checks([SleCheck(org_id="org-2", site="store-2", values={"coverage": None})])
    every = await store.sle_history(ORG, last=3)
    assert sorted(every) == ["a:b <x>", "store-2"]
    assert [c.values["coverage"] for c in every["a:b <x>"]] == [0.3, 0.4, 0.5]  # the last three, oldest first
    assert [c.run_id for c in every["store-2"]] == ["r3", "r4", "r5"]
    some = await store.sle_history(ORG, ["store-2", "never-checked"], last=2)
    assert list(some) == ["store-2"] and [c.ts for c in some["store-2"]] == [checks[8].ts, checks[10].ts]
    other = await store.sle_history("org-2")
    assert other["store-2"][0].values == {"coverage": None} and other["store-2"][0].status == "no-data"
    await store.append_sle_checks([SleCheck(org_id=ORG, site="busy", values={"coverage": 1.0})] * (KEEP + 5))
    assert len((await store.sle_history(ORG, ["busy"], last=KEEP + 10))["busy"]) == KEEP


async def test_audit_filters_by_kind_and_name_with_run_site_and_pages(store):
    names = ["Zürich <b>\"1\"", "lan", "Zürich <b>\"1\""]
    await store.append_audit_batch([
        AuditEntry(run_id=f"r{i % 2}", site=f"s{i % 3}", method="PUT", path=f"/api/v1/x/{i}",
                   kind="wlans" if i % 4 == 0 else "networks", name=names[i % 3], status=200)
        for i in range(24)])

    async def paths(**filters) -> list[str]:
        return [e.path.rsplit("/", 1)[1] for e in await store.list_audit(**filters)]

    assert await paths(kind="wlans") == [str(i) for i in range(0, 24, 4)]
    assert await paths(name=names[0], newest_first=True, limit=3) == ["23", "21", "20"]
    assert await paths(kind="wlans", name=names[0], offset=1) == ["8", "12", "20"]
    assert await paths(run_id="r0", kind="networks", site="s2") == ["2", "14"]
    assert await paths(site="s1", name="lan") == ["1", "4", "7", "10", "13", "16", "19", "22"]
    assert await paths(kind="nothing") == [] and await paths(name="Zürich") == []
