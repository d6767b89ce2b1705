"""A site job reads its site's before-image with its start (`RunBook.site_start`) and marks it written
with one write (`SiteRecords`): the image ends as `Records.wrote` leaves it (read, then written)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from mistctl.scaleout.queue import RunBook
from mistctl.scaleout.site_records import SiteRecords
from mistctl.store.models import RunImage
from mistctl.store.redis_store import RedisStore
from mistctl.workflow.records import Records

pytestmark = pytest.mark.redis


async def test_a_site_job_marks_its_image_written_as_records_do(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:")
    try:
        run_id = "run-1"
        images = [RunImage(run_id=run_id, org_id="o1", kind="sites", key=name, action=action, mist_id=mist_id,
                           before=None if action == "create" else {"id": mist_id, "name": name, "psk": "s3cret-pass"})
                  for name, action, mist_id in (("s1", "create", None), ("s2", "create", None),
                                                ("s3", "update", "id-3"), ("s4", "update", "id-4"))]
        await store.put_run_images(images)
        book = RunBook(store, run_id)
        plain = Records(store, "o1", run_id)
        for mine, theirs, answer in (("s1", "s2", {"id": "new-id", "modified_time": 1700000000}),
                                     ("s3", "s4", {"id": "id-3", "modified_time": 1700000001.5})):
            _, _, _, body = await book.site_start(mine, 60)
            assert body is not None and RunImage.model_validate_json(body).key == mine
            records = SiteRecords(store, "o1", run_id, site=mine, image=body)
            await records.wrote("sites", mine, answer)
            assert await store.get_run_image(run_id, "sites", mine) == RunImage.model_validate_json(body)  # held
            await records.write_held()
            await plain.wrote("sites", theirs, {**answer, "id": answer["id"].replace("3", "4")})
            got, want = await store.get_run_image(run_id, "sites", mine), await store.get_run_image(run_id, "sites",
                                                                                                     theirs)
            assert got is not None and want is not None
            assert got.written and got.after_modified == float(answer["modified_time"]) and got.mist_id == answer["id"]
            skip = {"key", "mist_id", "before", "recorded_at"}
            assert got.model_dump(exclude=skip) == want.model_dump(exclude=skip)
            assert (got.before is None) == (want.before is None)
        assert "s3cret-pass" not in str(await store.r.hgetall(store.keys.k("images", run_id)))
    finally:
        await store.close()


async def test_a_site_without_an_image_writes_none_and_other_kinds_go_the_usual_way(redis_url: str) -> None:
    store = RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:")
    try:
        run_id = "run-2"
        await store.put_run_images([RunImage(run_id=run_id, org_id="o1", kind="wlans", key="corp", action="update",
                                             mist_id="w1", before={"id": "w1", "ssid": "corp"})])
        _, _, _, body = await RunBook(store, run_id).site_start("s9", 60)
        assert body is None
        records = SiteRecords(store, "o1", run_id, site="s9", image=body)
        await records.wrote("sites", "s9", {"id": "x", "modified_time": 1})
        await records.write_held()
        assert await store.get_run_image(run_id, "sites", "s9") is None
        await records.wrote("wlans", "corp", {"id": "w1", "modified_time": 5})
        await records.write_held()
        wlan = await store.get_run_image(run_id, "wlans", "corp")
        assert wlan is not None and wlan.written and wlan.after_modified == 5.0
    finally:
        await store.close()


async def test_a_site_jobs_records_wait_for_its_done_mark_and_go_with_it(redis_url: str) -> None:
    """Held: the step records, the audit, the site's final state and its image; written at once: its
    "provisioning" state. The done mark sends them all in one transaction, the budget's settle with them."""
    store = RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:")
    try:
        run_id = "run-3"
        await store.put_run_images([RunImage(run_id=run_id, org_id="o1", kind="sites", key="s1", action="create")])
        book = RunBook(store, run_id)
        await book.expect(["s1"], [])
        _, _, _, body = await book.site_start("s1", 60)
        records = SiteRecords(store, "o1", run_id, site="s1", image=body, owner="team-a")
        await records.site_status("s1", "provisioning", site_id=None)
        assert (await store.get_site_state("o1", "s1")).status == "provisioning"  # type: ignore[union-attr]
        await records.wrote("sites", "s1", {"id": "site-1", "modified_time": 7})
        await records.step_done("s1", 1, "sites", "s1", "site-1", "h1")
        await records.step_done("s1", 1, "site_vars", "s1", "site-1", "h2")
        await records.step_failed("s1", 2, "devices", "s1", "no such device")
        await records.site_status("s1", "failed", site_id="site-1", failed_step=2, error="no such device")
        assert await store.get_steps("o1") == []
        assert (await store.get_site_state("o1", "s1")).status == "provisioning"  # type: ignore[union-attr]
        assert not (await store.get_run_image(run_id, "sites", "s1")).written  # type: ignore[union-attr]

        added, last, finished = await book.mark_done("s1", "w1", "step 2: no such device", {"sites_failed": 1},
                                                     {"type": "site_failed", "site": "s1"}, records.take())
        assert (added, last, finished) == (True, False, False)  # not enqueued: not the last; no job given
        steps = {(r.kind, r.status, r.applied_hash) for r in await store.get_steps("o1")}
        assert steps == {("sites", "done", "h1"), ("site_vars", "done", "h2"), ("devices", "failed", None)}
        objects = await store.get_objects("o1", "sites")
        assert objects["s1"].mist_id == "site-1" and objects["s1"].owner == "team-a"
        state = await store.get_site_state("o1", "s1")
        assert state is not None and (state.status, state.failed_step) == ("failed", 2)
        image = await store.get_run_image(run_id, "sites", "s1")
        assert image is not None and image.written and image.mist_id == "site-1"
        assert await book.failures() == {"s1": "step 2: no such device"}
        assert records.take() == []
    finally:
        await store.close()


