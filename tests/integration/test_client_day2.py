"""The client's Day 2 methods against the twin: in-process (ASGI, one shared manual clock) and over
HTTP (a twin process with a short upgrade time). Assertions read what the twin holds."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import (
    BadRequest,
    ManualClock,
    MistClient,
    NotFound,
    OutcomeUnknown,
    SystemClock,
    build_http_client,
)
from mistctl.mist.models_day2 import (
    FAMILY_OF_DEVICE_TYPE,
    ORG_SLE_KEYS,
    SITE_METRIC_OF,
    FirmwareUpdate,
    SiteUpgrade,
)
from tests.support.day2 import AP, SWITCH, add_site
from tests.support.twin import running_twin, twin_app, twin_transport

GOOD, BAD = "0.14.29850", "0.14.29633"
FW = FirmwareUpdate()  # no update yet: not finished


@dataclass
class Rig:
    client: MistClient
    control: httpx.AsyncClient  # the twin with the admin token: setup and /__twin/ control
    clock: ManualClock
    org: str


@asynccontextmanager
async def in_process(upgrade_seconds: float = 30) -> AsyncIterator[Rig]:
    clock = ManualClock()
    app = twin_app(clock=clock.now, device_count=0, upgrade_seconds=upgrade_seconds)
    token = app.state.twin.token
    async with (
        app.router.lifespan_context(app),
        build_http_client("http://twin", transport=twin_transport(app)) as http,
        httpx.AsyncClient(
            transport=twin_transport(app), base_url="http://twin", headers={"Authorization": f"Token {token}"}
        ) as control,
    ):
        client = MistClient(http, token, clock=clock, rng=random.Random(1))
        yield Rig(client, control, clock, app.state.twin.org_id)


async def inventory_versions(control: httpx.AsyncClient, org: str) -> dict[str, str]:
    return {r["mac"]: r["version"] for r in (await control.get(f"/api/v1/orgs/{org}/inventory")).json()}


async def test_org_sle_follows_every_page_and_agrees_with_site_summaries() -> None:
    async with in_process() as rig:
        sites = [
            (await add_site(rig.control, rig.org, f"s{n}", [AP, SWITCH], tag=n + 1))[0] for n in range(5)
        ]
        await rig.control.put(f"/__twin/sle/{sites[3]}", json={"coverage": 0.42})
        before = rig.client.calls.total
        wifi = await rig.client.get_org_sites_sle(rig.org, "wifi", limit=2, duration="1d")
        assert rig.client.calls.total - before == 3  # pages of 2, 2 and 1
        assert [row.site_id for row in wifi] == sites
        assert set(wifi[0].metrics) == set(ORG_SLE_KEYS["wifi"])
        assert wifi[3].metrics["coverage"] == 0.42 and (wifi[0].model_extra or {})["num_aps"] == 1
        wired = await rig.client.get_org_sites_sle(rig.org, "wired")
        assert set(wired[0].metrics) == set(ORG_SLE_KEYS["wired"])
        for key in ("coverage", "successful-connect"):
            summary = await rig.client.get_site_sle_summary(sites[3], SITE_METRIC_OF[key], duration="2h")
            assert summary.value == pytest.approx(wifi[3].metrics[key], abs=1e-4)
            assert summary.sle.interval == 600 and len(summary.sle.samples.value) == 12
        metrics = await rig.client.list_site_sle_metrics(sites[0])
        assert {SITE_METRIC_OF[k] for k in ORG_SLE_KEYS["wan"]} <= set(metrics.enabled)


async def test_an_upgrade_is_started_watched_and_lands_on_the_device() -> None:
    async with in_process(upgrade_seconds=30) as rig:
        site, (ap, switch) = await add_site(rig.control, rig.org, "Paris", [AP, SWITCH], tag=1)
        versions = await rig.client.list_site_device_versions(site, "ap", model="AP45")
        assert GOOD in {v.version for v in versions} and {v.model for v in versions} == {"AP45"}
        started = await rig.client.upgrade_device(site, ap["id"], GOOD)
        assert started.status == "inprogress"
        polls = 0
        while not ((stats := await rig.client.get_site_device_stats(site, ap["id"])).fwupdate or FW).finished:
            polls += 1
            await rig.clock.sleep(10)
        assert polls == 3 and stats.fwupdate == FirmwareUpdate(
            status="success", progress=100, timestamp=rig.clock.now(), status_id=10, will_retry=False
        )
        assert stats.version == GOOD
        assert FAMILY_OF_DEVICE_TYPE[stats.type] == "wifi"
        assert (await inventory_versions(rig.control, rig.org))[ap["mac"]] == GOOD
        devices = await rig.client.list_site_devices(site)
        assert {d["mac"] for d in devices} == {ap["mac"], switch["mac"]}
        assert {s.mac: s.version for s in await rig.client.list_site_device_stats(site)}[ap["mac"]] == GOOD


async def test_a_site_canary_on_a_failing_version_reads_back_failed() -> None:
    async with in_process(upgrade_seconds=30) as rig:
        site, aps = await add_site(rig.control, rig.org, "Lille", [AP] * 4, tag=1)
        await rig.control.put(f"/__twin/firmware/{BAD}", json={"effect": "fail"})
        body = {"version": BAD, "strategy": "canary", "canary_phases": [25, 100]}
        upgrade_id = await rig.client.upgrade_site_devices(site, body)
        await rig.clock.sleep(300)
        upgrade = await rig.client.get_site_device_upgrade(site, upgrade_id)
        assert upgrade.finished and upgrade.status == "failed" and len(upgrade.targets["failed"]) == 1
        listed = await rig.client.list_site_device_upgrades(site, status="failed")
        assert [u.id for u in listed] == [upgrade_id] and listed[0].counts["failed"] == 1
        assert set((await inventory_versions(rig.control, rig.org)).values()) == {"0.14.29543"}
        later = await rig.client.upgrade_site_devices(site, {"version": GOOD, "strategy": "serial"})
        await rig.client.cancel_site_device_upgrade(site, later)
        assert (await rig.client.get_site_device_upgrade(site, later)).status == "cancelled"


async def test_lost_upgrade_answers_are_outcome_unknown_and_resolved_by_reading() -> None:
    async with in_process() as rig:
        site, (ap, other) = await add_site(rig.control, rig.org, "Nantes", [AP, AP], tag=1)
        await rig.control.put("/__twin/faults", json={"drop_rate": 1.0})
        with pytest.raises(OutcomeUnknown):
            await rig.client.upgrade_device(site, ap["id"], GOOD)
        with pytest.raises(OutcomeUnknown):
            await rig.client.upgrade_site_devices(site, {"device_ids": [other["id"]], "version": GOOD})
        await rig.control.put("/__twin/faults", json={"drop_rate": 0.0})
        # How a workflow resolves them: the device shows an update, the site lists an upgrade.
        assert (await rig.client.get_site_device_stats(site, ap["id"])).fwupdate == FirmwareUpdate(
            status="inprogress", progress=0, timestamp=rig.clock.now(), status_id=5, will_retry=False
        )
        upgrades: list[SiteUpgrade] = await rig.client.list_site_device_upgrades(site)
        assert [u.target_version for u in upgrades] == [GOOD]
        sent = rig.client.calls.by_template
        assert sent["POST /api/v1/sites/{site_id}/devices/{device_id}/upgrade"] == 1  # never retried
        assert sent["POST /api/v1/sites/{site_id}/devices/upgrade"] == 1


async def test_refusals_reach_the_caller_as_typed_errors() -> None:
    async with in_process() as rig:
        site, (switch,) = await add_site(rig.control, rig.org, "Brest", [SWITCH], tag=1)
        with pytest.raises(BadRequest) as wrong:
            await rig.client.upgrade_device(site, switch["id"], GOOD)
        assert "not available for model EX4100-F-12P" in wrong.value.detail
        with pytest.raises(NotFound):
            await rig.client.get_site_device_upgrade(site, "3f0b6f6e-0000-4000-8000-000000000000")
        with pytest.raises(NotFound):
            await rig.client.get_site_sle_summary(site, "no-such-metric")
        with pytest.raises(BadRequest):
            await rig.client.get_org_sites_sle(rig.org, "lan")


async def test_over_http_an_upgrade_completes_on_the_real_clock() -> None:
    with running_twin(TwinConfig(device_count=0, upgrade_seconds=0.2)) as (base_url, org, token):
        async with (
            build_http_client(base_url) as http,
            httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Token {token}"}) as control,
        ):
            site, (ap,) = await add_site(control, org, "Remote", [AP], tag=1)
            client = MistClient(http, token, clock=SystemClock())
            upgrade_id = await client.upgrade_site_devices(site, {"version": GOOD})
            clock = SystemClock()
            for _ in range(200):  # bounded: 0.2 s of upgrade, polled every 0.05 s
                if (await client.get_site_device_upgrade(site, upgrade_id)).finished:
                    break
                await clock.sleep(0.05)
            stats = await client.get_site_device_stats(site, ap["id"])
            assert stats.version == GOOD and stats.fwupdate is not None and stats.fwupdate.status == "success"
            assert (await inventory_versions(control, org))[ap["mac"]] == GOOD
