"""Day 2 on the wire: every twin answer of the SLE, firmware and device-stats operations fits the spec,
and every request the client's Day 2 methods send fits it too.

A spec quirk to know: `response_org_site_sle` is a `oneOf` of the wifi, wired and wan shapes, told
apart only by each result's required metric; a page with no results matches all three and is
therefore "off-spec", although Mist answers it. The walks below never ask for an empty page.
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from mist_twin.validation import operations
from mistctl.mist import ManualClock, MistClient, build_http_client
from tests.support.day2 import AP, GATEWAY, SSR, SWITCH, add_site
from tests.support.openapi_check import ContractChecker, build_openapi, check_request, path_matcher
from tests.support.twin import FakeClock, twin_app, twin_client, twin_transport

#: The operations this file covers (test_twin_contract.py covers the others).
DAY2_OPERATIONS = frozenset(
    {
        "listSiteSlesMetrics",
        "getSiteSleSummary",
        "getOrgSitesSle",
        "listSiteAvailableDeviceVersions",
        "upgradeDevice",
        "upgradeSiteDevices",
        "listSiteDeviceUpgrades",
        "getSiteDeviceUpgrade",
        "cancelSiteDeviceUpgrade",
        "upgradeSsr",
        "listSiteDevices",
        "listSiteDevicesStats",
        "getSiteDeviceStats",
    }
)


def day2_paths() -> set[tuple[str, str]]:
    """(method, path) of the Day 2 operations the twin serves."""
    return {(op["method"], op["path"]) for name, op in operations().items() if name in DAY2_OPERATIONS}


@pytest.fixture
def checker(mist_spec: dict[str, Any]) -> ContractChecker:
    return ContractChecker(build_openapi(mist_spec), strict=True, spec=mist_spec)


async def _walk_sle(client: httpx.AsyncClient, org: str, site: str) -> None:
    base = f"/api/v1/sites/{site}/sle/site/{site}"
    assert (await client.get(f"{base}/metrics")).status_code == 200
    for metric in ("time-to-connect", "switch_health", "application_health"):
        assert (await client.get(f"{base}/metric/{metric}/summary")).status_code == 200
    week = await client.get(f"{base}/metric/coverage/summary", params={"duration": "7d"})
    assert week.status_code == 200 and len(week.json()["sle"]["samples"]["total"]) == 168
    for family in ("wifi", "wired", "wan"):
        answer = await client.get(
            f"/api/v1/orgs/{org}/insights/sites-sle", params={"sle": family, "limit": 1}
        )
        assert answer.status_code == 200 and answer.json()["results"]


async def _walk_no_data(client: httpx.AsyncClient, org: str, site: str) -> None:
    """A site without SLE data (Day 0) and a short SLE interval: still on spec."""
    assert (await client.put(f"/__twin/sle/{site}", json={"no_data": True})).status_code == 200
    assert (await client.put("/__twin/sle-interval", json={"seconds": 2})).status_code == 200
    base = f"/api/v1/sites/{site}/sle/site/{site}"
    empty = await client.get(f"{base}/metric/switch_health/summary", params={"duration": "1m"})
    sle = empty.json()["sle"]
    assert empty.status_code == 200 and sle["interval"] == 2 and set(sle["samples"]["value"]) == {None}
    rows = await client.get(f"/api/v1/orgs/{org}/insights/sites-sle", params={"sle": "wired"})
    assert rows.status_code == 200 and site not in {r["site_id"] for r in rows.json()["results"]}


async def _walk_firmware(
    client: httpx.AsyncClient, clock: FakeClock, site: str, devices: list[dict[str, Any]]
) -> None:
    base = f"/api/v1/sites/{site}/devices"
    for kind in ("ap", "switch", "gateway"):
        assert (await client.get(f"{base}/versions", params={"type": kind})).status_code == 200
    one = await client.post(f"{base}/{devices[0]['id']}/upgrade", json={"version": "0.14.29850"})
    assert one.status_code == 200
    body = {
        "version": "0.14.29633",
        "strategy": "canary",
        "canary_phases": [1, 50, 100],
        "device_ids": [d["id"] for d in devices[1:4]],
    }
    started = await client.post(f"{base}/upgrade", json=body)
    upgrade = started.json()["upgrade_id"]
    for _ in range(2):  # in progress, then finished (with fwupdate on the device stats)
        assert (await client.get(f"{base}/upgrade/{upgrade}")).status_code == 200
        assert (await client.get(f"{base}/upgrade")).status_code == 200
        assert (await client.get(f"/api/v1/sites/{site}/stats/devices/{devices[0]['id']}")).status_code == 200
        assert (
            await client.get(f"/api/v1/sites/{site}/stats/devices", params={"type": "all"})
        ).status_code == 200
        clock.advance(12)
    ssr = await client.post(f"/api/v1/sites/{site}/ssr/{devices[-1]['id']}/upgrade", json={"version": "6.3.0-107.r1"})
    assert ssr.status_code == 200, ssr.text
    serial = await client.post(f"{base}/upgrade", json={"version": "stable", "strategy": "serial"})
    assert (await client.post(f"{base}/upgrade/{serial.json()['upgrade_id']}/cancel")).status_code == 200
    for kind in ("ap", "switch", "gateway", "all"):
        assert (await client.get(base, params={"type": kind})).status_code == 200


async def test_every_day2_operation_answers_on_spec(checker: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=10)
    org = app.state.twin.org_id
    async with twin_client(app, checker=checker) as client:
        site, devices = await add_site(client, org, "Lyon", [AP] * 4 + [SWITCH, GATEWAY, SSR], tag=1)
        nice, _ = await add_site(client, org, "Nice", [SWITCH, GATEWAY], tag=2)
        await _walk_sle(client, org, site)
        await _walk_no_data(client, org, nice)
        await _walk_firmware(client, clock, site, devices)
    answered = {(method, path) for method, path, status in checker.seen if status == 200}
    assert day2_paths() - answered == set(), "Day 2 operations never exercised with a 200"


async def test_day2_error_answers_on_spec(checker: ContractChecker) -> None:
    app = twin_app(clock=FakeClock(), device_count=0, rate_limit=60)
    twin = app.state.twin
    org = twin.org_id
    reader = twin.add_token("read").token
    async with twin_client(app, checker=checker) as client:
        site, devices = await add_site(client, org, "Brest", [AP, AP], tag=3)
        device = f"/api/v1/sites/{site}/devices/{devices[0]['id']}/upgrade"
        with checker.sending_bad_requests():
            assert (await client.post(device, json={"reboot": True})).status_code == 400
            assert (await client.post(device, json={"version": 5})).status_code == 400
            sites_sle = f"/api/v1/orgs/{org}/insights/sites-sle"
            assert (await client.get(sites_sle, params={"sle": "lan"})).status_code == 400
        assert (await client.post(device, json={"version": "9.9.9"})).status_code == 400
        read_only = {"Authorization": f"Token {reader}"}
        assert (
            await client.post(device, json={"version": "0.14.29850"}, headers=read_only)
        ).status_code == 403
        assert (await client.get(f"/api/v1/sites/{site}/devices", headers=read_only)).status_code == 200
        unknown = "00000000-0000-0000-1000-5c5b35ffffff"
        assert (await client.get(f"/api/v1/sites/{site}/stats/devices/{unknown}")).status_code == 404
        assert (await client.get(f"/api/v1/sites/{site}/devices/upgrade/{unknown}")).status_code == 404
        missing = await client.get(f"/api/v1/sites/{site}/sle/site/{site}/metric/no-such-metric/summary")
        assert missing.status_code == 404
        with checker.sending_bad_requests():
            nobody = await client.get(f"/api/v1/orgs/{org}/insights/sites-sle", headers={"Authorization": ""})
        assert nobody.status_code == 401
        metrics = f"/api/v1/sites/{site}/sle/site/{site}/metrics"
        while (await client.get(metrics)).status_code != 429:
            pass
    statuses = {status for _m, _p, status in checker.seen}
    assert {200, 400, 401, 403, 404, 429} <= statuses


async def test_every_request_of_the_day2_client_methods_fits_the_spec(mist_spec: dict[str, Any]) -> None:
    openapi = build_openapi(mist_spec)
    match = path_matcher(mist_spec)
    seen: set[tuple[str, str]] = set()

    async def check(request: httpx.Request) -> None:
        if request.url.path.startswith("/api/"):
            check_request(openapi, request)  # raises ContractError with the schema errors
            seen.add((request.method, match(request.method, request.url.path) or request.url.path))

    clock = ManualClock()
    app = twin_app(clock=clock.now, device_count=0, upgrade_seconds=10)
    org = app.state.twin.org_id
    async with (
        twin_client(app) as setup,
        build_http_client("http://twin", transport=twin_transport(app)) as http,
    ):
        site, devices = await add_site(setup, org, "Metz", [AP] * 3 + [SWITCH, SSR], tag=4)
        http.event_hooks = {"request": [check], "response": []}
        client = MistClient(http, app.state.twin.token, clock=clock, rng=random.Random(1))
        await _client_walk(client, org, site, devices)
    assert day2_paths() - seen == set(), "Day 2 operations the client never sent"


async def _client_walk(client: MistClient, org: str, site: str, devices: list[dict[str, Any]]) -> None:
    await client.list_site_sle_metrics(site)
    await client.get_site_sle_summary(site, "coverage", duration="7d")
    await client.get_site_sle_summary(site, "coverage", start=1_699_900_000, end="now")
    await client.get_org_sites_sle(org, "wired", duration="1d", interval="1h")
    await client.list_site_device_versions(site, "switch", model="EX4100-F-12P")
    await client.upgrade_device(site, devices[0]["id"], "0.14.29850", reboot=True)
    await client.upgrade_ssr(site, devices[-1]["id"], "6.3.0-107.r1", channel="stable")
    body = {
        "device_ids": [devices[1]["id"]],
        "version": "0.14.29633",
        "strategy": "canary",
        "canary_phases": [50],
    }
    upgrade_id = await client.upgrade_site_devices(site, body)
    await client.get_site_device_upgrade(site, upgrade_id)
    await client.list_site_device_upgrades(site, status="upgrading")
    await client.get_site_device_stats(site, devices[0]["id"])
    await client.list_site_device_stats(site)
    await client.list_site_devices(site, type="switch")
    later = await client.upgrade_site_devices(site, {"version": "stable", "strategy": "serial"})
    await client.cancel_site_device_upgrade(site, later)
