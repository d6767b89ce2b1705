"""The twin's SLEs: plausible and stable per site, summaries that agree with the org-wide values,
overrides on /__twin/sle, and firmware marked `degrade` lowering its family at its site only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.day2 import AP, GATEWAY, SWITCH, add_site
from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

#: (family, org insights key, per-site metric) pairs that name the same SLE.
SAME_SLE = (
    ("wifi", "coverage", "coverage"),
    ("wifi", "successful-connect", "failed-to-connect"),
    ("wired", "switch-health", "switch_health"),
    ("wan", "application_health", "application_health"),
)


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def org_sle(
    client: httpx.AsyncClient, org: str, family: str, **query: Any
) -> dict[str, dict[str, Any]]:
    """site_id -> that site's line of the org-wide insights (one page of up to 1000 sites)."""
    answer = await client.get(
        f"/api/v1/orgs/{org}/insights/sites-sle", params={"sle": family, "limit": 1000, **query}
    )
    assert answer.status_code == 200, answer.text
    return {row["site_id"]: row for row in answer.json()["results"]}


async def summary(client: httpx.AsyncClient, site: str, metric: str, **query: Any) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/sites/{site}/sle/site/{site}/metric/{metric}/summary", params=query)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def overall(body: dict[str, Any]) -> float:
    """1 - degraded/total over the whole window."""
    samples = body["sle"]["samples"]
    return 1 - float(sum(samples["degraded"])) / float(sum(samples["total"]))


async def test_values_are_plausible_and_stable_across_calls_and_restarts(
    tmp_path: Path, answers: ContractChecker
) -> None:
    state = tmp_path / "twin.sqlite"
    app = twin_app(state_file=state, device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        for n in range(3):
            await add_site(client, org, f"site-{n}", [AP, SWITCH, GATEWAY], tag=n + 1)
        first = {family: await org_sle(client, org, family) for family in ("wifi", "wired", "wan")}
        again = {family: await org_sle(client, org, family) for family in ("wifi", "wired", "wan")}
    app.state.twin.close()
    assert first == again
    values = [
        value
        for rows in first.values()
        for row in rows.values()
        for key, value in row.items()
        if key != "site_id" and not key.startswith("num_")
    ]
    assert len(values) == 3 * (8 + 3 + 3) and all(0.90 <= v <= 0.99 for v in values)
    assert len({round(v, 4) for v in values}) > len(values) // 2, (
        "values should differ between sites and metrics"
    )
    restarted = twin_app(state_file=state, device_count=0)
    async with twin_client(restarted, checker=answers) as client:
        assert {family: await org_sle(client, org, family) for family in first} == first
    restarted.state.twin.close()


async def test_a_summary_gives_back_the_sites_value(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, _ = await add_site(client, org, "Rouen", [AP, AP, SWITCH, GATEWAY], tag=1)
        for family, key, metric in SAME_SLE:
            expected = (await org_sle(client, org, family))[site][key]
            body = await summary(client, site, metric)
            samples = body["sle"]["samples"]
            assert body["sle"]["name"] == metric and body["end"] - body["start"] == 86400
            assert len(samples["total"]) == len(samples["degraded"]) == len(samples["value"]) == 24
            assert overall(body) == pytest.approx(expected, abs=1e-4)
            for total, degraded, value in zip(
                samples["total"], samples["degraded"], samples["value"], strict=True
            ):
                assert 0 <= degraded <= total and value == pytest.approx(1 - degraded / total, abs=1e-5)
        wifi = await summary(client, site, "coverage")
        assert (
            wifi["impact"]["total_aps"] == 2 and wifi["impact"]["num_users"] <= wifi["impact"]["total_users"]
        )


async def test_the_window_follows_start_end_and_duration(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, _ = await add_site(client, org, "Tours", [AP], tag=1)
        short = await summary(client, site, "coverage", duration="2h")
        assert short["sle"]["interval"] == 600 and len(short["sle"]["samples"]["total"]) == 12
        week = await summary(client, site, "coverage", start="-7d", end="now")
        assert week["end"] == int(clock.now) and len(week["sle"]["samples"]["total"]) == 168
        fixed = await summary(
            client, site, "coverage", start=str(int(clock.now) - 3600), end=str(int(clock.now))
        )
        assert (fixed["start"], fixed["end"]) == (int(clock.now) - 3600, int(clock.now))
        base = f"/api/v1/sites/{site}/sle/site/{site}/metric/coverage/summary"
        bad = await client.get(base, params={"duration": "soon"})
        assert bad.status_code == 400 and bad.json()["detail"].startswith("duration:")
        backwards = await client.get(base, params={"start": "now", "end": "-1d"})
        assert backwards.status_code == 400 and "start" in backwards.json()["detail"]


async def test_overrides_set_and_clear_one_site(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, _ = await add_site(client, org, "Caen", [AP, SWITCH], tag=1)
        other, _ = await add_site(client, org, "Vannes", [AP], tag=2)
        before = await org_sle(client, org, "wifi")
        changed = await client.put(f"/__twin/sle/{site}", json={"coverage": 0.5, "switch-health": 0.61})
        assert changed.status_code == 200 and changed.json()["overrides"] == {
            "coverage": 0.5,
            "switch_health": 0.61,
        }
        wifi = await org_sle(client, org, "wifi")
        assert wifi[site]["coverage"] == 0.5 and wifi[other] == before[other]
        assert wifi[site]["roaming"] == before[site]["roaming"]
        assert (await org_sle(client, org, "wired"))[site]["switch-health"] == 0.61
        assert overall(await summary(client, site, "coverage")) == pytest.approx(0.5, abs=1e-4)
        assert (await client.delete(f"/__twin/sle/{site}")).status_code == 200
        assert await org_sle(client, org, "wifi") == before
        await client.put(f"/__twin/sle/{other}", json={"roaming": 0.2})
        assert (await client.delete("/__twin/sle")).status_code == 200
        assert await org_sle(client, org, "wifi") == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"coverages": 0.5}, "coverages: not an SLE metric"),
        ({"coverage": 1.5}, "coverage: must be a number from 0 to 1"),
        ({"coverage": True}, "coverage: must be a number from 0 to 1"),
        ([0.5], "body: must be an object"),
    ],
)
async def test_bad_overrides_are_refused_by_name(body: Any, detail: str) -> None:
    app = twin_app(device_count=0)
    async with twin_client(app) as client:
        site, _ = await add_site(client, app.state.twin.org_id, "Laval", [], tag=1)
        answer = await client.put(f"/__twin/sle/{site}", json=body)
        assert answer.status_code == 400 and answer.json()["detail"].startswith(detail)
        assert (await client.get(f"/__twin/sle/{site}")).json()["overrides"] == {}
        assert (await client.put("/__twin/sle/no-such-site", json={"coverage": 0.5})).status_code == 404


