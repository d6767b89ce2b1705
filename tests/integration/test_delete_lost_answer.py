"""A DELETE whose answer was lost is looked up before it is tried again (never a blind retry)."""

from __future__ import annotations

import pytest

from mistctl.mist.errors import MistError
from mistctl.workflow.delete import delete_checked
from tests.support.engine import engine
from tests.support.twin import twin_app


async def test_a_dropped_delete_answer_is_looked_up_and_counts_as_done() -> None:
    app = twin_app()
    twin = app.state.twin
    async with engine(app) as svc:
        label = await svc.mist.create_org(svc.org_id, "wxtags", {"name": "old", "type": "match",
                                                                 "match": "ip_range_subnet", "op": "in",
                                                                 "values": ["10.0.0.0/8"]})
        twin.counters.reset()
        twin.knobs.drop_rate = 1.0  # the DELETE is performed, its answer lost
        await delete_checked(svc.mist, svc.org_id, "labels", label["id"])
        twin.knobs.drop_rate = 0.0
    routes = twin.counters.snapshot()["by_route"]
    assert routes == {"DELETE /api/v1/orgs/{org_id}/wxtags/{wxtag_id}": 1,
                      "GET /api/v1/orgs/{org_id}/wxtags/{wxtag_id}": 1}
    assert twin.objects("wxtags") == []


async def test_a_delete_answered_5xx_is_never_retried_blindly() -> None:
    app = twin_app()
    twin = app.state.twin
    async with engine(app, mist_max_attempts=1) as svc:
        site = await svc.mist.create_org(svc.org_id, "sites", {"name": "S1"})
        twin.counters.reset()
        twin.knobs.fault_rate = 1.0  # every call a 5xx: never performed
        with pytest.raises(MistError):  # the look-up failed too: the delete fails, the next apply resolves it
            await delete_checked(svc.mist, svc.org_id, "sites", site["id"])
        twin.knobs.fault_rate = 0.0
    routes = twin.counters.snapshot()["by_route"]
    assert routes == {"DELETE /api/v1/sites/{site_id}": 1, "GET /api/v1/sites/{site_id}": 1}
    assert [s["id"] for s in twin.objects("sites")] == [site["id"]]
