"""`SqliteStore.record_done` writes its five parts in one transaction (no nested savepoint per part): a part
that fails leaves nothing of the others, alone or inside a group commit; the object keeps its recorded owner."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from mistctl.store import AuditEntry, SqliteStore, StepRecord
from mistctl.store.models import ObjRef, RunImage, SiteState
from tests.integration.test_sqlite_group_commit import held_thread

ORG = "org-1"
pytestmark = pytest.mark.timeout(60)


def parts(site: str) -> tuple[StepRecord, ObjRef, list[AuditEntry], list[RunImage], SiteState]:
    rec = StepRecord(run_id="r1", org_id=ORG, site=site, step=1, kind="sites", key=site, status="done",
                     mist_id=f"id-{site}")
    ref = ObjRef(org_id=ORG, kind="sites", key=site, mist_id=f"id-{site}")
    audit = [AuditEntry(run_id="r1", site=site, method="POST", path="/api/v1/orgs/org-1/sites", status=200)]
    image = [RunImage(run_id="r1", org_id=ORG, kind="sites", key=site, action="create", mist_id=f"id-{site}")]
    return rec, ref, audit, image, SiteState(org_id=ORG, name=site, status="done")


async def stored(store: SqliteStore, site: str) -> dict[str, object]:
    return {
        "step": await store.get_step(ORG, site, 1, "sites", site),
        "object": (await store.get_objects(ORG, "sites")).get(site),
        "audit": await store.list_audit(site=site),
        "image": await store.get_run_image("r1", "sites", site),
        "state": await store.get_site_state(ORG, site),
    }


def refuse_state_of(path: object, site: str) -> None:
    """A trigger (from another connection) that refuses `site`'s state row: record_done's last part fails."""
    with sqlite3.connect(str(path)) as conn:
        conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON site_states WHEN NEW.name = '{site}' "
                     "BEGIN SELECT RAISE(ABORT, 'refused'); END")


async def test_a_failing_part_leaves_nothing_of_the_step_alone_and_in_a_batch(tmp_path):
    path = tmp_path / "s.db"
    async with SqliteStore(path) as store:
        await store.ping()
        refuse_state_of(path, "bad")
        rec, ref, audit, images, state = parts("bad")
        with pytest.raises(sqlite3.IntegrityError):
            await store.record_done(rec, ref, audit, images=images, state=state)
        assert await stored(store, "bad") == {"step": None, "object": None, "audit": [], "image": None,
                                              "state": None}

        release, blocker = await held_thread(store)
        batches = store._thread.batches
        calls = [asyncio.ensure_future(store.record_done(*p[:3], images=p[3], state=p[4]))
                 for p in (parts("ok-1"), parts("bad"), parts("ok-2"))]
        await asyncio.sleep(0.05)  # all three queued behind the blocker: one transaction
        release.set()
        await blocker
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert store._thread.batches == batches + 1
        assert results[0] is None and results[2] is None and isinstance(results[1], sqlite3.IntegrityError)
        assert await stored(store, "bad") == {"step": None, "object": None, "audit": [], "image": None,
                                              "state": None}
        for site in ("ok-1", "ok-2"):
            got = await stored(store, site)
            assert got["step"] is not None and got["step"].mist_id == f"id-{site}"  # type: ignore[attr-defined]
            assert got["object"] is not None and got["image"] is not None and len(got["audit"]) == 1  # type: ignore[arg-type]
            assert got["state"] is not None and got["state"].status == "done"  # type: ignore[attr-defined]


async def test_a_step_done_keeps_the_owner_recorded_and_sets_a_new_one(tmp_path):
    async with SqliteStore(tmp_path / "s.db") as store:
        await store.put_object(ORG, "sites", "a", "id-old", owner="fleet:retail")
        rec, ref, audit, _, _ = parts("a")
        await store.record_done(rec, ref, audit)  # the ref names no owner: the recorded one stays
        got = (await store.get_objects(ORG, "sites"))["a"]
        assert (got.mist_id, got.owner) == ("id-a", "fleet:retail")
        await store.record_done(rec, ref.model_copy(update={"owner": "fleet:other"}), audit)
        assert (await store.get_objects(ORG, "sites"))["a"].owner == "fleet:other"


async def test_savepoint_journals_are_kept_in_memory(tmp_path):
    async with SqliteStore(tmp_path / "s.db") as store:
        mode = await store._call(lambda conn: conn.execute("PRAGMA temp_store").fetchone()[0])
        assert mode == 2  # MEMORY: no temporary file made and deleted per group commit
