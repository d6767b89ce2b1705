"""Hostile bodies to the service (in-process, on the twin): each is a 4xx naming the problem, nothing is
written to Mist or to the store, and an unexpected error's 500 names the request id the log carries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mistctl.api.app import create_app
from mistctl.designs import default_design_text
from mistctl.store.memory import MemoryStore
from mistctl.store.models import Run, RunStatus
from tests.integration.test_api_support import SERVICE_KEY, Harness, service, settings_for
from tests.support.twin import twin_app, twin_transport

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
FLEET_ROUTES = ("/plans", "/deployments", "/drift")


async def assert_refused(svc: Harness, route: str, body: Any, expected: str, *, raw: bytes | None = None) -> None:
    """A 422 naming `expected`; no write reached the twin and no run was recorded."""
    if raw is not None:
        headers = {**svc.key, "content-type": "application/json"}
        answer = await svc.client.post(route, content=raw, headers=headers)
    else:
        answer = await svc.client.post(route, json=body, headers=svc.key)
    assert answer.status_code == 422, (route, answer.status_code, answer.text[:300])
    assert expected in answer.text, answer.text[:500]
    assert "Traceback" not in answer.text
    assert svc.writes() == {} and await svc.store.list_runs() == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("alias_bomb.yaml", "aliases (*name) expand"),
        ("alias_loop.yaml", "an alias refers to a value that contains it"),
        ("huge_int.yaml", "an integer of 5000 digits"),
        ("deep_nesting.yaml", "nests deeper than 64 levels"),
        ("zone_true.yaml", "zone: must be a number, not true/false"),
        ("ssid_int.yaml", "ssid: must be a string"),
        ("site_group_name_int.yaml", "name: must be a string"),
        ("auth_type_bogus.yaml", "auth.type: must be one of"),
        ("hide_ssid_yes.yaml", "hide_ssid: must be true or false"),
        ("bands_int.yaml", "bands: must be a list"),
        ("nested_typo.yaml", "unknown key 'power_mni'"),
    ],
)
async def test_a_hostile_fleet_text_is_422_on_every_fleet_route(fixture: str, expected: str) -> None:
    text = (HOSTILE / fixture).read_text()
    async with service() as svc:
        for route in FLEET_ROUTES:
            await assert_refused(svc, route, {"fleet": text}, expected)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


async def test_json_nested_500_deep_is_422_naming_the_depth() -> None:
    async with service() as svc:
        fleet = yaml.safe_load(default_design_text())
        fleet["site_defaults"]["vars"] = {"deep": _nested(500)}
        for route in FLEET_ROUTES:
            await assert_refused(svc, route, None, "nests deeper than 64 levels", raw=_dumps({"fleet": fleet}))


async def test_a_5000_digit_json_number_is_422() -> None:
    raw = b'{"fleet": {"zones": [{"id": ' + b"9" * 5000 + b', "name": "x"}]}}'
    async with service() as svc:
        for route in FLEET_ROUTES:
            await assert_refused(svc, route, None, "holds a number of 5000 characters", raw=raw)


async def test_digits_in_strings_and_ordinary_bodies_pass_the_guard() -> None:
    async with service() as svc:
        fleet = yaml.safe_load(default_design_text())
        fleet["sites"] = [{"name": "S", "zone": 1, "number": 1, "notes": "7" * 5000}]
        answer = await svc.client.post("/plans", json={"fleet": fleet}, headers=svc.key)
        assert answer.status_code == 200, answer.text[:300]


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


class _BrokenStore(MemoryStore):
    async def list_runs(
        self, limit: int = 50, status: RunStatus | None = None, *, include_plan: bool = False
    ) -> list[Run]:
        raise RuntimeError("the disk caught fire")


async def test_a_500_names_the_request_id_of_the_log_line(caplog: pytest.LogCaptureFixture) -> None:
    twin = twin_app(inventory_count=1)
    app = create_app(settings_for(twin), transport=twin_transport(twin), store=_BrokenStore())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with twin.router.lifespan_context(twin), app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            headers = {"Authorization": f"Bearer {SERVICE_KEY}", "X-Request-ID": "req-hostile-42"}
            answer = await client.get("/deployments", headers=headers)
    assert answer.status_code == 500
    assert "request id req-hostile-42" in answer.json()["detail"] and "fire" not in answer.text
    assert answer.headers["x-request-id"] == "req-hostile-42"
    failed = [r for r in caplog.records if r.getMessage().startswith("GET /deployments failed")]
    assert failed and getattr(failed[0], "request_id", None) == "req-hostile-42"
