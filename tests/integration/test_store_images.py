"""The StateStore contract for before-images (`mistctl rollback`): memory, SQLite and a real redis-server."""

from __future__ import annotations

import sqlite3

import pytest

from mistctl.store import open_store
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
