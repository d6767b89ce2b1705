"""A queued run's deletes when its `finish` job runs twice: a real redis-server, arq's `Worker`, the twin in-process.

The first try of `finish` unassigned the removed store's devices and deleted the WLAN, then its worker
died. The retry makes only what is left (the site's DELETE), forgets the WLAN, and ends the org equal to
the fleet; a run queued without consent deletes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mistctl.domain.fleet import Fleet
from mistctl.scaleout.jobs import deploy
from mistctl.scaleout.queue import RunBook
from mistctl.store.models import Run
from mistctl.workflow.delete import DeleteConsent
from mistctl.workflow.deploy import CallLedger, fleet_hash
from tests.e2e.test_workers_queue import Harness, harness  # noqa: F401 (the fixture)
from tests.support.engine import assert_twin_matches, example_fleet_for

pytestmark = pytest.mark.redis
CONSENT = DeleteConsent(allow_delete=True, release_devices=True)


def _smaller(fleet: Fleet) -> Fleet:
    """Without its last store and the WLAN Store-Guest."""
    org = fleet.org.model_copy(update={"wlans": [w for w in fleet.org.wlans if w["ssid"] != "Store-Guest"]})
    return fleet.model_copy(update={"sites": fleet.sites[:-1], "org": org})


async def _queued(h: Harness, fleet: Fleet, consent: DeleteConsent | None) -> Run:
    """A recorded run whose book holds the fleet and the consent; its deploy job run by hand, the rest queued."""
    run = await h.store.create_run(Run(kind="apply", org_id=h.twin.org_id, fleet_hash=fleet_hash(fleet)))
    await RunBook(h.store, run.id).create(fleet, h.state.tokens, saved=None, concurrency=4, consent=consent)
    async with h.ctx(f"deploy:{run.id}") as ctx:
        await deploy(ctx, run.id)
    return run


def _writes(h: Harness, before: dict[str, int]) -> dict[str, int]:
    spent = Counter(h.twin.counters.snapshot()["by_route"]) - Counter(before)
    return {route: n for route, n in spent.items() if not route.startswith("GET")}


async def test_a_finish_job_run_twice_deletes_only_what_its_first_try_left(harness: Harness) -> None:  # noqa: F811
    h = harness
    fleet = example_fleet_for(h.twin, sites=3, claim_per_site=2)
    await _queued(h, fleet, None)
    await h.drain()
    smaller = _smaller(fleet)
    gone = fleet.sites[-1].name
    site_id = next(s["id"] for s in h.twin.objects("sites") if s["name"] == gone)
    macs = sorted(d["mac"] for d in h.twin.inventory() if d.get("site_id") == site_id)
    assert len(macs) == 2

    before = h.twin.counters.snapshot()["by_route"]
    kept = await _queued(h, smaller, None)
    await h.drain()
    assert not any(r.startswith("DELETE") for r in _writes(h, before))  # no consent: nothing deleted
    assert gone in {s["name"] for s in h.twin.objects("sites")}
    ended = await h.store.get_run(kept.id)
    assert ended is not None and ended.status == "completed", ended

    run = await _queued(h, smaller, CONSENT)
    mist = h.state.client(CallLedger())  # what the first try of `finish` did before its worker died
    await mist.unassign_inventory(h.twin.org_id, macs)
    wlan = next(w for w in h.twin.objects("wlans") if w["ssid"] == "Store-Guest")
    await mist.delete_org(h.twin.org_id, "wlans", wlan["id"])
    before = h.twin.counters.snapshot()["by_route"]
    await h.drain()  # the site jobs, then `finish` (its second try, as far as the org can tell)

    assert _writes(h, before) == {"DELETE /api/v1/sites/{site_id}": 1}
    ended = await h.store.get_run(run.id)
    assert ended is not None and ended.status == "completed", ended
    assert (ended.counts.get("deleted"), ended.counts.get("writes")) == (1, 1)
    assert_twin_matches(h.twin, smaller)
    assert "Store-Guest" not in {w["ssid"] for w in h.twin.objects("wlans")}
    assert all(not d.get("site_id") for d in h.twin.inventory() if d["mac"] in macs)
    assert "store-wifi/Store-Guest" not in await h.store.get_objects(h.twin.org_id, "wlans")
    state = await h.store.get_site_state(h.twin.org_id, gone)
    assert state is not None and state.status == "decommissioned"
    steps: list[Any] = [s for s in await h.store.get_steps(h.twin.org_id) if s.kind.startswith("delete:")]
    assert {(s.kind, s.key, s.status) for s in steps} >= {("delete:sites", gone, "done"),
                                                          ("delete:wlans", "store-wifi/Store-Guest", "done")}