async def test_the_provisioning_state_goes_with_the_jobs_budget_batch(redis_url: str) -> None:
    """A job that takes a budget batch sends its "provisioning" state in that round trip (before its first
    Mist call, as before); once sent, such states are written at once again."""
    from mistctl.mist import ManualClock
    from mistctl.mist.budget_batch import JobBudget
    from mistctl.mist.budget_redis import RedisCallBudget

    store = RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:")
    try:
        clock = ManualClock(3600 * 9 + 5)
        shared = RedisCallBudget(store.r, clock, prefix=store.keys.prefix, limit=100, headroom=0)
        records = SiteRecords(store, "o1", "run-4", site="s1", image=None)
        budget = JobBudget(shared, clock, 3, send=records.held.send_early)
        assert budget.batching
        records.held.hold_early()
        await records.site_status("s1", "provisioning")
        assert await store.get_site_state("o1", "s1") is None  # waits for the batch's round trip
        assert await budget.reserve("tok") == 0.0
        state = await store.get_site_state("o1", "s1")
        assert state is not None and state.status == "provisioning"
        assert (await shared.state("tok")).used == 3
        await records.site_status("s2", "provisioning")  # after it: at once
        assert await store.get_site_state("o1", "s2") is not None
        assert records.take() == []
    finally:
        await store.close()


async def test_a_batch_is_merged_per_key_yet_ends_as_the_writes_one_by_one_would(redis_url: str) -> None:
    """The last record of one identity wins, the audit keeps its order, the site states move in order."""
    from mistctl.store.models import AuditEntry, ObjRef, SiteState, StepRecord
    from mistctl.store.redis_batch import HeldWrites, write_batch

    async def write(store: RedisStore, batched: bool) -> tuple[object, ...]:
        target = HeldWrites(store, now=()) if batched else store
        for i, status in enumerate(("failed", "done")):
            rec = StepRecord(run_id="r", org_id="o1", site="s1", step=1, kind="sites", key="s1", status=status,
                             mist_id=f"id-{i}")
            entry = AuditEntry(run_id="r", site="s1", method="POST", path=f"/sites/{i}", status=200)
            await target.record_done(rec, ObjRef(org_id="o1", kind="sites", key="s1", mist_id=f"id-{i}",
                                                 owner=f"team-{i}"), [entry])
            await target.append_audit_batch([entry.model_copy(update={"path": f"/left/{i}"})])
            await target.put_site_state(SiteState(org_id="o1", name="s1", status=("provisioning", status)[i]))
        if isinstance(target, HeldWrites):
            await write_batch(store, target.take())
        def fields(model: Any) -> dict[str, Any]:  # not the times the records were made
            return {k: v for k, v in model.model_dump().items() if not k.endswith("_at")}

        return ([fields(r) for r in await store.get_steps("o1")],
                {k: fields(v) for k, v in (await store.get_objects("o1", "sites")).items()},
                [e.path for e in await store.list_audit(run_id="r")],
                await store.count_site_states_by_status("o1"),
                (await store.get_site_state("o1", "s1")).status)  # type: ignore[union-attr]

    one, batch = (RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:") for _ in range(2))
    try:
        expected, got = await write(one, batched=False), await write(batch, batched=True)
        assert got == expected
        assert expected[4] == "done" and len(expected[2]) == 4
    finally:
        await one.close()
        await batch.close()


async def test_a_held_record_done_keeps_the_image_and_the_site_state_it_was_given(redis_url: str) -> None:
    """`Records.step_done` hands the site's "done" state (and a written image) to `record_done`: held for the
    done mark, they end in Redis as the store's own `record_done` leaves them."""
    from mistctl.store.models import ObjRef, RunImage, SiteState, StepRecord
    from mistctl.store.redis_batch import HeldWrites, write_batch

    async def write(store: RedisStore, batched: bool) -> tuple[object, ...]:
        target = HeldWrites(store, now=()) if batched else store
        rec = StepRecord(run_id="r", org_id="o1", site="s1", step=2, kind="devices", key="s1", status="done",
                         mist_id="site-1")
        image = RunImage(run_id="r", org_id="o1", kind="sites", key="s1", action="create", mist_id="site-1")
        await target.record_done(rec, ObjRef(org_id="o1", kind="devices", key="s1", mist_id="site-1"), [],
                                 images=[image], state=SiteState(org_id="o1", name="s1", status="done"))
        if isinstance(target, HeldWrites):
            assert await store.get_site_state("o1", "s1") is None  # held for the done mark
            await write_batch(store, target.take())
        state = await store.get_site_state("o1", "s1")
        got = await store.get_run_image("r", "sites", "s1")
        return (len(await store.get_steps("o1")), state.status if state else None, got.mist_id if got else None)

    one, batch = (RedisStore.from_url(redis_url, prefix=f"sr-{uuid4().hex[:8]}:") for _ in range(2))
    try:
        expected, got = await write(one, batched=False), await write(batch, batched=True)
        assert got == expected == (1, "done", "site-1")
    finally:
        await one.close()
        await batch.close()
