"""The Mist client on its aiohttp wire (mist/aio.py: what `build_http_client` gives for a real host) against
the twin served as a process: answers, pages, 4xx/5xx mapping, a dropped answer after a POST, and the
token kept out of errors, logs and reprs. What the twin holds and counts afterwards is asserted."""

from __future__ import annotations

import logging
import random

import httpx
import pytest

from mist_twin.config import TwinConfig
from mistctl.mist import (
    MistClient,
    MistError,
    NotFound,
    OutcomeUnknown,
    RetryPolicy,
    ServerError,
    SystemClock,
    Unauthorized,
    build_http_client,
)
from mistctl.mist.aio import AioWire
from mistctl.mist.meter import CallRecord
from tests.support.twin import running_twin

pytestmark = pytest.mark.slow
QUICK = RetryPolicy(backoff_base=0.01, backoff_cap=0.02)


def _client(http: httpx.AsyncClient, token: str, records: list[CallRecord] | None = None) -> MistClient:
    on_call = records.append if records is not None else None
    return MistClient(http, token, clock=SystemClock(), policy=QUICK, rng=random.Random(1), on_call=on_call)


async def test_answers_pages_writes_and_status_errors_over_aiohttp() -> None:
    with running_twin(TwinConfig(device_count=0)) as (url, org, token):
        async with build_http_client(url) as http, httpx.AsyncClient(base_url=url) as control:
            assert isinstance(http.wire, AioWire)  # type: ignore[attr-defined]
            records: list[CallRecord] = []
            client = _client(http, token, records)
            assert (await client.get_organization(org))["id"] == org
            made = [await client.create_org(org, "sitegroups", {"name": f"g{i}-é"}) for i in range(5)]
            await client.update_org(org, "sitegroups", made[0]["id"], {"name": "renamed"})
            await client.delete_org(org, "sitegroups", made[1]["id"])
            listed = await client.list_org(org, "sitegroups", page_size=2)  # 4 left: pages of 2 via X-Page-*
            _page, page_headers = await client.list_org_page(org, "sitegroups", page=1, limit=2)
            assert page_headers["x-page-total"] == "4" and page_headers["x-page-limit"] == "2"
            assert sorted(g["name"] for g in listed) == sorted(["renamed", "g2-é", "g3-é", "g4-é"])
            held = (await control.get("/__twin/state")).json()["sitegroups"]
            assert sorted(g["name"] for g in held) == sorted(g["name"] for g in listed)
            with pytest.raises(NotFound):
                await client.get_org(org, "sitegroups", made[1]["id"])
            with pytest.raises(Unauthorized) as bad:
                await _client(http, "wrong-token-0123456789").get_self()
            assert "wrong-token-0123456789" not in str(bad.value)
            counters = (await control.get("/__twin/counters")).json()
        # get, 5 creates, update, delete, 2 pages of 2 (X-Page-Total says 4), the page read alone
        assert [r.status for r in records].count(200) == 1 + 5 + 1 + 1 + 2 + 1
        assert records[-1].status == 404
        assert counters["by_route"]["POST /api/v1/orgs/{org_id}/sitegroups"] == 5


async def test_5xx_is_retried_on_get_and_outcome_unknown_on_post_once() -> None:
    with running_twin(TwinConfig(device_count=0)) as (url, org, token):
        async with build_http_client(url) as http, httpx.AsyncClient(base_url=url) as control:
            client = _client(http, token)
            assert (await control.put("/__twin/faults", json={"fault_rate": 1.0})).status_code == 200
            before = (await control.get("/__twin/counters")).json()["total"]
            with pytest.raises(ServerError):
                await client.get_organization(org)
            after_get = (await control.get("/__twin/counters")).json()["total"]
            with pytest.raises(OutcomeUnknown):
                await client.create_org(org, "sitegroups", {"name": "east"})
            after_post = (await control.get("/__twin/counters")).json()["total"]
        assert after_get - before == QUICK.max_attempts  # every try reached the twin
        assert after_post - after_get == 1  # a POST answered 5xx is never sent again


async def test_a_dropped_answer_after_a_post_is_outcome_unknown_and_sent_once() -> None:
    with running_twin(TwinConfig(drop_rate=1.0, device_count=0)) as (url, org, token):
        async with build_http_client(url) as http, httpx.AsyncClient(base_url=url) as control:
            client = _client(http, token)
            with pytest.raises(OutcomeUnknown) as lost:
                await client.create_org(org, "sitegroups", {"name": "east"})
            assert "look the object up" in str(lost.value)
            counters = (await control.get("/__twin/counters")).json()
            held = (await control.get("/__twin/state")).json()["sitegroups"]
            # a PUT whose answer is lost is retried (idempotent): every try reached the twin
            with pytest.raises(MistError):
                await client.update_org(org, "sitegroups", held[0]["id"], {"name": "west"})
            puts = (await control.get("/__twin/counters")).json()["by_route"]
        assert counters["by_route"]["POST /api/v1/orgs/{org_id}/sitegroups"] == 1
        assert counters["dropped"] == 1
        assert [g["name"] for g in held] == ["east"]  # it happened, the answer was lost
        assert puts["PUT /api/v1/orgs/{org_id}/sitegroups/{sitegroup_id}"] == QUICK.max_attempts


async def test_the_token_is_in_no_log_error_or_repr_on_the_aiohttp_path(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with running_twin(TwinConfig(device_count=0)) as (url, org, token):
        async with build_http_client(url) as http:
            client = _client(http, token)
            await client.get_organization(org)
            with pytest.raises(NotFound) as missing:
                await client.get_org(org, "sitegroups", "00000000-0000-0000-0000-000000000000")
            broken = _client(http, "tok\nen-with-a-line-break-0123456789")
            with pytest.raises(MistError) as bad_header:
                await broken.get_self()
            shown = [repr(client), repr(http), repr(http.wire), str(missing.value), repr(missing.value),  # type: ignore[attr-defined]
                     str(bad_header.value), caplog.text]
    assert all(token not in text for text in shown)
    assert all("en-with-a-line-break" not in text for text in shown)
    assert "not valid HTTP" in str(bad_header.value)