async def test_org_insights_pages_cover_every_site_once(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        sites = [(await add_site(client, org, f"s{n}", [], tag=n + 1))[0] for n in range(5)]
        seen: list[str] = []
        for page in (1, 2, 3):
            params: dict[str, str | int] = {"sle": "wan", "limit": 2, "page": page}
            body = (await client.get(f"/api/v1/orgs/{org}/insights/sites-sle", params=params)).json()
            assert (body["limit"], body["page"], body["total"]) == (2, page, 5)
            seen += [row["site_id"] for row in body["results"]]
            assert all(row["num_gateways"] == 0 and "gateway-health" in row for row in body["results"])
    assert seen == sites
    refused = await _get(app, f"/api/v1/orgs/{org}/insights/sites-sle", {"sle": "lan"})
    assert refused.status_code == 400 and refused.json()["detail"] == "sle: must be one of wifi, wired, wan"


async def _get(app: Any, path: str, params: dict[str, str]) -> httpx.Response:
    async with twin_client(app) as client:
        return await client.get(path, params=params)


async def test_degrading_firmware_lowers_its_family_at_its_site_only(answers: ContractChecker) -> None:
    clock = FakeClock()
    app = twin_app(clock=clock, device_count=0, upgrade_seconds=10)
    org = app.state.twin.org_id
    async with twin_client(app, checker=answers) as client:
        site, devices = await add_site(client, org, "Dijon", [AP, AP, SWITCH], tag=1)
        other, _ = await add_site(client, org, "Metz", [AP], tag=2)
        before = {family: await org_sle(client, org, family) for family in ("wifi", "wired")}
        mark = await client.put("/__twin/firmware/0.14.29850", json={"effect": "degrade", "sle_drop": 0.3})
        assert mark.status_code == 200
        assert {f: await org_sle(client, org, f) for f in before} == before  # nobody runs it yet
        upgrade = f"/api/v1/sites/{site}/devices/{devices[0]['id']}/upgrade"
        assert (await client.post(upgrade, json={"version": "0.14.29850"})).status_code == 200
        clock.advance(5)
        assert (await org_sle(client, org, "wifi")) == before["wifi"]  # still upgrading
        clock.advance(5)
        wifi = await org_sle(client, org, "wifi")
        for key in ("coverage", "time-to-connect", "ap-availability"):
            assert wifi[site][key] == pytest.approx(before["wifi"][site][key] - 0.3)
        assert wifi[other] == before["wifi"][other]
        assert await org_sle(client, org, "wired") == before["wired"]
        assert overall(await summary(client, site, "coverage")) == pytest.approx(
            wifi[site]["coverage"], abs=1e-4
        )
        assert (await client.delete("/__twin/firmware/0.14.29850")).status_code == 200
        assert await org_sle(client, org, "wifi") == before["wifi"]


async def test_scope_and_metric_errors(answers: ContractChecker) -> None:
    app = twin_app(device_count=0)
    twin = app.state.twin
    reader = twin.add_token("read").token
    async with twin_client(app, checker=answers) as client:
        site, devices = await add_site(client, twin.org_id, "Albi", [AP], tag=1)
        other, _ = await add_site(client, twin.org_id, "Agen", [], tag=2)
        device_scope = await client.get(f"/api/v1/sites/{site}/sle/ap/{devices[0]['id']}/metrics")
        assert device_scope.status_code == 400 and "scope site only" in device_scope.json()["detail"]
        assert (await client.get(f"/api/v1/sites/{site}/sle/site/{other}/metrics")).status_code == 404
        unknown = await client.get(f"/api/v1/sites/{site}/sle/site/{site}/metric/switch-bandwidth/summary")
        assert unknown.status_code == 404  # an org insights key, not a per-site metric
        as_reader = await client.get(
            f"/api/v1/sites/{site}/sle/site/{site}/metrics", headers={"Authorization": f"Token {reader}"}
        )
        assert as_reader.status_code == 200 and "switch_health" in as_reader.json()["enabled"]
