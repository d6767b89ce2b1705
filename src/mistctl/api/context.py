"""The service's long-lived wiring, built once in the app's lifespan: `AppContext`.

One state store, one Mist target (a cloud, or the built-in twin), one pooled `httpx.AsyncClient` to
it and one call budget for every token (in Redis when the store is: shared with other processes);
then a `MistClient` per piece of work (cheap: it wraps the shared pool), so each deployment has its
own call ledger and audit trail, and each caller who brings `X-Mist-API-Key` is served with that
token only. Token identities (`GET /self`) are cached briefly under a hash of the token, never the token.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from mistctl.api.jobs import Deployments, Locks
from mistctl.api.metrics import ApiMetrics
from mistctl.config import Settings
from mistctl.designs import Design, load_design
from mistctl.mist.budget import CallBudget, InMemoryCallBudget, token_fingerprint
from mistctl.mist.budget_redis import shared_budget
from mistctl.mist.client import MistClient
from mistctl.mist.clock import Clock, SystemClock
from mistctl.mist.http import build_http_client, default_limits
from mistctl.mist.meter import CallRecord
from mistctl.mist.models import SelfInfo
from mistctl.mist.target import Target, client_for, resolve_target, timeout_for
from mistctl.store.factory import open_store
from mistctl.store.port import StateStore
from mistctl.workflow.deploy import CallLedger

IDENTITY_TTL = 60.0  # seconds a token's GET /self answer is trusted
READY_TTL = 60.0  # a Mist call answered this recently proves Mist reachable without a probe


@dataclass
class AppContext:
    """Everything the routes and service functions share; `request.app.state.ctx`."""

    settings: Settings
    store: StateStore
    target: Target
    design: Design
    http: httpx.AsyncClient
    clock: Clock
    metrics: ApiMetrics
    budget: CallBudget
    locks: Locks
    deployments: Deployments
    monotonic: Callable[[], float] = time.monotonic
    _identities: dict[str, tuple[float, SelfInfo]] = field(default_factory=dict, repr=False)

    @property
    def server_tokens(self) -> list[SecretStr]:
        """The service's own Mist token(s): MIST_APITOKEN, or the built-in twin's admin token."""
        return list(self.target.tokens)

    @property
    def default_org_id(self) -> str | None:
        """The org a request without `org_id` is for (MIST_ORG_ID, or the twin's org)."""
        return self.settings.mist_org_id or self.target.org_id

    @property
    def concurrency(self) -> int:
        return self.settings.mist_concurrency

    def client(self, tokens: Sequence[SecretStr], ledger: CallLedger | None = None) -> MistClient:
        """A Mist client over the shared connection pool and budget; its calls feed `ledger` and metrics."""
        s = self.settings

        def on_call(call: CallRecord) -> None:
            self.metrics.on_call(call)
            if ledger is not None:
                ledger.on_call(call)

        return client_for(self.http, list(tokens), s, clock=self.clock, budget=self.budget, on_call=on_call)

    async def whoami(self, tokens: Sequence[SecretStr]) -> SelfInfo:
        """`GET /self` for the first token, cached for a minute by a hash of the token."""
        key = hashlib.sha256(tokens[0].get_secret_value().encode()).hexdigest()
        now = self.monotonic()
        cached = self._identities.get(key)
        if cached is not None and now - cached[0] < IDENTITY_TTL:
            return cached[1]
        me = await self.client(tokens[:1]).get_self()
        self._identities = {k: v for k, v in self._identities.items() if now - v[0] < IDENTITY_TTL}
        self._identities[key] = (now, me)
        return me

    async def mist_reachable(self) -> None:
        """Return when Mist answered lately, else probe it with `GET /self` (raises a `MistError`)."""
        if self.monotonic() - self.metrics.last_ok_call < READY_TTL:
            return
        await self.client(self.server_tokens[:1]).get_self()

    async def refresh_metrics(self) -> None:
        """Update the gauges read at scrape time."""
        keys = [token_fingerprint(t) for t in self.server_tokens]
        await self.metrics.refresh(self.store, self.budget, keys)


@asynccontextmanager
async def open_context(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                       store: StateStore | None = None, clock: Clock | None = None,
                       metrics: ApiMetrics | None = None) -> AsyncIterator[AppContext]:
    """Build the context (store, target, pool, design); everything is closed and stopped on exit."""
    target = resolve_target(settings)
    design = load_design(settings.mistctl_design, os.environ)  # its ${NAME} secrets
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        the_store = store if store is not None else await stack.enter_async_context(
            open_store(settings.mistctl_state))
        if transport is None and target.app is not None:  # the built-in twin, in this process
            await stack.enter_async_context(target.app.router.lifespan_context(target.app))
            transport = httpx.ASGITransport(app=target.app)
        http = await stack.enter_async_context(build_http_client(
            target.base_url, transport=transport, timeout=timeout_for(settings),
            limits=default_limits(settings.mist_concurrency * 2)))
        # On Redis every process using a token draws from one shared window (workers, replicas, the CLI).
        budget = shared_budget(the_store, settings, clock) or InMemoryCallBudget(
            clock, limit=settings.mist_rate_limit, window=settings.mist_rate_window)
        locks = Locks(the_store)
        ctx = AppContext(settings, the_store, target, design, http, clock, metrics or ApiMetrics(), budget,
                         locks, Deployments(the_store))
        try:
            yield ctx
        finally:
            await ctx.deployments.shutdown()
