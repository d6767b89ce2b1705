"""What survives: reopening a store, two processes on one SQLite file, `kill -9` mid-write; opening errors."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from mistctl.store import (
    AuditEntry,
    MemoryStore,
    Run,
    SiteState,
    SleCheck,
    SqliteStore,
    StepRecord,
    StoreConfigError,
    StoreUnavailable,
    fingerprint_secret,
    open_store,
)
from mistctl.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from tests.support.redis_server import free_port

ORG = "org-1"
pytestmark = pytest.mark.timeout(120)

# A second process writing to the same SQLite file: counters, steps, events, audit, and a lock it keeps.
WRITER = textwrap.dedent("""
    import asyncio, sys
    from mistctl.store import AuditEntry, StepRecord, open_store

    async def main(url, run_id, tag, n):
        async with open_store(url) as store:
            print("lock", await store.acquire_lock("site:held", tag, ttl_s=60), flush=True)
            for i in range(n):
                await store.incr_run_counts(run_id, {"calls": 1, tag: 1})
                await store.record_step(StepRecord(run_id=run_id, org_id="org-1", site=f"{tag}-{i}", step=1,
                                                   kind="sites", key=f"{tag}-{i}", status="done"))
                seq = await store.publish_event(run_id, {"tag": tag, "i": i})
                await store.append_audit(AuditEntry(run_id=run_id, method="POST", path="/x", status=200))
                print("done", i, seq, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
""")


async def start_writer(url: str, run_id: str, tag: str, n: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, url, run_id, tag, str(n), stdout=asyncio.subprocess.PIPE
    )


@pytest.fixture(params=["sqlite", "redis"])
def durable_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    return f"{request.getfixturevalue('redis_url')}?prefix=d-{uuid4().hex[:10]}:"


async def test_everything_survives_closing_and_reopening(durable_url):
    when = datetime(2026, 4, 1, tzinfo=UTC)
    fp = fingerprint_secret("pw", ORG)
    step = StepRecord(run_id="r1", org_id=ORG, site="hq", step=4, kind="networks", key="lan", status="done")
    site = SiteState(org_id=ORG, name="hq", status="sle_failed", sle={"coverage": 0.4})
    entry = AuditEntry(run_id="r1", method="PUT", path="/api/v1/sites/1", status=200, ts=when)
    async with open_store(durable_url) as store:
        run = await store.create_run(Run(id="r1", kind="apply", org_id=ORG, plan={"x": [1, 2]}))
        await store.incr_run_counts("r1", {"calls": 7})
        await store.record_step(step)
        await store.put_object(ORG, "networks", "lan", "n-1", "h")
        await store.put_site_state(site)
        await store.append_audit(entry)
        await store.publish_event("r1", {"n": 1})
        await store.acquire_lock("site:hq", "w1", ttl_s=60)
        await store.put_fingerprint(ORG, "psks", "staff", fp, when)
    async with open_store(durable_url) as store:
        assert await store.get_run("r1") == run.model_copy(update={"counts": {"calls": 7}})
        assert await store.get_steps(ORG) == [step]
        assert (await store.get_objects(ORG, "networks"))["lan"].mist_id == "n-1"
        assert await store.list_site_states() == [site]
        assert await store.list_audit() == [entry]
        assert await store.events_since("r1") == [(1, {"n": 1})]
        assert await store.publish_event("r1", {"n": 2}) == 2
        assert not await store.acquire_lock("site:hq", "w2", ttl_s=60)
        assert (await store.get_fingerprint(ORG, "psks", "staff")).fingerprint == fp


async def test_two_processes_share_one_sqlite_file_without_losing_writes(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    n = 60
    async with open_store(url) as store:
        await store.create_run(Run(id="r1", kind="apply", org_id=ORG))
        child = await start_writer(url, "r1", "child", n)
        assert (await child.stdout.readline()).split() == [b"lock", b"True"]
        for i in range(n):
            await store.incr_run_counts("r1", {"calls": 1, "parent": 1})
            await store.record_step(StepRecord(run_id="r1", org_id=ORG, site=f"parent-{i}", step=1,
                                               kind="sites", key=f"parent-{i}", status="done"))
            await store.publish_event("r1", {"tag": "parent", "i": i})
        await child.communicate()
        assert child.returncode == 0
        assert (await store.get_run("r1")).counts == {"calls": 2 * n, "parent": n, "child": n}
        assert len(await store.get_steps(ORG)) == 2 * n
        assert [s for s, _ in await store.events_since("r1", limit=500)] == list(range(1, 2 * n + 1))
        assert len(await store.list_audit(run_id="r1", limit=500)) == n
        assert not await store.acquire_lock("site:held", "parent", ttl_s=60)


async def test_a_process_killed_mid_run_loses_no_write_that_returned(tmp_path):
    url = f"sqlite:///{tmp_path}/crash.db"
    async with open_store(url) as store:
        await store.create_run(Run(id="r1", kind="apply", org_id=ORG))
    child = await start_writer(url, "r1", "child", 100_000)
    await child.stdout.readline()  # the lock line
    returned = [(await child.stdout.readline()).split() for _ in range(40)]
    child.send_signal(signal.SIGKILL)
    await child.wait()
    async with open_store(url) as store:
        done = {int(line[1]) for line in returned}
        sites = {s.site for s in await store.get_steps(ORG)}
        assert {f"child-{i}" for i in done} <= sites
        events = await store.events_since("r1", limit=100_000)
        assert [s for s, _ in events] == list(range(1, len(events) + 1))  # no gap, no duplicate
        assert (await store.get_run("r1")).counts["child"] >= len(done)


async def test_sqlite_records_its_schema_version_and_refuses_a_newer_file(tmp_path):
    path = tmp_path / "state.db"
    await SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreConfigError, match="newer mistctl"):
        SqliteStore(path)


async def test_a_version_1_state_file_is_upgraded_and_keeps_its_locks(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in MIGRATIONS[1]:
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO locks VALUES ('org:o1', 'run-old', 4e9)")
    async with SqliteStore(path) as store:
        held = await store.get_lock("org:o1")
        assert (held.owner, held.holder) == ("run-old", "")
        assert not await store.acquire_lock("org:o1", "run-new", 30)
        await store.append_sle_checks([SleCheck(org_id="o1", site="s1", values={"coverage": 0.9})])  # schema 3
        assert [c.values for c in (await store.sle_history("o1"))["s1"]] == [{"coverage": 0.9}]


async def test_a_version_2_state_file_keeps_its_objects_without_an_owner(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in (*MIGRATIONS[1], *MIGRATIONS[2]):
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        body = '{"org_id":"o1","kind":"wlan_templates","key":"store-access","mist_id":"t-1",' \
               '"applied_hash":"h1","updated_at":"2026-01-01T00:00:00Z"}'
        db.execute("INSERT INTO objects VALUES ('o1', 'wlan_templates', 'store-access', ?)", (body,))
    async with SqliteStore(path) as store:
        old = (await store.get_objects("o1", "wlan_templates"))["store-access"]
        assert (old.mist_id, old.applied_hash, old.owner) == ("t-1", "h1", None)
        claimed = await store.put_object("o1", "wlan_templates", "store-access", "t-1", "h2", owner="fleet:a")
        assert claimed.owner == "fleet:a"


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path):
    bogus = tmp_path / "fleet.yaml"
    bogus.write_text("org: {}\n" * 200)
    with pytest.raises(StoreConfigError, match="not a usable mistctl state file"):
        open_store(str(bogus))


async def test_store_urls_open_the_right_adapter(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stores = [open_store("sqlite:///rel/dir/state.db"), open_store(f"sqlite:///{tmp_path}/abs/a.db"),
              open_store(str(tmp_path / "bare" / "b.db")), open_store("memory://")]
    try:
        assert (tmp_path / "rel" / "dir" / "state.db").exists()
        assert (tmp_path / "abs" / "a.db").exists() and (tmp_path / "bare" / "b.db").exists()
        assert isinstance(stores[3], MemoryStore)
    finally:
        for store in stores:
            await store.close()
    with pytest.raises(StoreConfigError, match="unknown state store URL scheme 'postgres'"):
        open_store("postgres://db/state")


async def test_an_unreachable_redis_is_reported_without_its_password():
    store = open_store(f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0")
    try:
        assert "s3cret" not in repr(store)
        with pytest.raises(StoreUnavailable, match="cannot reach Redis at redis://127.0.0.1") as caught:
            await store.get_run("r1")
        assert "s3cret" not in str(caught.value)
    finally:
        await store.close()


async def test_redis_store_reloads_its_scripts_after_the_server_forgot_them(redis_url):
    async with open_store(f"{redis_url}?prefix=f-{uuid4().hex[:10]}:") as store:
        await store.put_site_state(SiteState(org_id=ORG, name="hq", status="planned"))
        await store.r.script_flush()  # what a restarted server without persistence of scripts looks like
        await store.put_site_states([SiteState(org_id=ORG, name="hq", status="done"),
                                     SiteState(org_id=ORG, name="branch", status="planned")])
        assert [s.name for s in await store.list_site_states(status="done")] == ["hq"]
        assert [s.name for s in await store.list_site_states(status="planned")] == ["branch"]


async def test_a_version_5_state_file_keeps_its_runs_plans_moved_to_their_own_table(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for number in range(1, 6):
            for statement in MIGRATIONS[number]:
                db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '5')")
        body = '{"id":"run-old","kind":"apply","org_id":"o1","status":"running","created_at":"2026-01-01T00:00:00Z"}'
        db.execute("INSERT INTO runs VALUES ('run-old', 'running', 1.7e9, ?, ?)", (body, '{"changes":[{"k":1}]}'))
    async with SqliteStore(path) as store:
        assert (await store.get_run("run-old")).plan == {"changes": [{"k": 1}]}
        await store.update_run("run-old", heartbeat_at=datetime(2026, 1, 1, tzinfo=UTC), status="completed")
        assert [r.plan for r in await store.list_runs(include_plan=True)] == [{"changes": [{"k": 1}]}]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT plan FROM runs").fetchall() == [("",)]  # the run's row holds no plan any more
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("6",)
