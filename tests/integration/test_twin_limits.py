"""Auth and the per-token rate limit (fixed window aligned on the epoch), driven by a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

HOUR = 1_700_000_000 - 1_700_000_000 % 3600  # the top of a clock hour


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    """Every /api answer of these tests is validated against the Mist spec as it arrives."""
    return answers_checker(mist_spec)


async def test_auth_answers(answers: ContractChecker) -> None:
    app = twin_app()
    twin = app.state.twin
    org = twin.org_id
    writer = twin.add_token("write").token
    reader = twin.add_token("read").token
    outsider = twin.add_token("admin", on_org=False).token
    sites = f"/api/v1/orgs/{org}/sites"
    async with twin_client(app, checker=answers) as client:
        none = await client.get(sites, headers={"Authorization": ""})
        basic = await client.get(sites, headers={"Authorization": "Basic abc"})
        unknown = await client.get(sites, headers={"Authorization": "Token nope"})
        wrote = await client.post(sites, headers={"Authorization": f"Token {writer}"}, json={"name": "w"})
        read = await client.get(sites, headers={"Authorization": f"Token {reader}"})
        denied = await client.post(sites, headers={"Authorization": f"Token {reader}"}, json={"name": "r"})
        foreign = await client.get(sites, headers={"Authorization": f"Token {outsider}"})
        other_org = await client.get("/api/v1/orgs/00000000-0000-0000-0000-000000000001/sites")
        me = (await client.get("/api/v1/self", headers={"Authorization": f"Token {reader}"})).json()
    assert none.status_code == basic.status_code == 401
    assert none.json() == {"detail": "Authentication credentials were not provided."}
    assert unknown.status_code == 401 and unknown.json() == {"detail": "Invalid token."}
    assert wrote.status_code == 200 and read.status_code == 200
    forbidden = {"detail": "You do not have permission to perform this action."}
    for answer in (denied, foreign, other_org):
        assert answer.status_code == 403 and answer.json() == forbidden
    assert [p["name"] for p in twin.objects("sites")] == ["w"]
    assert me["privileges"] == [{"scope": "org", "org_id": org, "role": "read", "name": "Twin Org"}]


async def test_rate_limit_window_429_retry_after_and_reset(answers: ContractChecker) -> None:
    clock = FakeClock(HOUR + 3000.0)  # 600 s before the top of the next hour
    app = twin_app(clock=clock, rate_limit=5)
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        answers = [await client.get(f"/api/v1/orgs/{twin.org_id}") for _ in range(5)]
        refused = await client.get(f"/api/v1/orgs/{twin.org_id}")
        usage_refused = await client.get("/api/v1/self/usage")
        clock.advance(599.5)
        still = await client.get("/api/v1/self")
        clock.advance(0.5)  # the top of the hour: a new window
        usage = await client.get("/api/v1/self/usage")
    assert [a.status_code for a in answers] == [200] * 5
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
    detail = "Too Many Request. The API Token used for the request reached the 5 API Calls per hour threshold"
    assert refused.json() == {"detail": detail}
    assert usage_refused.status_code == 429, "refused calls count too"
    assert still.status_code == 429 and still.headers["Retry-After"] == "1"
    assert usage.status_code == 200
    assert usage.json() == {"request_limit": 5, "requests": 1, "seconds": 3600}
    assert twin.counters.snapshot()["rate_limited"] == 3


async def test_usage_counts_every_call_per_token(answers: ContractChecker) -> None:
    clock = FakeClock(HOUR + 10.0)
    app = twin_app(clock=clock)
    twin = app.state.twin
    other = twin.add_token("read").token
    async with twin_client(app, checker=answers) as client:
        await client.get(f"/api/v1/orgs/{twin.org_id}")
        await client.get("/api/v1/sites/00000000-0000-0000-0000-000000000000")  # a 404 counts
        await client.post(f"/api/v1/orgs/{twin.org_id}/sites", content=b"{")  # a 400 counts
        await client.get("/__twin/counters")  # control calls do not
        mine = (await client.get("/api/v1/self/usage")).json()
        theirs = (await client.get("/api/v1/self/usage", headers={"Authorization": f"Token {other}"})).json()
    assert mine == {"request_limit": 5000, "requests": 4, "seconds": 3590}
    assert theirs["requests"] == 1


async def test_window_length_is_configurable_and_aligned(answers: ContractChecker) -> None:
    clock = FakeClock(60 * 1000 + 59.0)  # one second before a minute boundary
    app = twin_app(clock=clock, rate_limit=1, rate_window=60)
    async with twin_client(app, checker=answers) as client:
        assert (await client.get("/api/v1/self")).status_code == 200
        refused = await client.get("/api/v1/self")
        clock.advance(1)
        assert (await client.get("/api/v1/self")).status_code == 200
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "1 API Calls" in refused.json()["detail"]
