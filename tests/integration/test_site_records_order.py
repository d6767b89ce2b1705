"""A site's records: the written site's before-image and its "done" state go with their steps (one store write
each, `record_done`), in order, all made before the site is reported; a write that fails stops the site before
its next Mist call and the apply fails with the store's error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from mistctl.bootstrap import open_services
from mistctl.config import Settings
from mistctl.store.errors import StoreUnavailable
from mistctl.store.memory import MemoryStore
from mistctl.store.models import AuditEntry, ObjRef, RunImage, SiteState, StepRecord
from tests.support.engine import apply, engine, example_fleet_for
from tests.support.twin import twin_app

pytestmark = pytest.mark.timeout(60)


class LoggingStore(MemoryStore):
    """The memory store, logging each site write as (what, site, detail) in the order the store got it."""

    def __init__(self, fail_step_of: str | None = None) -> None:
        super().__init__()
        self.log: list[tuple[str, str | None, str]] = []
        self.fail_step_of = fail_step_of

    async def put_site_state(self, state: SiteState) -> None:
        self.log.append(("state", state.name, state.status))
        await super().put_site_state(state)

    async def publish_event(self, run_id: str, event: Any) -> int:
        if event.get("type") == "site_done":  # what the store held for the site when it was reported
            state = self._sites[(next(iter(self._sites))[0], event["site"])]
            steps = [k for k in self._steps if k[1] == event["site"]]
            self.log.append(("reported", event["site"], f"{state.status} steps={len(steps)}"))
        return await super().publish_event(run_id, event)

    async def record_done(self, rec: StepRecord, ref: ObjRef, audit: Sequence[AuditEntry], *,
                          images: Sequence[RunImage] = (), state: SiteState | None = None) -> None:
        if rec.site is not None and rec.site == self.fail_step_of:
            raise StoreUnavailable("the state store went away (test)")
        self.log.append(("step", rec.site, f"{rec.kind} images={[i.key for i in images if i.written]}"))
        await super().record_done(rec, ref, audit, images=images, state=state)


class Recording(httpx.AsyncBaseTransport):
    """The twin in-process; the (method, path) of every request, in the order sent."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)


async def test_a_sites_records_reach_the_store_in_order_and_before_it_is_reported() -> None:
    app = twin_app(inventory_count=6)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=3)
    store = LoggingStore()
    async with app.router.lifespan_context(app), engine(app, store=store) as svc:
        _, result = await apply(svc, fleet, concurrency=2)
        run = (await store.list_runs(limit=1))[0]
    assert sorted(result.sites_done) == sorted(s.name for s in fleet.sites) and not result.sites_failed
    for site in fleet.sites:
        mine = [(what, detail) for what, name, detail in store.log if name == site.name]
        assert mine == [("state", "provisioning"), ("step", "sites images=['" + site.name + "']"),
                        ("step", "site_vars images=[]"), ("step", "devices images=[]"), ("state", "done"),
                        ("reported", "done steps=3")]  # the done state with the last step, then the report
        state = await store.get_site_state(twin.org_id, site.name)
        assert state is not None and state.status == "done" and state.site_id  # folded into the last step
        image = await store.get_run_image(run.id, "sites", site.name)
        assert image is not None and image.written and image.mist_id == state.site_id
    steps = await store.get_steps(twin.org_id, run_id=run.id)
    assert {(s.site, s.kind) for s in steps if s.site} == {
        (site.name, kind) for site in fleet.sites for kind in ("sites", "site_vars", "devices")}
    assert {(e.site, e.method) for e in await store.list_audit(run_id=run.id, limit=1000) if e.site} == {
        (site.name, m) for site in fleet.sites for m in ("POST", "PUT")}
    assert sorted(s["name"] for s in twin.objects("sites")) == sorted(s.name for s in fleet.sites)


async def test_a_failed_record_write_stops_its_site_before_the_next_call_and_fails_the_apply() -> None:
    app = twin_app(inventory_count=2)
    twin = app.state.twin
    fleet = example_fleet_for(twin, sites=1)
    name = fleet.sites[0].name
    store = LoggingStore(fail_step_of=name)
    transport = Recording(app)
    settings = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                        mistctl_state="memory://")
    async with app.router.lifespan_context(app), open_services(settings=settings, transport=transport,
                                                                store=store) as svc:
        with pytest.raises(StoreUnavailable, match="went away"):
            await apply(svc, fleet)
    assert [s["name"] for s in twin.objects("sites")] == [name]  # the site was created ...
    assert transport.sent[-1] == ("POST", f"/api/v1/orgs/{twin.org_id}/sites")  # ... and nothing sent after it
    assert [(what, detail) for what, n, detail in store.log if n == name] == [("state", "provisioning")]
