"""A site job reads its site's before-image with its start (`RunBook.site_start`) and marks it written
with one write (`SiteRecords`): the image ends as `Records.wrote` leaves it (read, then written)."""

from __future__ import annotations

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
