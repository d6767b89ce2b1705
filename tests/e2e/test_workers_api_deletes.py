"""The service on Redis: `POST /deployments` with `allow_delete` is queued, and a worker makes its deletes.

A real redis-server; the service and arq's `Worker` (burst mode) in-process on one twin. Queued without
consent the store and the WLAN stay; with `allow_delete` and `release_devices` the worker deletes them.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from mistctl.config import Settings
from mistctl.scaleout.worker import create_worker, open_worker_state
from mistctl.store.factory import open_store
from tests.integration.test_api_deletes import _without_store_2_and_a_wlan as without_store_2_and_a_wlan
from tests.integration.test_api_fleet import small_fleet
from tests.integration.test_api_support import Harness, service

pytestmark = pytest.mark.redis


async def _deploy_on_worker(svc: Harness, url: str, body: dict[str, Any]) -> Any:
    """POST /deployments (queued for the workers: 202), then one worker drains the queue; the run as it ended."""
    accepted = await svc.client.post("/deployments", json=body, headers=svc.key)
    assert accepted.status_code == 202, accepted.text
    assert await svc.store.r.exists(f"arq:job:deploy:{accepted.json()['id']}")  # type: ignore[attr-defined]
    settings = Settings(mist_host="http://twin", mist_apitoken=svc.twin.token, mist_org_id=svc.org_id,
                        mistctl_state=url)
    async with open_worker_state(settings, lease=2.0, transport=httpx.ASGITransport(app=svc.twin_app)) as state:
        worker = create_worker(state, jobs=4, burst=True, handle_signals=False)
        try:
            await worker.async_run()
        finally:
            await worker.close()
    return await svc.store.get_run(accepted.json()["id"])


async def test_a_queued_deployment_deletes_on_the_worker_only_with_allow_delete(redis_url: str) -> None:
    url = f"{redis_url}?prefix=ad-{uuid4().hex[:8]}:"
    async with open_store(url) as store, service(store=store) as svc:
        fleet = small_fleet(svc)
        run = await _deploy_on_worker(svc, url, {"fleet": fleet})
        assert run is not None and run.status == "completed", run
        smaller = without_store_2_and_a_wlan(fleet)
        wlans = len(svc.twin.objects("wlans"))

        kept = await _deploy_on_worker(svc, url, {"fleet": smaller})
        assert kept is not None and kept.status == "completed", kept
        assert "Store-2" in {s["name"] for s in svc.twin.objects("sites")} and len(svc.twin.objects("wlans")) == wlans

        done = await _deploy_on_worker(svc, url, {"fleet": smaller, "allow_delete": True, "release_devices": True})
        assert done is not None and done.status == "completed", done
        assert [s["name"] for s in svc.twin.objects("sites")] == ["Store-1"]
        assert len(svc.twin.objects("wlans")) == wlans - 2
        assert done.counts.get("deleted") == 3
        state = await svc.store.get_site_state(svc.org_id, "Store-2")
        assert state is not None and state.status == "decommissioned"
        audit = await svc.store.list_audit(run_id=done.id)
        assert sorted(a.method for a in audit if a.method == "DELETE") == ["DELETE"] * 3
        again = (await svc.client.post("/plans", json={"fleet": smaller}, headers=svc.key)).json()
        assert again["changes"] == []
