"""PSK rotation sends the current passphrase as `old_passphrase` and stops, putting it back, when Mist's
answer does not keep it: nobody is locked out.

A `ForgetfulMist` transport stands for a Mist that ignores `old_passphrase`: it drops the field from
the rotation's PUT before the twin sees it (the twin keeps only what the client sends).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from mistctl.bootstrap import Services, open_services
from mistctl.config import Settings
from mistctl.store.memory import MemoryStore
from mistctl.workflow.psk import rotate_psks
from mistctl.workflow.psk_check import RotationUnsafe
from tests.support.engine import apply, example_fleet_for
from tests.support.twin import twin_app

FLEET_PASSPHRASE = "labels-example-pass-02"


class ForgetfulMist(httpx.AsyncBaseTransport):
    """The twin, except that a PSK update's `old_passphrase` is dropped on the way in."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.forget = False
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.forget and request.method == "PUT" and "/psks/" in request.url.path:
            body = json.loads(request.content)
            self.sent.append(dict(body))
            body.pop("old_passphrase", None)
            request = httpx.Request("PUT", request.url, headers={"Authorization": request.headers["Authorization"]},
                                    json=body)
        return await self.inner.handle_async_request(request)


@asynccontextmanager
async def services(app: Any, transport: httpx.AsyncBaseTransport) -> AsyncIterator[Services]:
    twin = app.state.twin
    conf = Settings(mist_host="http://twin", mist_apitoken=twin.token, mist_org_id=twin.org_id,
                    mistctl_state="memory://")
    async with open_services(settings=conf, transport=transport, store=MemoryStore()) as svc:
        yield svc


def _psks(twin: Any) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in twin.objects("psks")}


async def test_rotation_sends_the_current_passphrase_as_old_passphrase() -> None:
    app = twin_app(seed=41)
    transport = ForgetfulMist(app)
    async with services(app, transport) as svc:
        await apply(svc, example_fleet_for(app.state.twin, sites=1))
        outcome = await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
    live = _psks(app.state.twin)["shelf-labels"]
    assert live["old_passphrase"] == FLEET_PASSPHRASE, "the twin keeps only what mistctl sent"
    assert live["passphrase"] == outcome.rotated[0].passphrase.get_secret_value()


async def test_a_mist_that_drops_old_passphrase_stops_the_rotation_and_restores_the_psk(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = twin_app(seed=42)
    twin = app.state.twin
    transport = ForgetfulMist(app)
    async with services(app, transport) as svc:
        await apply(svc, example_fleet_for(twin, sites=1))
        before = _psks(twin)
        transport.forget = True
        with pytest.raises(RotationUnsafe) as stopped:
            await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, every=True)
        runs = [r for r in await svc.store.list_runs(limit=10) if r.kind == "psk-rotate"]
    after = _psks(twin)
    first = transport.sent[0]
    assert first["old_passphrase"] == before[next(iter(before))]["passphrase"] != first["passphrase"]
    assert len(transport.sent) == 2, "one rotation, then the current passphrase put back; no other PSK touched"
    assert {n: p["passphrase"] for n, p in after.items()} == {n: p["passphrase"] for n, p in before.items()}
    assert all("old_passphrase" not in p for p in after.values())
    message = str(stopped.value)
    assert "no old_passphrase" in message and "put the current passphrase back" in message
    assert first["passphrase"] not in message + caplog.text and FLEET_PASSPHRASE not in message + caplog.text
    assert runs and runs[0].status == "failed"


async def test_a_psk_whose_passphrase_mist_does_not_show_is_refused_before_any_write() -> None:
    app = twin_app(seed=43)
    twin = app.state.twin

    async def hide_passphrases(request: httpx.Request) -> httpx.Response:
        answer = await httpx.ASGITransport(app=app).handle_async_request(request)
        if request.method == "GET" and request.url.path.endswith("/psks"):
            await answer.aread()
            listed = [{k: v for k, v in p.items() if k != "passphrase"} for p in json.loads(answer.content)]
            return httpx.Response(200, json=listed, headers={k: v for k, v in answer.headers.items()
                                                             if k.lower().startswith("x-page")})
        return answer

    async with services(app, httpx.ASGITransport(app=app)) as svc:
        await apply(svc, example_fleet_for(twin, sites=1))
    before = _psks(twin)
    async with services(app, httpx.MockTransport(hide_passphrases)) as svc:
        with pytest.raises(RotationUnsafe, match="did not show its current passphrase"):
            await rotate_psks(svc.mist, svc.store, svc.org_id, ledger=svc.ledger, names=["shelf-labels"])
    assert _psks(twin) == before
