"""`RedisStore.set_run_fields`: `update_run` for the queue's workers, without reading the run (and its
plan) back; the same checks: an unknown run or a field that may not change is refused, nothing written."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import orjson
import pytest

from mistctl.store.errors import RecordNotFound, RecordRejected
from mistctl.store.models import Run, RunPatch, utcnow
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


def _as_before(plan: dict[str, Any]) -> str:
    """The plan field as the store wrote it before orjson: pydantic's JSON mode, then `json.dumps`."""
    patch = RunPatch.model_validate({"plan": plan})
    return json.dumps(patch.model_dump(mode="json", include={"plan"})["plan"], separators=(",", ":"))


async def test_a_plan_is_stored_as_the_same_json_value_and_odd_values_the_pydantic_way(redis_url: str) -> None:
    """A plain plan (as `Plan.to_json` makes it) is encoded by orjson: the same JSON value as before (non-ASCII
    text unescaped), secrets still redacted; a plan holding what JSON has no plain form for (a datetime, a set,
    an integer past 64 bits) is stored exactly as before."""
    store = RedisStore.from_url(redis_url, prefix=f"srf-{uuid4().hex[:8]}:")
    try:
        run = await store.create_run(Run(kind="apply", org_id="o1", fleet_hash="h"))
        key = store.keys.k("run", run.id)
        plain = {"format": 1, "created_at": 1764700000.25, "changes": [
            {"kind": "sites", "key": "Zürich-1", "body": {"name": "Zürich-1", "latlng": {"lat": 47.4, "lng": 8.5},
                                                          "psk": "secret-passphrase", "vars": [1, None, True]},
             "diff": {"name": [None, "Zürich-1"]}, "mist_id": None, "calls": 2}], "nan": float("nan")}
        await store.set_run_fields(run.id, plan=plain, status="running")
        stored = await store.r.hget(key, "plan")
        assert stored is not None and "Zürich-1" in stored and "secret-passphrase" not in stored
        assert json.loads(stored) == json.loads(_as_before(plain))
        assert json.loads(await store.r.hget(key, "status") or "") == "running"
        got = await store.get_run(run.id)
        assert got is not None and got.plan["changes"][0]["body"]["psk"] == "<redacted>"
        for odd in ({"at": utcnow()}, {"codes": {"a"}}, {"big": 2**70}):
            await store.set_run_fields(run.id, plan={**plain, **odd})
            assert await store.r.hget(key, "plan") == _as_before({**plain, **odd})  # to the character
        await store.set_run_fields(run.id, plan={**plain, "t": (1, "x")})  # a tuple is plain: a JSON array
        same = orjson.dumps(json.loads(_as_before({**plain, "t": (1, "x")}))).decode()
        assert await store.r.hget(key, "plan") == same
    finally:
        await store.close()
