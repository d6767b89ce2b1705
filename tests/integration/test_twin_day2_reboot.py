"""The twin's switches and gateways: an upgrade without `reboot` only stages the firmware (the spec's
default is false), with `reboot: true` they run the new version; SSR gateways upgrade through
`upgradeSsr` and are refused on `upgradeDevice`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.day2 import GATEWAY, SSR, SWITCH, add_site
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

SWITCH_TO, SRX_TO, SSR_TO = "23.4R2-S4.11", "23.4R2-S3.9", "6.3.0-107.r1"



@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    return answers_checker(mist_spec)


async def test_switch_and_gateway_stay_staged_without_reboot_and_move_with_it(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=10)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, (sw, gw, sw2, gw2) = await add_site(client, org, "Tours", [SWITCH, GATEWAY] * 2, tag=1)
        base = f"/api/v1/sites/{site}/devices"
        assert (await client.post(f"{base}/{sw['id']}/upgrade", json={"version": SWITCH_TO})).status_code == 200
        body = {"version": SRX_TO, "reboot": False}
        assert (await client.post(f"{base}/{gw['id']}/upgrade", json=body)).status_code == 200
        assert (await client.post(f"{base}/{sw2['id']}/upgrade",
                                  json={"version": SWITCH_TO, "reboot": True})).status_code == 200
        site_wide = await client.post(f"{base}/upgrade", json={"version": SRX_TO, "device_ids": [gw2["id"]],
                                                                "reboot": True})
        clock.advance(11)
        held = {r["mac"]: r["version"] for r in (await client.get(f"/api/v1/orgs/{org}/inventory")).json()}
        assert held[sw["mac"]] != SWITCH_TO and held[gw["mac"]] != SRX_TO  # staged, still the old version
        assert held[sw2["mac"]] == SWITCH_TO and held[gw2["mac"]] == SRX_TO
        staged = (await client.get(f"/api/v1/sites/{site}/stats/devices/{sw['id']}")).json()
        assert staged["version"] == held[sw["mac"]] and staged["fwupdate"]["status"] == "success"
        upgrade = (await client.get(f"{base}/upgrade/{site_wide.json()['upgrade_id']}")).json()
        assert upgrade["targets"]["upgraded"] == [gw2["mac"]]


async def test_ssr_gateways_upgrade_through_their_own_operation(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=10)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, (ssr, srx) = await add_site(client, org, "Albi", [SSR, GATEWAY], tag=2)
        refused = await client.post(f"/api/v1/sites/{site}/devices/{ssr['id']}/upgrade",
                                    json={"version": SSR_TO, "reboot": True})
        assert refused.status_code == 400 and "/ssr/" in refused.json()["detail"]
        wrong = await client.post(f"/api/v1/sites/{site}/ssr/{srx['id']}/upgrade", json={"version": SRX_TO})
        assert wrong.status_code == 400 and "not an SSR" in wrong.json()["detail"]
        started = await client.post(f"/api/v1/sites/{site}/ssr/{ssr['id']}/upgrade",
                                    json={"version": SSR_TO, "channel": "stable"})
        assert started.status_code == 200 and started.json()["status"] == "upgrading"
        clock.advance(11)
        now = (await client.get(f"/api/v1/sites/{site}/stats/devices/{ssr['id']}")).json()
        assert now["version"] == SSR_TO
