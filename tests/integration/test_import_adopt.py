"""Import then apply, in-process: the first apply adopts the imported objects (state store records,
site states `done`) with 0 Mist writes, and adopting again records nothing new."""

from __future__ import annotations

import yaml

from mistctl.domain import kinds as K
from mistctl.domain.fleet_writer import build_fleet
from mistctl.domain.parse import parse_fleet
from mistctl.store.memory import MemoryStore
from mistctl.workflow import deploy
from mistctl.workflow.adopt import adopt_unchanged
from mistctl.workflow.importer import read_org
from tests.support.brownfield import SECRETS, build_org
from tests.support.engine import engine
from tests.support.twin import twin_app, twin_client


def _writes(app: object) -> int:
    routes = app.state.twin.counters.snapshot()["by_route"]  # type: ignore[attr-defined]
    return sum(n for r, n in routes.items() if not r.startswith("GET "))


async def test_import_then_adopt_records_everything_without_a_write() -> None:
    app = twin_app(seed=5, device_count=20)
    codes = [d["claim_code"] for d in app.state.twin.devices() if not d.get("claimed")]
    async with twin_client(app) as client:
        built = await build_org(client, app.state.twin.org_id, codes, sites=8, irregular=2)
    writes_before = _writes(app)
    store = MemoryStore()
    async with engine(app, store=store) as svc:
        live = await read_org(svc.mist, svc.org_id)
        # the token's owner (GET /self), one list per kind and the inventory, one setting per site
        assert svc.mist.calls.total == 1 + 14 + 8
        fleet = parse_fleet(yaml.safe_dump(build_fleet(live).fleet), env=SECRETS)
        planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id)
        assert planned.plan.is_empty()
        adopted = await adopt_unchanged(store, planned)
        assert await adopt_unchanged(store, planned) == 0
    assert _writes(app) == writes_before
    org_id = app.state.twin.org_id
    sites = await store.get_objects(org_id, K.SITES.key)
    assert set(sites) == set(built.regular) | set(built.irregular)
    assert {k: v.applied_hash for k, v in sites.items()} == {n: d.site.hash() for n, d in planned.desired.sites.items()}
    wlans = await store.get_objects(org_id, K.WLANS.key)
    assert list(wlans) == ["store-wifi/Store-Corp"]
    assert wlans["store-wifi/Store-Corp"].mist_id == app.state.twin.store.all("wlans")[0]["id"]
    states = await store.list_site_states(limit=100)
    assert {s.name for s in states if s.status == "done"} == set(sites)
    placed = {s.name: s.zone for s in states}
    assert placed["Store-0001"] == "1" and placed[built.irregular[0]] is None
    objects = sum(len(v) for v in planned.desired.org.values())
    assert adopted == objects + 2 * len(sites)  # org objects, then each site and its variables
    runs = await store.list_runs()
    assert runs[0].kind == "adopt" and runs[0].status == "completed" and runs[0].counts["writes"] == 0
