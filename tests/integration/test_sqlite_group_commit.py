"""Group commit in `SqliteStore`: calls queued together share one transaction, each fails alone, and a
call that returned survives `kill -9` even when sixteen writers share the transactions."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
import threading

import pytest

from mistctl.store import AuditEntry, RecordNotFound, RecordRejected, Run, SqliteStore, StepRecord
from mistctl.store.models import ObjRef

ORG = "org-1"
pytestmark = pytest.mark.timeout(120)


def step(site: str) -> StepRecord:
    return StepRecord(run_id="r1", org_id=ORG, site=site, step=1, kind="sites", key=site, status="done",
                      mist_id=f"id-{site}")


async def held_thread(store: SqliteStore) -> tuple[threading.Event, asyncio.Future[None]]:
    """Keep the store's thread busy until the event is set: what is queued meanwhile forms one batch."""
    entered, release = threading.Event(), threading.Event()

    def block(_conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait(30)

    blocker = asyncio.ensure_future(store._thread.call(block))
    await asyncio.to_thread(entered.wait, 30)
    return release, blocker


async def test_calls_queued_together_share_one_transaction_and_fail_alone(tmp_path):
    async with SqliteStore(tmp_path / "s.db") as store:
        await store.create_run(Run(id="r1", kind="apply", org_id=ORG, counts={"calls": 1}))
        release, blocker = await held_thread(store)
        batches = store._thread.batches
        audit = [AuditEntry(run_id="r1", site="c", method="POST", path="/api/v1/sites/c", status=200)]
        calls = [
            asyncio.ensure_future(store.record_step(step("a"))),
            asyncio.ensure_future(store.create_run(Run(id="r1", kind="apply", org_id=ORG))),  # exists: refused
            asyncio.ensure_future(store.incr_run_counts("nope", {"calls": 5})),  # no such run: rolled back alone
            asyncio.ensure_future(store.incr_run_counts("r1", {"calls": 2})),
            asyncio.ensure_future(store.record_done(step("c"), ObjRef(org_id=ORG, kind="sites", key="c",
                                                                      mist_id="id-c"), audit)),
        ]
        await asyncio.sleep(0.05)  # all queued behind the blocker
        release.set()
        await blocker
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert store._thread.batches == batches + 1  # the five calls: one transaction
        assert isinstance(results[1], RecordRejected)
        assert isinstance(results[2], RecordNotFound)
        assert results[3] == {"calls": 3}
    async with SqliteStore(tmp_path / "s.db") as store:  # what was committed, read back from the file
        assert [s.site for s in await store.get_steps(ORG)] == ["a", "c"]
        assert (await store.get_objects(ORG, "sites"))["c"].mist_id == "id-c"
        assert [e.path for e in await store.list_audit(run_id="r1")] == ["/api/v1/sites/c"]
        run = await store.get_run("r1")
        assert run is not None and run.counts == {"calls": 3}
        assert [r.id for r in await store.list_runs()] == ["r1"]
        assert await store.get_run("nope") is None


async def test_a_batch_that_cannot_commit_fails_every_call_in_it(tmp_path):
    async with SqliteStore(tmp_path / "s.db", busy_timeout_s=0.1) as store:
        other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
        release, blocker = await held_thread(store)
        calls = [asyncio.ensure_future(store.record_step(step(s))) for s in ("a", "b")]
        await asyncio.sleep(0.05)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the busy timeout
        release.set()
        await blocker
        results = await asyncio.gather(*calls, return_exceptions=True)
        other.execute("ROLLBACK")
        other.close()
        assert [type(r).__name__ for r in results] == ["StoreUnavailable", "StoreUnavailable"]
        assert "busy" in str(results[0])
        assert await store.get_steps(ORG) == []
        await store.record_step(step("c"))  # the file is free again: the store goes on
        assert [s.site for s in await store.get_steps(ORG)] == ["c"]


WRITERS = textwrap.dedent("""
    import asyncio, sys
    from mistctl.store import AuditEntry, SqliteStore, StepRecord
    from mistctl.store.models import ObjRef

    async def writer(store, w):
        for i in range(100_000):
            site = f"w{w}-{i}"
            rec = StepRecord(run_id="r1", org_id="org-1", site=site, step=1, kind="sites", key=site,
                             status="done", mist_id="id-" + site)
            ref = ObjRef(org_id="org-1", kind="sites", key=site, mist_id="id-" + site)
            audit = [AuditEntry(run_id="r1", site=site, method="POST", path="/x/" + site, status=200)]
            await store.record_done(rec, ref, audit)
            print(site, flush=True)

    async def main(path):
        async with SqliteStore(path) as store:
            await asyncio.gather(*(writer(store, w) for w in range(16)))

    asyncio.run(main(sys.argv[1]))
""")


async def test_sixteen_writers_killed_mid_run_lose_no_write_that_returned(tmp_path):
    path = tmp_path / "crash.db"
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", WRITERS, str(path),
                                                 stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    returned = {(await child.stdout.readline()).decode().strip() for _ in range(300)}
    child.send_signal(signal.SIGKILL)
    await child.wait()
    async with SqliteStore(path) as store:
        steps = {s.site for s in await store.get_steps(ORG)}
        objects = await store.get_objects(ORG, "sites")
        audited = {e.site for e in await store.list_audit(run_id="r1", limit=100_000)}
        assert returned <= steps
        assert returned <= set(objects)
        assert returned <= audited
        assert steps == set(objects) == audited  # each record_done whole or not at all
