"""The StateStore contract for before-images (`mistctl rollback`): memory, SQLite and a real redis-server."""

from __future__ import annotations

import sqlite3

import pytest

from mistctl.store import AuditEntry, ObjRef, SiteState, open_store
from mistctl.store.models import RunImage
from mistctl.store.sqlite_schema import SCHEMA_VERSION
from tests.integration import test_store_contract as contract
from tests.integration.test_store_contract import ORG, PASSPHRASE

store_url = contract.store_url  # the contract suite's fixtures: memory, SQLite and a real redis-server
store = contract.store

pytestmark = pytest.mark.timeout(60)


def an_image(key: str, action: str = "update", **fields) -> RunImage:
    return RunImage(**{"run_id": "r1", "org_id": ORG, "kind": "wlans", "key": key, "action": action, **fields})


async def test_images_keep_their_first_order_and_upsert_by_identity(store):
    await store.put_run_images([an_image("b", before={"ssid": "b"}), an_image("a", "create")])
    await store.put_run_images([an_image("c", "delete", before={"ssid": "c"})])
    await store.put_run_images([an_image("b", before={"ssid": "b"}, written=True, after_modified=7, mist_id="x")])
    got = await store.get_run_images("r1")
    assert [(i.key, i.action) for i in got] == [("b", "update"), ("a", "create"), ("c", "delete")]
    b = await store.get_run_image("r1", "wlans", "b")
    assert (b.written, b.after_modified, b.mist_id, b.before) == (True, 7, "x", {"ssid": "b"})
    assert await store.get_run_image("r1", "wlans", "zz") is None
    assert await store.get_run_images("other") == []


async def test_many_images_in_one_write_keep_the_lists_order_and_the_last_body_of_one_identity(store):
    """A deploy job writes one image per site in one call: their order is the list's (not their names'),
    and an identity given twice keeps its first place and its last body."""
    keys = [f"k{n}" for n in (5, 3, 9, 1, 7, 2, 8, 0, 6, 4)] * 30  # 300 images, 10 identities, each 30 times
    await store.put_run_images([an_image(k, before={"ssid": k, "n": i}) for i, k in enumerate(keys)])
    got = await store.get_run_images("r1")
    assert [i.key for i in got] == keys[:10]
    assert [i.before["n"] for i in got] == list(range(290, 300))


async def test_record_done_writes_the_written_image_and_the_site_state_with_the_step(store):
    await store.put_run_images([an_image("a", "create"), an_image("b", before={"ssid": "b"})])
    rec = contract.a_step(site="store-001", key="store-001", status="done", mist_id="m-1", applied_hash="h1")
    ref = ObjRef(org_id=ORG, kind="sites", key="store-001", mist_id="m-1", applied_hash="h1", owner="fleet:f")
    audit = [AuditEntry(run_id="r1", site="store-001", method="POST", path=f"/api/v1/orgs/{ORG}/sites",
                        kind="sites", name="store-001", status=200, actor="cli", mist_id="m-1")]
    written = an_image("a", "create", mist_id="m-1", written=True, after_modified=12.5)
    done = SiteState(org_id=ORG, name="store-001", status="done", site_id="m-1", last_run_id="r1",
                     ip_plan={"supernet": "10.0.0.0/8"}, zone="1", number=2)
    await store.record_done(rec, ref, audit, images=[written], state=done)
    await store.record_done(contract.a_step(key="vars", status="done", mist_id="m-1"), ref, [])  # neither: kept
    assert [(s.key, s.status) for s in await store.get_steps(ORG, site="store-001")] == [
        ("store-001", "done"), ("vars", "done")]
    assert (await store.get_objects(ORG, "sites"))["store-001"].owner == "fleet:f"
    assert [(e.name, e.mist_id) for e in await store.list_audit(run_id="r1")] == [("store-001", "m-1")]
    got = await store.get_run_images("r1")
    assert [(i.key, i.written, i.mist_id, i.after_modified) for i in got] == [
        ("a", True, "m-1", 12.5), ("b", False, None, None)]  # updated in place: the first order is kept
    state = await store.get_site_state(ORG, "store-001")
    assert state is not None and (state.status, state.site_id, state.ip_plan) == ("done", "m-1", done.ip_plan)


async def test_a_before_image_never_holds_a_passphrase(store, store_url, tmp_path):
    body = {"ssid": "corp", "auth": {"type": "psk", "psk": PASSPHRASE}, "passphrase": PASSPHRASE}
    await store.put_run_images([an_image("corp", before=body)])
    got = await store.get_run_image("r1", "wlans", "corp")
    assert got.before["ssid"] == "corp"
    assert PASSPHRASE not in got.model_dump_json() and PASSPHRASE not in repr(got)
    if store_url.startswith("sqlite"):
        raw = (tmp_path / "state" / "state.db").read_bytes()
        wal = tmp_path / "state" / "state.db-wal"
        assert PASSPHRASE.encode() not in raw + (wal.read_bytes() if wal.exists() else b"")


async def test_a_state_file_from_before_images_is_migrated(tmp_path):
    path2 = tmp_path / "v2.db"
    async with open_store(f"sqlite:///{path2}") as fresh:  # a new file is made at the current version
        await fresh.put_run_images([an_image("a", "create")])
    conn = sqlite3.connect(path2)
    assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
    conn.execute("DROP TABLE run_images")
    conn.execute("DROP TABLE sle_checks")
    conn.execute("UPDATE meta SET value = '3'")  # version 3: owners, no before-images (4) nor SLE history (5)
    conn.commit()
    conn.close()
    async with open_store(f"sqlite:///{path2}") as migrated:
        assert await migrated.get_run_images("r1") == []
        await migrated.put_run_images([an_image("a", "create")])
        assert len(await migrated.get_run_images("r1")) == 1
