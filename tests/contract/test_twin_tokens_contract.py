"""The twin's token owners: user tokens of one admin share one rate budget, org tokens have their own.

Mist docs ("Create API Tokens"): org tokens are rate limited "by the individual token", user tokens
"by the account that is tied to the user". `GET /self` tells them apart (spec `admin`: `email` for a
user, `name` for an org token). Every /api answer here is validated against the spec as it arrives.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.openapi_check import ContractChecker, answers_checker
from tests.support.twin import FakeClock, twin_app, twin_client

HOUR = 1_700_000_000 - 1_700_000_000 % 3600
ADMIN = "twin-admin@example.com"


@pytest.fixture
def answers(mist_spec: dict[str, Any]) -> ContractChecker:
    return answers_checker(mist_spec)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


async def test_two_tokens_of_one_user_share_a_budget_an_org_token_does_not(answers: ContractChecker) -> None:
    clock = FakeClock(HOUR + 100.0)
    app = twin_app(clock=clock, rate_limit=4)
    twin = app.state.twin
    async with twin_client(app, checker=answers) as client:
        second = (await client.post("/__twin/tokens", json={"role": "write", "user": ADMIN})).json()
        org_token = (await client.post("/__twin/tokens", json={"role": "admin"})).json()
        for _ in range(2):
            assert (await client.get(f"/api/v1/orgs/{twin.org_id}")).status_code == 200
        shared = (await client.get("/api/v1/self/usage", headers=auth(second["token"]))).json()
        assert (await client.get("/api/v1/self")).status_code == 200  # the 4th call of the user
        refused = await client.get("/api/v1/self", headers=auth(second["token"]))
        alone = await client.get("/api/v1/self/usage", headers=auth(org_token["token"]))
    assert second["user"] == ADMIN and org_token["user"] is None
    assert shared["requests"] == 3, "the second token sees the first token's calls"
    assert refused.status_code == 429
    assert alone.status_code == 200 and alone.json()["requests"] == 1


async def test_self_answers_an_admin_for_a_user_token_and_a_name_for_an_org_token(
    answers: ContractChecker,
) -> None:
    app = twin_app(clock=FakeClock(HOUR))
    async with twin_client(app, checker=answers) as client:
        org_token = (await client.post("/__twin/tokens", json={"role": "read"})).json()["token"]
        user = (await client.get("/api/v1/self")).json()
        org = (await client.get("/api/v1/self", headers=auth(org_token))).json()
    assert user["email"] == ADMIN and "name" not in user
    assert "email" not in org and org["name"] == "twin read org token"
    assert org["privileges"][0]["role"] == "read"


async def test_user_tokens_survive_a_restart_with_their_owner(tmp_path: Any) -> None:
    state = tmp_path / "twin.db"
    app = twin_app(state_file=state)
    token = app.state.twin.add_token("admin", user="ops@example.com").token
    app.state.twin.close()
    again = twin_app(state_file=state)
    assert again.state.twin.tokens[token].user == "ops@example.com"
    again.state.twin.close()


async def test_a_429_without_retry_after_and_usage_past_the_limit_are_knobs(answers: ContractChecker) -> None:
    clock = FakeClock(HOUR + 3000.0)
    app = twin_app(clock=clock, rate_limit=1)
    async with twin_client(app, checker=answers) as client:
        await client.put("/__twin/faults", json={"rate_retry_after": False, "usage_when_limited": True})
        assert (await client.get("/api/v1/self")).status_code == 200
        refused = await client.get("/api/v1/self")
        usage = await client.get("/api/v1/self/usage")
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert usage.status_code == 200
    assert usage.json() == {"request_limit": 1, "requests": 3, "seconds": 600}
