"""The probe's judgement on a fake Mist, and target resolution for cloud settings."""

from __future__ import annotations

import random
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import SecretStr

from mistctl.config import Settings
from mistctl.mist import ManualClock, MistClient, build_http_client
from mistctl.mist.probe import BUDGET, ORG, REACHABLE, TOKEN, WRITE, probe
from mistctl.mist.target import TargetError, resolve_target

ORG_ID = "org-1"
SECRET = "tok-probe-abcdef123456"


def fake_mist(privileges, *, org_status=200, msp_id=None, self_status=200):
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/self":
            if self_status != 200:
                return httpx.Response(
                    self_status, json={"detail": "Authentication credentials were not provided."}
                )
            return httpx.Response(200, json={"email": "ops@example.com", "privileges": privileges})
        if path == "/api/v1/self/usage":
            return httpx.Response(200, json={"request_limit": 5000, "requests": 12, "seconds": 1800})
        if path.startswith("/api/v1/orgs/"):
            if org_status != 200:
                return httpx.Response(org_status, json={"detail": "no"})
            return httpx.Response(200, json={"id": path.rsplit("/", 1)[-1], "name": "Acme", "msp_id": msp_id})
        return httpx.Response(404, json={"id": path})

    return handler


@asynccontextmanager
async def client_for(handler):
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(handler)) as http:
        yield MistClient(http, SECRET, clock=ManualClock(), rng=random.Random(1))


def org_priv(role, org_id=ORG_ID):
    return {"scope": "org", "role": role, "org_id": org_id, "name": "Acme"}


@pytest.mark.parametrize("role", ["admin", "write"])
async def test_an_org_admin_or_writer_passes(role):
    async with client_for(fake_mist([org_priv(role)])) as client:
        result = await probe(client, ORG_ID)
    assert result.ok
    assert [c.ok for c in result.rows()] == [True, True, True, True, True]
    assert result.org_name == "Acme" and result.who == "ops@example.com"
    assert result.usage is not None and result.usage.requests == 12
    assert "4988 of 5000" in result.check(BUDGET).detail
    assert client.calls.total == 3


async def test_the_org_is_found_from_a_single_org_privilege():
    async with client_for(fake_mist([org_priv("admin", "org-9")])) as client:
        result = await probe(client)
    assert result.ok and result.org_id == "org-9"


async def test_several_orgs_need_an_explicit_org_id():
    async with client_for(fake_mist([org_priv("admin", "a"), org_priv("admin", "b")])) as client:
        result = await probe(client)
    assert not result.ok
    assert "--org-id" in result.check(ORG).detail and "a, b" in result.check(ORG).detail


@pytest.mark.parametrize(
    "privileges",
    [
        [org_priv("read")],
        [org_priv("helpdesk")],
        [{"scope": "site", "role": "admin", "org_id": ORG_ID, "site_id": "s-1"}],
        [{"scope": "sitegroup", "role": "write", "org_id": ORG_ID, "sitegroup_ids": ["g"]}],
        [org_priv("admin", "another-org")],
    ],
    ids=["read", "helpdesk", "site-admin", "sitegroup-write", "other-org"],
)
async def test_read_only_site_scoped_or_foreign_privileges_are_not_org_write(privileges):
    async with client_for(fake_mist(privileges)) as client:
        result = await probe(client, ORG_ID)
    assert result.check(WRITE).ok is False
    assert not result.ok
    assert "admin or write" in result.check(WRITE).detail


async def test_an_msp_admin_writes_the_msps_orgs_only():
    msp = [{"scope": "msp", "role": "admin", "msp_id": "m-1"}]
    async with client_for(fake_mist(msp, msp_id="m-1")) as client:
        assert (await probe(client, ORG_ID)).ok
    async with client_for(fake_mist(msp, msp_id="m-2")) as client:
        assert not (await probe(client, ORG_ID)).ok


async def test_a_bad_token_says_so_and_how_to_fix_it():
    async with client_for(fake_mist([], self_status=401)) as client:
        result = await probe(client, ORG_ID)
    assert result.check(REACHABLE).ok is True
    assert result.check(TOKEN).ok is False
    assert "MIST_APITOKEN" in result.check(TOKEN).detail
    assert result.check(ORG).ok is None
    assert not result.ok


async def test_an_invisible_org_fails_the_org_check():
    async with client_for(fake_mist([org_priv("admin")], org_status=404)) as client:
        result = await probe(client, ORG_ID)
    assert result.check(ORG).ok is False and "not visible" in result.check(ORG).detail
    assert result.check(WRITE).ok is None


async def test_an_unreachable_cloud_fails_the_first_check():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with client_for(refuse) as client:
        result = await probe(client, ORG_ID)
    assert result.check(REACHABLE).ok is False
    assert "cannot reach Mist" in result.check(REACHABLE).detail
    assert result.problems == [result.check(REACHABLE).detail]


def test_a_host_and_a_token_target_the_cloud():
    settings = Settings(mist_host="api.eu.mist.com", mist_apitoken=SecretStr(SECRET), mist_org_id=ORG_ID)
    target = resolve_target(settings)
    assert target.kind == "cloud" and target.base_url == "https://api.eu.mist.com"
    assert target.org_id == ORG_ID
    assert target.describe().startswith("target: Mist cloud https://api.eu.mist.com")
    assert SECRET not in target.describe() + repr(target)


def test_the_command_line_host_wins_over_the_environment():
    settings = Settings(mist_host="api.eu.mist.com", mist_apitoken=SecretStr(SECRET))
    assert resolve_target(settings, "http://127.0.0.1:8900").base_url == "http://127.0.0.1:8900"


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"mist_apitoken": SecretStr(SECRET)}, "MIST_HOST is not"),
        ({"mist_host": "api.mist.com"}, "MIST_APITOKEN is not set"),
        ({"mist_host": "not a host", "mist_apitoken": SecretStr(SECRET)}, "MIST_HOST 'not a host'"),
    ],
)
def test_half_a_cloud_setting_is_a_clear_error(kw, words):
    with pytest.raises(TargetError, match=words):
        resolve_target(Settings(**kw))


async def test_a_cloud_target_yields_a_configured_client():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"privileges": []})

    settings = Settings(mist_host="api.gc1.mist.com", mist_apitoken=SecretStr(f"{SECRET},second"))
    target = resolve_target(settings)
    async with target.client(transport=httpx.MockTransport(handler)) as client:
        await client.get_self()
        assert len(client.token_keys) == 2
    assert str(seen[0].url) == "https://api.gc1.mist.com/api/v1/self"
    assert seen[0].headers["Authorization"] == f"Token {SECRET}"
