"""Helpers to drive the plan/apply engine against a twin in-process, and to check the twin's state."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from mistctl.bootstrap import Services, open_services
from mistctl.config import Settings
from mistctl.domain import kinds as K
from mistctl.domain.desired import natural_key
from mistctl.domain.fleet import DeviceRef, Fleet
from mistctl.domain.ipplan import site_variables
from mistctl.fleetio import load_fleet
from mistctl.mist.clock import Clock
from mistctl.store.memory import MemoryStore
from mistctl.store.port import StateStore
from mistctl.workflow import deploy
from mistctl.workflow.apply import ApplyResult

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"


def example_fleet_for(twin: Any, *, sites: int | None = None, claim_per_site: int = 1) -> Fleet:
    """The example fleet with its devices replaced by claim codes of the twin's pool (and no org_id)."""
    fleet = load_fleet(EXAMPLE)
    pool = iter(d["claim_code"] for d in twin.devices() if not d.get("claimed"))
    chosen = fleet.sites[:sites] if sites is not None else fleet.sites
    new_sites = [
        s.model_copy(update={"devices": [DeviceRef(claim_code=next(pool)) for _ in range(claim_per_site)]})
        for s in chosen
    ]
    return fleet.model_copy(update={"sites": new_sites, "org_id": None})


@asynccontextmanager
async def engine(app: Any, *, store: StateStore | None = None, clock: Clock | None = None,
                 concurrency: int = 8, **settings: Any) -> AsyncIterator[Services]:
    """Services wired to a twin app in-process (memory store unless given)."""
    twin = app.state.twin
    conf = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                    mistctl_state="memory://", **settings)
    async with open_services(settings=conf, transport=httpx.ASGITransport(app=app),
                             store=store or MemoryStore(), clock=clock, concurrency=concurrency) as svc:
        yield svc


async def apply(svc: Services, fleet: Fleet, *, concurrency: int = 8) -> tuple[deploy.Planned, ApplyResult]:
    """Plan and apply a fleet the way `mistctl apply --yes` does."""
    planned = await deploy.plan_fleet(svc.mist, svc.store, fleet, svc.org_id, concurrency=concurrency)
    deploy.check_problems(planned.plan)
    run = await svc.new_run("apply", planned.plan)
    result = await deploy.apply_planned(svc.mist, svc.store, planned, ledger=svc.ledger, run=run,
                                        concurrency=concurrency)
    return planned, result


def _names(twin: Any, kind: K.Kind) -> Counter[str]:
    objs = twin.objects(kind.collection)
    if kind is K.HUB_PROFILES:
        objs = [o for o in objs if o.get("type") == "gateway"]
    templates = {o["id"]: o["name"] for o in twin.objects(K.WLAN_TEMPLATES.collection)}
    return Counter(natural_key(kind, o, templates.get(o.get("template_id"))) for o in objs)


def assert_twin_matches(twin: Any, fleet: Fleet) -> None:
    """Every intended object exactly once; sites bound, variables set, devices assigned."""
    for kind in K.ORG_KINDS:
        entries = getattr(fleet.org, kind.key)
        wanted = Counter(natural_key(kind, e, e.get("template")) for e in entries)
        live = _names(twin, kind)
        assert {k: live[k] for k in wanted} == wanted, f"{kind.key}: live {dict(live)} != {dict(wanted)}"
    sites = {s["name"]: s for s in twin.objects("sites")}
    assert Counter(s["name"] for s in twin.objects("sites")) == Counter(s.name for s in fleet.sites)
    ids = {k.key: {o["name"]: o["id"] for o in twin.objects(k.collection) if "name" in o} for k in K.ORG_KINDS}
    settings = {s["site_id"]: s for s in twin.objects("site_settings") if "site_id" in s}
    inventory = twin.inventory()
    for site in fleet.sites:
        live = sites[site.name]
        assert sorted(live.get("sitegroup_ids") or []) == sorted(ids["site_groups"][g] for g in site.site_groups)
        if site.gateway_template:
            assert live["gatewaytemplate_id"] == ids["gateway_templates"][site.gateway_template]
        if site.switch_template:
            assert live["networktemplate_id"] == ids["switch_templates"][site.switch_template]
        setting = settings.get(live["id"]) or {}
        assert setting.get("vars") == site_variables(fleet, site), site.name
        codes = {d.claim_code for d in site.devices if d.claim_code}
        assigned = {d.get("magic") for d in inventory if d.get("site_id") == live["id"]}
        assert codes <= assigned, f"{site.name}: {codes - assigned} not assigned"
