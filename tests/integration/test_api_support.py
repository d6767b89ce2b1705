"""Shared helpers of the service's tests (no tests here): the app wired to the twin in-process.

    async with service(inventory_count=5) as svc:        # the app + twin + store, lifespan running
        r = await svc.client.post("/orchestrator/deploy-full-stack", json=..., headers=svc.key)
        svc.twin.objects("sites")                         # what the twin holds: assert on that

The service's own Mist token is the twin's admin token (a "cloud" target at http://twin reached through
an ASGI transport); `svc.key` is a service key header, `svc.mist_key(token)` an X-Mist-API-Key header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from mistctl.api.app import create_app
from mistctl.api.context import AppContext
from mistctl.config import Settings
from mistctl.store.memory import MemoryStore
from mistctl.store.port import StateStore
from tests.support.twin import twin_app, twin_transport

SERVICE_KEY = "svc-key-0123456789abcdef-0123456789abcdef"
OTHER_KEY = "svc-key-fedcba9876543210-fedcba9876543210"


@dataclass
class Harness:
    """A running service and the twin behind it."""

    app: Any
    client: httpx.AsyncClient
    twin_app: Any
    store: StateStore

    @property
    def twin(self) -> Any:
        """The twin's state (objects, inventory, counters)."""
        return self.twin_app.state.twin

    @property
    def ctx(self) -> AppContext:
        ctx: AppContext = self.app.state.ctx
        return ctx

    @property
    def org_id(self) -> str:
        return str(self.twin.org_id)

    @property
    def key(self) -> dict[str, str]:
        """The service-key credentials header."""
        return {"Authorization": f"Bearer {SERVICE_KEY}"}

    @staticmethod
    def mist_key(token: str) -> dict[str, str]:
        """A caller's own Mist token header."""
        return {"X-Mist-API-Key": token}

    def writes(self) -> dict[str, int]:
        """The twin's non-GET calls so far, by route (what a second, idempotent call must not add to)."""
        routes = self.twin.counters.snapshot()["by_route"]
        return {r: n for r, n in routes.items() if not r.startswith("GET ")}

    def serials(self, count: int) -> list[str]:
        """Serials of devices in the twin's org inventory."""
        return [str(d["serial"]) for d in self.twin.inventory()][:count]


def settings_for(twin: Any, *, keys: str | None = f"{SERVICE_KEY},{OTHER_KEY}", **more: Any) -> Settings:
    """Settings pointing the service at the twin with its admin token (nothing read from the environment)."""
    values: dict[str, Any] = {
        "mist_host": "http://twin", "mist_apitoken": SecretStr(twin.state.twin.token), "mist_org_id": None,
        "mistctl_api_keys": SecretStr(keys) if keys else None, "mistctl_state": "memory://",
        "mistctl_design": None, **more,
    }
    return Settings.model_validate(values)


@asynccontextmanager
async def service(*, store: StateStore | None = None, design: Path | None = None, keys: str | None = None,
                  settings: dict[str, Any] | None = None, **twin_config: Any) -> AsyncIterator[Harness]:
    """The service app on a fresh twin (`twin_config`: TwinConfig fields), lifespan started."""
    twin = twin_app(**{"inventory_count": 5, **twin_config})
    the_store = store if store is not None else MemoryStore()
    extra = {"mistctl_design": design, **(settings or {})}
    app_settings = settings_for(twin, **({"keys": keys} if keys is not None else {}), **extra)
    app = create_app(app_settings, transport=twin_transport(twin), store=the_store)
    async with twin.router.lifespan_context(twin), app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Harness(app, client, twin, the_store)


def full_stack_body(svc: Harness, **over: Any) -> dict[str, Any]:
    """The issue's example request, with the twin's org id and two serials of its inventory."""
    return {"org_id": svc.org_id, "site_name": "Branch-NYC-001", "zone_id": 1, "site_id": 5,
            "device_serials": svc.serials(2), **over}
