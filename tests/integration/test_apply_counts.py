"""`apply` counts what succeeded: with 2 of 3 site groups refused by Mist, the step line says 1 applied and
2 failed, and the run's step event carries the same counts (the twin holds the one group created)."""

from __future__ import annotations

import io
import json

import httpx
from rich.console import Console

from mistctl.bootstrap import open_services
from mistctl.cli.render import ProgressPrinter
from mistctl.config import Settings
from mistctl.domain.parse import parse_fleet
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from tests.support.twin import twin_app

FLEET = """ip_plan:
  segments: [{name: mgmt, vlan: 10, prefix: 24}]
  zone_prefix: 12
  site_prefix: 22
zones: [{id: 1, name: east}]
org:
  site_groups: [{name: kept}, {name: refused-1}, {name: refused-2}]
"""


class RefusingTransport(httpx.AsyncBaseTransport):
    """The twin, except that Mist answers 400 to creating a site group whose name starts with `refused`."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/sitegroups"):
            if json.loads(request.content).get("name", "").startswith("refused"):
                return httpx.Response(400, json={"detail": "refused for the test"})
        return await self.inner.handle_async_request(request)


async def test_a_step_counts_the_changes_that_succeeded() -> None:
    app = twin_app(inventory_count=0)
    twin = app.state.twin
    out = io.StringIO()
    printer = ProgressPrinter(0, Console(file=out, width=200, highlight=False))
    store = MemoryStore()
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state="memory://")
    async with app.router.lifespan_context(app), open_services(
            settings=settings, transport=RefusingTransport(app), store=store) as svc:
        planned = await deploy.plan_fleet(svc.mist, svc.store, parse_fleet(FLEET), svc.org_id)
        run = await svc.new_run("apply", planned.plan)
        result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                            progress=printer)
    assert sorted(result.org_failed) == ["site_groups:refused-1", "site_groups:refused-2"]
    assert [g["name"] for g in twin.objects("sitegroups")] == ["kept"]
    assert "site_groups: 1 change(s) applied, 2 failed" in out.getvalue()
    steps = [e for _, e in await store.events_since(run.id) if e.get("type") == "step"]
    assert [(s["kind"], s["applied"], s["failed"]) for s in steps] == [("site_groups", 1, 2)]
