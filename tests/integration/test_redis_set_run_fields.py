"""`RedisStore.set_run_fields`: `update_run` for the queue's workers, without reading the run (and its
plan) back; the same checks: an unknown run or a field that may not change is refused, nothing written."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mistctl.store.errors import RecordNotFound, RecordRejected
from mistctl.store.models import Run, utcnow
from mistctl.store.redis_store import RedisStore

pytestmark = pytest.mark.redis


async def test_set_run_fields_writes_what_update_run_writes(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"srf-{uuid4().hex[:8]}:")
    try:
        a = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h"))
        b = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h"))
        plan = {"changes": [{"kind": "sites", "key": f"s{i}", "psk": "secret-passphrase"} for i in range(3)]}
        when = utcnow()
        changes = {"status": "running", "started_at": when, "plan": plan, "error": "step 1: boom"}
        assert await store.set_run_fields(a.id, **changes) is None
        await store.update_run(b.id, **changes)
        got_a, got_b = await store.get_run(a.id), await store.get_run(b.id)
        assert got_a is not None and got_b is not None
        assert got_a.model_dump(exclude={"id", "created_at"}) == got_b.model_dump(exclude={"id", "created_at"})
        assert got_a.status == "running" and got_a.started_at == when
        assert "secret-passphrase" not in str(await store.r.hgetall(store.keys.k("run", a.id)))
    finally:
        await store.close()


async def test_set_run_fields_refuses_an_unknown_run_and_a_bad_field(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"srf-{uuid4().hex[:8]}:")
    try:
        with pytest.raises(RecordNotFound, match="run nope not found"):
            await store.set_run_fields("nope", status="running")
        assert await store.r.exists(store.keys.k("run", "nope")) == 0
        run = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h"))
        with pytest.raises(RecordRejected, match="cannot update"):
            await store.set_run_fields(run.id, status="running", kind="rollback")
        got = await store.get_run(run.id)
        assert got is not None and got.status == run.status and got.kind == "apply"
    finally:
        await store.close()
