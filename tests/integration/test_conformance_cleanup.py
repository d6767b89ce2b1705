"""`mistctl conformance` deletes what it made whatever stops it: a refused call, a lost answer, Ctrl-C.

The twin runs in-process behind a transport that trips one chosen request; the twin's state afterwards
is the judge. Passphrases the run sent never appear in its report.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from mist_twin.quirks import Quirks
from mistctl.mist import ManualClock, MistClient, build_http_client
from mistctl.workflow.conformance import new_report, run_conformance
from mistctl.workflow.conformance_model import ConformanceReport
from tests.support.twin import twin_app, twin_transport

Match = Callable[[httpx.Request], bool]


class Tripwire(httpx.AsyncBaseTransport):
    """The twin, with the first request that `match`es refused, answered-then-lost, or cancelled (Ctrl-C)."""

    def __init__(self, app: Any, match: Match, action: str) -> None:
        self.inner = twin_transport(app)
        self.match, self.action, self.fired = match, action, False
        self.bodies: list[bytes] = []
        self.retries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        if self.action == "flaky" and self.match(request):
            self.retries += 1
            if self.retries % 4:  # three 503s, then the real answer: every call costs four
                return httpx.Response(503, json={"detail": "busy (the test)"})
            return await self.inner.handle_async_request(request)
        if self.fired or not self.match(request):
            return await self.inner.handle_async_request(request)
        self.fired = True
        if self.action == "refuse":
            return httpx.Response(400, json={"detail": "refused by the test"})
        if self.action == "lose":
            await self.inner.handle_async_request(request)
            raise httpx.ReadError("the answer was lost")
        raise asyncio.CancelledError  # what asyncio.run delivers on Ctrl-C


@asynccontextmanager
async def conformance_client(app: Any, match: Match, action: str) -> AsyncIterator[tuple[MistClient, Tripwire]]:
    wire = Tripwire(app, match, action)
    async with build_http_client("http://twin", transport=wire) as http:
        yield MistClient(http, app.state.twin.token, clock=ManualClock(), rng=random.Random(3)), wire


def request_to(method: str, suffix: str) -> Match:
    return lambda r: r.method == method and r.url.path.endswith(suffix)


def psk_update(request: httpx.Request) -> bool:
    return request.method == "PUT" and "/psks/" in request.url.path


def assert_nothing_left(app: Any) -> None:
    twin = app.state.twin
    for collection in ("sites", "sitegroups", "psks", "site_settings"):
        assert twin.objects(collection) == [], collection


def passphrases(wire: Tripwire) -> list[str]:
    found = []
    for body in wire.bodies:
        data = json.loads(body) if body else None
        if isinstance(data, dict):
            found += [data[k] for k in ("passphrase", "old_passphrase") if k in data]
    return found


async def test_a_refused_call_mid_way_still_deletes_the_site_group_and_site() -> None:
    app = twin_app(device_count=0)
    async with conformance_client(app, request_to("POST", "/psks"), "refuse") as (client, wire):
        report = await run_conformance(client, new_report(app.state.twin.org_id))
    assert report.error is not None and report.error.startswith("create the PSK") and "refused" in report.error
    assert [m.collection for m in report.made] == ["sitegroups", "sites", "psks"] and report.made[2].id is None
    assert report.findings["vars_replace"].holds is True and report.findings["psk_no_copy_old"].holds is None
    assert report.ok is False and report.left_behind == []
    assert_nothing_left(app)


async def test_a_create_whose_answer_was_lost_is_found_by_name_and_deleted() -> None:
    app = twin_app(device_count=0)
    async with conformance_client(app, request_to("POST", "/sites"), "lose") as (client, _wire):
        report = await run_conformance(client, new_report(app.state.twin.org_id))
    assert report.error is not None and report.error.startswith("create the site")
    assert [(m.collection, m.id is None) for m in report.made] == [("sitegroups", False), ("sites", True)]
    assert report.left_behind == []
    assert_nothing_left(app)


async def test_ctrl_c_during_the_psk_rotation_deletes_everything_made_so_far() -> None:
    app = twin_app(device_count=0)
    report = new_report(app.state.twin.org_id)
    async with conformance_client(app, psk_update, "cancel") as (client, wire):
        with pytest.raises(asyncio.CancelledError):
            await run_conformance(client, report)
        sent = passphrases(wire)
    assert report.interrupted is True and report.ok is False
    assert len(report.made) == 3 and all(m.id for m in report.made)
    assert report.calls > 0 and report.left_behind == []
    assert_nothing_left(app)
    assert sent and not any(p in json.dumps(report.to_json()) for p in sent)


async def test_a_full_run_never_shows_a_passphrase_and_spends_at_most_40_calls() -> None:
    app = twin_app(device_count=0, quirks=Quirks(psk_drop_sent_old=True))
    async with conformance_client(app, lambda _r: False, "refuse") as (client, wire):
        report: ConformanceReport = await run_conformance(client, new_report(app.state.twin.org_id, "fixed"))
    assert report.run_name == "mistctl-conformance-fixed" and report.calls <= 40
    assert report.findings["psk_keeps_sent_old"].holds is False
    assert report.findings["psk_keeps_sent_old"].saw == "old_passphrase absent"
    assert report.findings["psk_delete_old"].holds is None  # nothing to clear: not checked
    assert report.findings["psk_no_copy_old"].holds is True  # this Mist copies nothing by itself either
    assert [f.key for f in report.differing] == ["psk_keeps_sent_old"]
    text = json.dumps(report.to_json())
    assert len(passphrases(wire)) == 4 and not any(p in text for p in passphrases(wire))
    assert_nothing_left(app)


async def test_retries_cannot_push_a_run_past_40_calls_and_it_still_cleans_up() -> None:
    app = twin_app(device_count=0)
    retried: Match = lambda r: r.method in ("GET", "PUT")  # noqa: E731
    async with conformance_client(app, retried, "flaky") as (client, _wire):
        report = await run_conformance(client, new_report(app.state.twin.org_id))
    assert report.error is not None and "stopped to stay under 40" in report.error
    assert report.calls <= 40 and report.left_behind == []
    assert client.calls.by_outcome, "the meter saw the retries"
    assert_nothing_left(app)
