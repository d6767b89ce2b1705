"""The twin's firmware: available versions, upgrades that take `upgrade_seconds` on the twin's clock,
versions marked to fail, phased site upgrades (canary halts, serial, skips, cancel) and persistence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mist_twin import firmware
from tests.support.day2 import AP, GATEWAY, SWITCH, add_site
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

START = "0.14.29543"  # what an AP45 of the pool runs
GOOD, BAD = "0.14.29850", "0.14.29633"
UPGRADE = 10.0


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def versions_held(client: httpx.AsyncClient, org: str) -> dict[str, str]:
    """MAC -> version, as the org inventory shows it."""
    answer = await client.get(f"/api/v1/orgs/{org}/inventory")
    return {record["mac"]: record["version"] for record in answer.json()}


async def stats(client: httpx.AsyncClient, site: str, device: dict[str, Any]) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/sites/{site}/stats/devices/{device['id']}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def site_upgrade(client: httpx.AsyncClient, site: str, body: dict[str, Any]) -> str:
    answer = await client.post(f"/api/v1/sites/{site}/devices/upgrade", json=body)
    assert answer.status_code == 200, answer.text
    upgrade_id: str = answer.json()["upgrade_id"]
    return upgrade_id


async def upgrade_of(client: httpx.AsyncClient, site: str, upgrade_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/sites/{site}/devices/upgrade/{upgrade_id}")).json()
    return body


async def test_versions_per_type_and_model(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    async with twin_client(app, checker=answers) as client:
        site, _ = await add_site(client, app.state.twin.org_id, "Pau", [("ap", "AP41")], tag=1)
        base = f"/api/v1/sites/{site}/devices/versions"
        aps = (await client.get(base)).json()
        assert {item["model"] for item in aps} == {"AP45", "AP34", "AP43", "AP41"}
        assert {"model": "AP45", "version": START, "tag": "stable"} in aps
        switches = (await client.get(base, params={"type": "switch", "model": "EX2300-C-12P"})).json()
        assert {item["model"] for item in switches} == {"EX2300-C-12P"} and len(switches) == 4
        gateways = (await client.get(base, params={"type": "gateway"})).json()
        assert {i["version"] for i in gateways if i["model"] == "SSR120"} >= {"6.2.5-5.r2", "6.3.0-107.r1"}
        await client.put(
            "/__twin/firmware/0.16.1", json={"effect": "none", "models": ["AP45"], "tag": "alpha"}
        )
        published = (await client.get(base, params={"model": "AP45"})).json()
        assert published[-1] == {"model": "AP45", "version": "0.16.1", "tag": "alpha"}
        refused = await client.get(base, params={"type": "router"})
        assert refused.status_code == 400 and refused.json()["detail"].startswith("type:")


async def test_a_device_upgrade_takes_its_time_then_runs_the_new_version(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, (ap, other) = await add_site(client, org, "Niort", [AP, AP], tag=1)
        assert "fwupdate" not in await stats(client, site, ap)
        started = await client.post(
            f"/api/v1/sites/{site}/devices/{ap['id']}/upgrade", json={"version": GOOD}
        )
        assert started.json() == {"status": "inprogress", "timestamp": clock.now}
        seen = []
        for _ in range(3):
            clock.advance(UPGRADE / 4)
            now = await stats(client, site, ap)
            seen.append(now["fwupdate"]["progress"])
            assert now["fwupdate"]["status"] == "inprogress" and now["version"] == START
            assert now["status"] == "upgrading"
        assert seen == sorted(seen) and seen[0] > 0
        assert (await versions_held(client, org))[ap["mac"]] == START
        clock.advance(UPGRADE / 4)
        done = await stats(client, site, ap)
        assert done["version"] == GOOD and done["fwupdate"]["status"] == "success"
        assert done["fwupdate"]["progress"] == 100 and done["status"] == "connected"
        assert await versions_held(client, org) == {ap["mac"]: GOOD, other["mac"]: START}


async def test_a_version_marked_fail_ends_failed_and_the_device_keeps_its_version(
    answers: ContractChecker,
) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, (ap,) = await add_site(client, org, "Foix", [AP], tag=1)
        assert (await client.put(f"/__twin/firmware/{BAD}", json={"effect": "fail"})).status_code == 200
        await client.post(f"/api/v1/sites/{site}/devices/{ap['id']}/upgrade", json={"version": BAD})
        clock.advance(UPGRADE)
        after = await stats(client, site, ap)
        assert after["fwupdate"]["status"] == "failed" and after["version"] == START
        assert (await versions_held(client, org))[ap["mac"]] == START


async def test_device_upgrade_refusals_name_the_problem(answers: ContractChecker) -> None:
    app = twin_app(clock=FakeClock(), device_count=0, upgrade_seconds=UPGRADE)
    twin = app.state.twin
    reader = twin.add_token("read").token
    async with twin_client(app, checker=answers) as client:
        site, (ap, switch) = await add_site(client, twin.org_id, "Auch", [AP, SWITCH], tag=1)
        elsewhere, _ = await add_site(client, twin.org_id, "Gap", [], tag=2)
        url = f"/api/v1/sites/{site}/devices/{switch['id']}/upgrade"
        wrong = await client.post(url, json={"version": GOOD})
        assert wrong.status_code == 400 and "not available for model EX4100-F-12P" in wrong.json()["detail"]
        missing = await client.post(url, json={"reboot": True})
        assert missing.status_code == 400 and missing.json()["detail"] == "version: this field is required"
        ap_url = f"/api/v1/sites/{site}/devices/{ap['id']}/upgrade"
        assert (await client.post(ap_url, json={"version": GOOD})).status_code == 200
        busy = await client.post(ap_url, json={"version": GOOD})
        assert busy.status_code == 400 and "already scheduled or running" in busy.json()["detail"]
        moved = f"/api/v1/sites/{elsewhere}/devices/{ap['id']}/upgrade"
        assert (await client.post(moved, json={"version": GOOD})).status_code == 404
        as_reader = await client.post(
            url, json={"version": "stable"}, headers={"Authorization": f"Token {reader}"}
        )
        assert as_reader.status_code == 403
    assert twin.store.get(firmware.JOBS, switch["mac"]) is None


async def test_a_canary_on_a_failing_version_halts_after_its_first_phase(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, aps = await add_site(client, org, "Alès", [AP] * 10, tag=1)
        await client.put(f"/__twin/firmware/{BAD}", json={"effect": "fail"})
        upgrade_id = await site_upgrade(
            client, site, {"version": BAD, "strategy": "canary", "canary_phases": [10, 50, 100]}
        )
        plan = (await upgrade_of(client, site, upgrade_id))["upgrade_plan"]
        assert [len(plan[k]) for k in ("1", "2", "3")] == [1, 4, 5]
        clock.advance(10 * UPGRADE)
        final = await upgrade_of(client, site, upgrade_id)
        assert final["status"] == "failed" and final["current_phase"] == 1
        assert final["targets"]["failed"] == plan["1"] and final["targets"]["upgraded"] == []
        assert set((await versions_held(client, org)).values()) == {START}
        untouched = [ap for ap in aps if ap["mac"] not in plan["1"]]
        for ap in untouched:
            assert "fwupdate" not in await stats(client, site, ap)


async def test_a_canary_on_a_good_version_reaches_every_device_phase_by_phase(
    answers: ContractChecker,
) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, aps = await add_site(client, org, "Sète", [AP] * 10, tag=1)
        upgrade_id = await site_upgrade(
            client, site, {"version": GOOD, "strategy": "canary", "canary_phases": [10, 50, 100]}
        )
        clock.advance(UPGRADE + 1)
        middle = await upgrade_of(client, site, upgrade_id)
        assert middle["status"] == "upgrading" and middle["current_phase"] == 2
        assert len(middle["targets"]["upgraded"]) == 1 and len(middle["targets"]["scheduled"]) == 5
        listed = (
            await client.get(f"/api/v1/sites/{site}/devices/upgrade", params={"status": "upgrading"})
        ).json()
        assert [item["id"] for item in listed] == [upgrade_id] and listed[0]["counts"]["upgraded"] == 1
        clock.advance(2 * UPGRADE)
        final = await upgrade_of(client, site, upgrade_id)
        assert final["status"] == "completed" and sorted(final["targets"]["upgraded"]) == [
            a["mac"] for a in aps
        ]
        assert set((await versions_held(client, org)).values()) == {GOOD}
        done = (
            await client.get(f"/api/v1/sites/{site}/devices/upgrade", params={"status": "upgrading"})
        ).json()
        assert done == []


async def test_serial_upgrades_one_device_at_a_time(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, aps = await add_site(client, org, "Bayonne", [AP] * 3, tag=1)
        upgrade_id = await site_upgrade(client, site, {"version": GOOD, "strategy": "serial"})
        for step in range(3):
            clock.advance(UPGRADE / 2)
            running = [(await stats(client, site, ap))["fwupdate"]["status"] for ap in aps]
            assert running.count("inprogress") == 1 and running.count("success") == step
            clock.advance(UPGRADE / 2)
        assert (await upgrade_of(client, site, upgrade_id))["status"] == "completed"


async def test_site_upgrade_selection_skips_and_refusals(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, devices = await add_site(client, org, "Lens", [AP, ("ap", "AP43"), SWITCH, GATEWAY], tag=1)
        _, foreign = await add_site(client, org, "Arras", [AP], tag=2)
        only_aps = await upgrade_of(client, site, await site_upgrade(client, site, {"version": GOOD}))
        assert sorted(only_aps["targets"]["scheduled"] + only_aps["targets"]["download_requested"]) == sorted(
            d["mac"] for d in devices[:2]
        )
        clock.advance(UPGRADE)
        again = await upgrade_of(
            client, site, await site_upgrade(client, site, {"version": GOOD, "models": ["AP45"]})
        )
        assert again["targets"]["skipped"] == [devices[0]["mac"]] and again["status"] == "completed"
        forced = await site_upgrade(
            client, site, {"version": GOOD, "force": True, "rules": [{"match_model": "AP45"}]}
        )
        assert (await upgrade_of(client, site, forced))["targets"]["total"] == 1
        named = await client.post(
            f"/api/v1/sites/{site}/devices/upgrade", json={"version": GOOD, "device_ids": [foreign[0]["id"]]}
        )
        assert named.status_code == 400 and named.json()["detail"].startswith("device_ids[0]:")
        nothing = await client.post(f"/api/v1/sites/{site}/devices/upgrade", json={"version": "9.9.9"})
        assert nothing.status_code == 400 and "no device of site Lens" in nothing.json()["detail"]
        rrm = await client.post(
            f"/api/v1/sites/{site}/devices/upgrade", json={"version": "stable", "strategy": "rrm"}
        )
        assert rrm.status_code == 400 and rrm.json()["detail"].startswith("strategy: rrm upgrades APs only")


async def test_cancel_stops_the_devices_not_started(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, aps = await add_site(client, org, "Vichy", [AP] * 3, tag=1)
        upgrade_id = await site_upgrade(client, site, {"version": GOOD, "strategy": "serial"})
        clock.advance(UPGRADE / 2)
        cancel = f"/api/v1/sites/{site}/devices/upgrade/{upgrade_id}/cancel"
        assert (await client.post(cancel)).status_code == 200
        clock.advance(5 * UPGRADE)
        assert (await upgrade_of(client, site, upgrade_id))["status"] == "cancelled"
        held = await versions_held(client, org)
        assert [held[ap["mac"]] for ap in aps] == [GOOD, START, START]
        again = await client.post(cancel)
        assert again.status_code == 400 and "already finished" in again.json()["detail"]


async def test_an_upgrade_in_flight_survives_a_restart(tmp_path: Path, answers: ContractChecker) -> None:
    state, clock = tmp_path / "twin.sqlite", FakeClock()
    app = twin_app(clock=clock, state_file=state, device_count=0, upgrade_seconds=UPGRADE)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, aps = await add_site(client, org, "Cahors", [AP, AP], tag=1)
        upgrade_id = await site_upgrade(client, site, {"version": GOOD, "strategy": "serial"})
        await client.put(f"/__twin/firmware/{BAD}", json={"effect": "degrade", "sle_drop": 0.2})
    app.state.twin.close()
    clock.advance(3 * UPGRADE)
    again = twin_app(clock=clock, state_file=state, device_count=0)
    async with twin_client(again, checker=answers) as client:
        assert (await upgrade_of(client, site, upgrade_id))["status"] == "completed"
        assert set((await versions_held(client, org)).values()) == {GOOD}
        assert (await client.get("/__twin/firmware")).json()["marks"][0]["version"] == BAD
    again.state.twin.close()


async def test_upgrade_time_is_a_live_knob_and_site_devices_are_listed(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, devices = await add_site(client, org, "Millau", [AP, AP, SWITCH], tag=1)
        assert (await client.put("/__twin/faults", json={"upgrade_seconds": 60})).json()[
            "upgrade_seconds"
        ] == 60
        await client.post(f"/api/v1/sites/{site}/devices/{devices[0]['id']}/upgrade", json={"version": GOOD})
        clock.advance(59)
        assert (await stats(client, site, devices[0]))["fwupdate"]["status"] == "inprogress"
        clock.advance(1)
        assert (await stats(client, site, devices[0]))["fwupdate"]["status"] == "success"
        default = (await client.get(f"/api/v1/sites/{site}/devices")).json()
        assert [d["id"] for d in default] == [d["id"] for d in devices[:2]]  # Mist's default type is ap
        everything = await client.get(
            f"/api/v1/sites/{site}/stats/devices", params={"type": "all", "limit": 2}
        )
        assert everything.headers["X-Page-Total"] == "3" and len(everything.json()) == 2
        assert everything.json()[0]["version"] == GOOD
