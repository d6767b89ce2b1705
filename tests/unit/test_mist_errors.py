"""Error mapping and retries: what reached the transport, what was raised, how long the client slept."""

from __future__ import annotations

import random
from contextlib import asynccontextmanager

import httpx
import pytest

from mistctl.mist import (
    BadRequest,
    Forbidden,
    MalformedResponse,
    ManualClock,
    MistClient,
    MistStatusError,
    MistTransportError,
    NotFound,
    OutcomeUnknown,
    RetryPolicy,
    ServerError,
    Unauthorized,
    build_http_client,
)

TOKEN = "tok-errors-0123456789"
ORG = "org-1"


class Script:
    """Answers from a list, one per request (the last repeats); an exception class is raised instead."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted failure", request=request)
        if isinstance(answer, int):
            return httpx.Response(answer, json={"detail": f"scripted {answer}"})
        return answer


OK_OBJ = httpx.Response(200, json={"id": "x-1", "name": "x"})


@asynccontextmanager
async def client_for(handler, clock=None):
    clock = clock or ManualClock()
    async with build_http_client("api.mist.com", transport=httpx.MockTransport(handler)) as http:
        yield MistClient(http, TOKEN, clock=clock, rng=random.Random(3))


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound), (418, MistStatusError)],
)
async def test_error_statuses_map_to_typed_errors_with_detail(status, cls):
    script = Script(httpx.Response(status, json={"detail": "name is required"}))
    async with client_for(script) as client:
        with pytest.raises(cls) as info:
            await client.create_org(ORG, "sitegroups", {})
    err = info.value
    assert type(err) is cls
    assert (err.status, err.method, err.path) == (status, "POST", "/api/v1/orgs/org-1/sitegroups")
    assert err.detail == "name is required"
    assert "POST /api/v1/orgs/org-1/sitegroups" in str(err) and "name is required" in str(err)
    assert len(script.requests) == 1


async def test_unauthorized_says_how_to_fix_the_token():
    async with client_for(Script(401)) as client:
        with pytest.raises(Unauthorized, match="MIST_APITOKEN"):
            await client.get_self()


async def test_not_found_reads_the_specs_id_body():
    async with client_for(Script(httpx.Response(404, json={"id": "abc"}))) as client:
        with pytest.raises(NotFound) as info:
            await client.get_site("abc")
    assert info.value.detail == "id abc not found"


async def test_inventory_400_keeps_its_body_and_reasons():
    body = {"added": [], "duplicated": [], "error": ["BAD"], "reason": ["BAD: invalid claim code"]}
    async with client_for(Script(httpx.Response(400, json=body))) as client:
        with pytest.raises(BadRequest) as info:
            await client.claim_inventory(ORG, ["BAD"])
    assert info.value.body == body
    assert "invalid claim code" in info.value.detail


async def test_a_non_json_error_body_becomes_a_short_detail():
    async with client_for(Script(httpx.Response(400, text="<html>\n  oops  </html>"))) as client:
        with pytest.raises(BadRequest) as info:
            await client.get_self()
    assert info.value.detail == "<html> oops </html>"


async def test_a_success_that_is_not_json_is_malformed():
    async with client_for(Script(httpx.Response(200, text="not json"))) as client:
        with pytest.raises(MalformedResponse):
            await client.get_self()


async def test_a_list_that_is_not_an_array_is_malformed():
    async with client_for(Script(httpx.Response(200, json={"id": 1}))) as client:
        with pytest.raises(MalformedResponse, match="array"):
            await client.list_sites(ORG)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_calls_retry_5xx_with_growing_backoff(method):
    clock = ManualClock()
    script = Script(503, 502, 500, OK_OBJ)
    async with client_for(script, clock) as client:
        if method == "GET":
            await client.get_network(ORG, "n-1")
        elif method == "PUT":
            await client.update_network(ORG, "n-1", {"name": "n"})
        else:
            await client.delete_network(ORG, "n-1")
    assert len(script.requests) == 4
    policy = RetryPolicy()
    for n, slept in enumerate(clock.sleeps, start=1):
        full = min(policy.backoff_cap, policy.backoff_base * 2 ** (n - 1))
        assert full / 2 <= slept <= full
    assert clock.sleeps[2] > clock.sleeps[0]
    assert client.calls.by_outcome == {"server_error": 3, "ok": 1}


async def test_retries_are_capped_then_the_server_error_is_raised():
    script = Script(503)
    async with client_for(script) as client:
        with pytest.raises(ServerError) as info:
            await client.get_site("s-1")
    assert len(script.requests) == RetryPolicy().max_attempts
    assert info.value.status == 503


async def test_connection_errors_on_get_are_retried_then_raised_as_transport_errors():
    script = Script(httpx.ReadTimeout)
    async with client_for(script) as client:
        with pytest.raises(MistTransportError) as info:
            await client.get_site("s-1")
    assert type(info.value) is MistTransportError
    assert len(script.requests) == RetryPolicy().max_attempts
    assert client.calls.by_outcome == {"transport_error": 4}


async def test_a_put_survives_a_dropped_connection():
    script = Script(httpx.RemoteProtocolError, OK_OBJ)
    async with client_for(script) as client:
        assert (await client.update_site("s-1", {"name": "x"}))["id"] == "x-1"
    assert len(script.requests) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_post_answered_5xx_is_outcome_unknown_and_not_retried(status):
    script = Script(status, OK_OBJ)
    async with client_for(script) as client:
        with pytest.raises(OutcomeUnknown) as info:
            await client.create_org(ORG, "sites", {"name": "s"})
    assert len(script.requests) == 1
    assert info.value.status == status
    assert "look the object up" in str(info.value)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.WriteError])
async def test_a_post_whose_answer_is_lost_is_outcome_unknown(exc):
    script = Script(exc, OK_OBJ)
    async with client_for(script) as client:
        with pytest.raises(OutcomeUnknown):
            await client.create_sitegroup(ORG, {"name": "g"})
    assert len(script.requests) == 1


async def test_a_post_that_never_connected_is_retried():
    script = Script(httpx.ConnectError, OK_OBJ)
    async with client_for(script) as client:
        created = await client.create_sitegroup(ORG, {"name": "g"})
    assert created["id"] == "x-1"
    assert len(script.requests) == 2


async def test_a_post_501_is_a_plain_server_error():
    async with client_for(Script(501)) as client:
        with pytest.raises(ServerError):
            await client.create_wlan(ORG, {"ssid": "corp"})


@pytest.mark.parametrize("call", ["upsert_psk", "delete_old_passphrase", "assign_profile"])
async def test_posts_that_are_safe_to_repeat_are_retried(call):
    script = Script(503, httpx.ReadTimeout, httpx.Response(200, json={"id": "p", "success": []}))
    async with client_for(script) as client:
        if call == "upsert_psk":
            await client.create_psk(ORG, {"name": "a", "passphrase": "12345678", "ssid": "s"}, upsert=True)
        elif call == "delete_old_passphrase":
            await client.delete_old_passphrase(ORG, "p")
        else:
            await client.assign_deviceprofile(ORG, "hub", ["5c5b35000001"])
    assert len(script.requests) == 3
